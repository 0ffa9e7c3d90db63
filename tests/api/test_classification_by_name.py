"""Categories, roles and severities given by their display names (English or Korean, any case)
are taken as their ids; only values the policy does not know are refused."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.helpers import declare, error_code


def test_declare_takes_a_category_by_its_english_or_korean_name(api):
    assert declare(api, category="Application")["category"] == "application"
    assert declare(api, category="애플리케이션")["category"] == "application"
    assert declare(api, category="EXTERNAL SERVICE")["category"] == "external"
    assert declare(api, category="Infrastructure ")["category"] == "infrastructure"
    stored = api.get("/api/v1/incidents", params={"limit": 10}).json()["items"]
    assert sorted(i["category"] for i in stored) == [
        "application",
        "application",
        "external",
        "infrastructure",
    ]


def test_patch_takes_a_category_by_name_and_records_the_id(api):
    inc = declare(api, category="application")["id"]
    r = api.patch(f"/api/v1/incidents/{inc}", json={"category": "보안"})
    assert r.status_code == 200, r.text
    assert r.json()["category"] == "security"
    changed = [
        e
        for e in api.get(f"/api/v1/incidents/{inc}/timeline").json()
        if e["kind"] == "fields_changed"
    ]
    assert changed[-1]["data"]["changes"]["category"] == {"from": "application", "to": "security"}


def test_an_unknown_category_is_still_refused_naming_the_choices(api):
    r = api.post(
        "/api/v1/incidents",
        json={"title": "x", "business_impact": "revenue", "user_impact": "all", "category": "날씨"},
    )
    assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR")
    error = r.json()["error"]
    assert "application (Application / 애플리케이션)" in error["message"]
    assert error["details"]["field"] == "category"
    assert api.get("/api/v1/incidents").json()["total"] == 0


def test_roles_are_assigned_and_released_by_display_name(api):
    inc = declare(api)["id"]
    r = api.put(f"/api/v1/incidents/{inc}/roles/Incident Commander", json={"assignee": "minji"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "ic"
    r = api.put(
        f"/api/v1/incidents/{inc}/roles/{quote('커뮤니케이션 담당')}", json={"assignee": "jun"}
    )
    assert (r.status_code, r.json()["role"]) == (200, "comms_lead")
    # A hand-over by another spelling of the same role, not a second holder.
    r = api.put(f"/api/v1/incidents/{inc}/roles/IC", json={"assignee": "seo"})
    assert (r.status_code, r.json()["role"]) == (200, "ic")
    assert api.get(f"/api/v1/incidents/{inc}").json()["roles"] == {"ic": "seo", "comms_lead": "jun"}
    assert api.delete(f"/api/v1/incidents/{inc}/roles/COMMS_LEAD").status_code == 204
    assert api.get(f"/api/v1/incidents/{inc}").json()["roles"] == {"ic": "seo"}


def test_an_unknown_role_is_still_refused_with_unknown_role(api):
    inc = declare(api)["id"]
    r = api.put(f"/api/v1/incidents/{inc}/roles/janitor", json={"assignee": "x"})
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_ROLE")
    assert "ic (Incident Commander / 장애 총괄)" in r.json()["error"]["message"]
    assert api.delete(f"/api/v1/incidents/{inc}/roles/janitor").status_code == 422
    assert api.get(f"/api/v1/incidents/{inc}").json()["roles"] == {}


def test_an_explicit_severity_may_be_given_by_its_name(api):
    inc = declare(api, severity="minor", severity_reason="a known, contained fault")
    assert (inc["severity"], inc["severity_source"]) == ("P3", "explicit")
    r = api.patch(
        f"/api/v1/incidents/{inc['id']}", json={"severity": "치명", "severity_reason": "spreading"}
    )
    assert (r.status_code, r.json()["severity"]) == (200, "P1")
    r = api.post(
        "/api/v1/incidents", json={"title": "x", "severity": "SEV9", "severity_reason": "because"}
    )
    assert (r.status_code, error_code(r)) == (422, "UNKNOWN_SEVERITY")
