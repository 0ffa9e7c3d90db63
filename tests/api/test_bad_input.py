"""Out-of-range numbers and over-long text are refused with 422, the same way everywhere.

PostgreSQL is the database that overflows (32-bit integer columns, `varchar(n)`); SQLite
stores what it is given, so these run on both and must answer the same.
"""

from __future__ import annotations

import httpx
import pytest

from tests.alerts.conftest import am_alert, am_body
from tests.api.helpers import declare, error_code

HUGE = 10**20


def fields_of(response: httpx.Response) -> list[str]:
    details = response.json()["error"].get("details", {})
    return [f["field"] for f in details.get("fields", [])] or [details.get("field")]


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert error_code(response) == "VALIDATION_ERROR"
    assert any(f == field or f.startswith(field + ".") for f in fields_of(response)), fields_of(
        response
    )


def test_impact_users_beyond_any_column_is_refused_on_declare_and_patch(api):
    refused(
        api.post(
            "/api/v1/incidents",
            json={
                "title": "t",
                "business_impact": "revenue",
                "user_impact": "all",
                "impact": {"users": HUGE},
            },
        ),
        "impact.users",
    )
    incident = declare(api)
    refused(
        api.patch(f"/api/v1/incidents/{incident['id']}", json={"impact": {"users": HUGE}}),
        "impact.users",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("environment", "e" * 60_000),  # under the test server's 64 KiB body limit
        ("environment", "e" * 65),
        ("category", "c" * 65),
        ("services", ["s" * 201]),
        ("services", [f"svc-{n}" for n in range(101)]),
        ("tags", [f"tag-{n}" for n in range(101)]),
        ("tags", ["t" * 201]),
        ("business_impact", "b" * 65),
        ("user_impact", "u" * 65),
        ("severity", "s" * 33),
    ],
)
def test_declare_and_patch_refuse_the_same_over_long_values(api, field, value):
    base = {"title": "t", "business_impact": "revenue", "user_impact": "all"}
    extra = {"severity_reason": "because"} if field == "severity" else {}
    refused(api.post("/api/v1/incidents", json={**base, field: value, **extra}), field)
    incident = declare(api)
    refused(api.patch(f"/api/v1/incidents/{incident['id']}", json={field: value, **extra}), field)
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()[field] != value


def test_impact_lists_and_texts_are_bounded(api):
    incident = declare(api)
    for impact in (
        {"regions": ["r" * 201]},
        {"regions": [f"r{n}" for n in range(101)]},
        {"features": [f"f{n}" for n in range(101)]},
    ):
        refused(api.patch(f"/api/v1/incidents/{incident['id']}", json={"impact": impact}), "impact")


def test_rotation_priority_beyond_an_integer_column_is_refused(api):
    assert (
        api.post(
            "/api/v1/users", json={"username": "alice", "password": "alice-password"}
        ).status_code
        == 201
    )
    spec = {
        "id": "ops",
        "rotations": [
            {
                "name": "weekly",
                "handoff": "2026-03-02T09:00",
                "participants": ["alice"],
                "priority": HUGE,
            }
        ],
    }
    refused(api.post("/api/v1/schedules", json=spec), "rotations.0.priority")


def test_a_service_label_longer_than_the_column_still_makes_its_alert(api, server):
    created = api.post("/api/v1/integrations", json={"name": "am", "type": "alertmanager"})
    token = created.json()["token"]
    alert = am_alert("Long", service="s" * 5000)
    answer = httpx.post(
        f"{server.url}/ingest/alertmanager",
        json=am_body(alert),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 202, answer.text
    stored = api.get("/api/v1/alerts").json()["items"]
    assert len(stored) == 1 and stored[0]["incident_id"]
    assert stored[0]["service"] == "s" * 200


@pytest.mark.parametrize("zone", ["Ṱ̺̺o͞ ̷i̲̬n̝̗v̟̜o̶̙kè͚ " * 20, "Asia/" + "x" * 300, "Asia\x00Seoul"])
def test_a_time_zone_no_file_could_be_named_is_refused_not_a_500(api, zone):
    # Found by the fuzz run: ZoneInfo raised OSError (file name too long) through the 422.
    schedule = {"id": "night", "name": "Night", "time_zone": zone, "rotations": []}
    created = api.post("/api/v1/schedules", json=schedule)
    assert (created.status_code, error_code(created)) == (422, "VALIDATION_ERROR")
    assert "is not an IANA time zone" in created.text
    api.post("/api/v1/users", json={"username": "tz", "role": "viewer"})
    profile = api.patch("/api/v1/users/tz/profile", json={"time_zone": zone})
    assert profile.status_code == 422
