"""Declaring incidents: classification, IDs, validation, listing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from haetae.clock import clock
from tests.api.helpers import declare, error_code


def test_declare_classifies_by_matrix_and_keeps_every_field(api):
    incident = declare(
        api,
        title="결제 실패 (Payments failing)",
        summary="Checkout returns 502 for everyone",
        services=["payments-api", "checkout", "payments-api"],
        category="application",
        tags=["payment"],
        environment="production",
        impact={"users": 120000, "regions": ["kr"], "features": ["checkout"]},
        business_impact="operations",
        user_impact="many",
        complexity=2,
    )
    assert incident["severity"] == "P2"
    assert incident["severity_source"] == "matrix"
    assert incident["status"] == "triage"
    assert incident["title"] == "결제 실패 (Payments failing)"
    assert incident["services"] == ["payments-api", "checkout"]
    assert incident["impact"] == {"users": 120000, "regions": ["kr"], "features": ["checkout"]}
    # seed 000: (severity x business x user) / complexity = (3 x 2 x 3) / 2
    assert incident["priority_score"] == 9.0
    assert incident["declared_by"] == "admin"
    fetched = api.get(f"/api/v1/incidents/{incident['id']}").json()
    assert fetched["summary"] == "Checkout returns 502 for everyone"
    assert fetched["category"] == "application"


def test_explicit_severity_needs_a_reason(api):
    response = api.post("/api/v1/incidents", json={"title": "x", "severity": "P1"})
    assert response.status_code == 422
    assert error_code(response) == "VALIDATION_ERROR"
    assert "severity_reason" in response.json()["error"]["message"]
    incident = declare(
        api,
        severity="P1",
        severity_reason="CEO's demo in 10 minutes",
        business_impact="inconvenience",
        user_impact="few",
    )
    assert incident["severity"] == "P1"
    assert incident["severity_source"] == "explicit"
    assert incident["severity_reason"] == "CEO's demo in 10 minutes"


def test_unknown_levels_are_refused_with_their_codes(api):
    r = api.post(
        "/api/v1/incidents", json={"title": "x", "business_impact": "money", "user_impact": "all"}
    )
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_IMPACT")
    assert "revenue, operations, inconvenience" in r.json()["error"]["message"]
    r = api.post(
        "/api/v1/incidents", json={"title": "x", "severity": "SEV9", "severity_reason": "because"}
    )
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_SEVERITY")
    r = api.post("/api/v1/incidents", json={"title": "x"})
    assert (r.status_code, error_code(r)) == (422, "SEVERITY_REQUIRED")
    r = api.post(
        "/api/v1/incidents",
        json={
            "title": "x",
            "business_impact": "revenue",
            "user_impact": "all",
            "category": "weather",
        },
    )
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    assert api.get("/api/v1/incidents").json()["total"] == 0


def test_malformed_bodies_get_422_with_the_field_named(api):
    r = api.post(
        "/api/v1/incidents", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    r = api.post(
        "/api/v1/incidents",
        json={"title": "", "business_impact": "revenue", "user_impact": "all", "colour": "red"},
    )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["details"]["fields"]}
    assert {"title", "colour"} <= fields
    assert r.json()["error"]["request_id"] == r.headers["x-request-id"]


def test_ids_use_the_policy_day_and_count_up(api):
    # 23:30 UTC on 1 March is already 2 March in Seoul.
    clock.freeze(datetime(2026, 3, 1, 23, 30, tzinfo=UTC))
    first = declare(api)["id"]
    second = declare(api)["id"]
    assert (first, second) == ("INC-20260302-001", "INC-20260302-002")
    clock.advance(days=1)
    assert declare(api)["id"] == "INC-20260303-001"


def test_twenty_concurrent_declares_get_twenty_distinct_ids(server, api):
    def one(n: int) -> str:
        with httpx.Client(base_url=server.url, headers=api.headers, timeout=60) as client:
            r = client.post(
                "/api/v1/incidents",
                json={"title": f"storm {n}", "severity": "P3", "severity_reason": "load test"},
            )
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = list(pool.map(one, range(20)))
    assert len(set(ids)) == 20
    numbers = sorted(int(i.rsplit("-", 1)[1]) for i in ids)
    assert numbers == list(range(1, 21))


def test_list_filters_and_pages(api):
    clock.freeze(datetime(2026, 5, 4, 1, 0, tzinfo=UTC))
    old = declare(
        api, title="old", services=["search"], business_impact="inconvenience", user_impact="few"
    )
    clock.advance(hours=2)
    p1 = declare(api, title="p1", services=["payments-api"])
    p2 = declare(
        api,
        title="p2",
        services=["Search", "web"],
        business_impact="operations",
        user_impact="many",
    )
    api.post(f"/api/v1/incidents/{p1['id']}/transitions", json={"to": "investigating"})

    def ids(**params):
        body = api.get("/api/v1/incidents", params=params).json()
        return [i["id"] for i in body["items"]]

    assert ids() == [p2["id"], p1["id"], old["id"]]  # newest first
    assert ids(status="investigating") == [p1["id"]]
    assert ids(status="triage,investigating") == [p2["id"], p1["id"], old["id"]]
    assert ids(severity="P4") == [old["id"]]
    assert ids(service="search") == [p2["id"], old["id"]]
    since = (datetime(2026, 5, 4, 1, 0, tzinfo=UTC) + timedelta(hours=1)).isoformat()
    assert ids(since=since) == [p2["id"], p1["id"]]
    page = api.get("/api/v1/incidents", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [old["id"]]
    assert api.get("/api/v1/incidents", params={"limit": 0}).status_code == 422


def test_unknown_incident_is_404_in_the_envelope(api):
    r = api.get("/api/v1/incidents/INC-20990101-001")
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")
    r = api.get("/api/v1/no-such-route")
    assert (r.status_code, error_code(r)) == (404, "NOT_FOUND")


def test_text_the_database_cannot_store_is_refused_not_a_500(api, anon):
    r = api.post(
        "/api/v1/incidents",
        json={"title": "bad\u0000title", "severity": "P3", "severity_reason": "x"},
    )
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    assert r.json()["error"]["details"]["fields"][0]["field"] == "title"
    r = api.post(
        "/api/v1/incidents",
        content='{"title": "\\udbec", "severity": "P3", "severity_reason": "x"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    r = api.post(
        "/api/v1/incidents",
        json={"title": "x", "services": ["a\u0000"], "severity": "P3", "severity_reason": "x"},
    )
    assert r.status_code == 422
    assert api.get("/api/v1/incidents", params={"service": "a\u0000b"}).status_code == 422
    assert api.get("/api/v1/incidents/INC%00-1").status_code == 422
    r = anon.post("/api/v1/auth/login", json={"username": "ad\u0000min", "password": "p"})
    assert r.status_code in (401, 422)
    assert api.get("/api/v1/incidents").json()["total"] == 0


def test_times_that_cannot_be_converted_to_utc_are_refused(api):
    r = api.get("/api/v1/incidents", params={"since": "0001-01-01T00:00:00+01:18"})
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    r = api.post(
        "/api/v1/incidents",
        json={
            "title": "x",
            "severity": "P3",
            "severity_reason": "x",
            "started_at": "9999-12-31T23:59:59-05:00",
        },
    )
    assert r.status_code == 422
    # A naive time is taken as UTC.
    r = api.post(
        "/api/v1/incidents",
        json={
            "title": "x",
            "severity": "P3",
            "severity_reason": "x",
            "started_at": "2026-01-02T03:04:05",
        },
    )
    assert r.json()["started_at"] == "2026-01-02T03:04:05Z"
