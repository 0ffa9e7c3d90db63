"""Teams, services and escalation policies over HTTP."""

from __future__ import annotations

from haetae.db import Database
from haetae.escalation import policies
from haetae.policy.schema import Policy
from tests.api.helpers import error_code

PAGE = {
    "id": "payments-page",
    "name": {"en": "Page payments", "ko": "결제 호출"},
    "repeat": 1,
    "steps": [
        {"notify": [{"oncall": "primary"}], "wait": "10m"},
        {"notify": [{"team": "payments", "members": "leads"}, {"user": "kim"}]},
    ],
}


def test_teams_have_members_and_leads(as_user, api):
    for name in ("kim", "lee", "park"):
        as_user(name)
    r = api.post(
        "/api/v1/teams",
        json={"id": "payments", "name": "Payments", "members": ["kim", "lee"], "leads": ["park"]},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["members"], r.json()["leads"]) == (["kim", "lee"], ["park"])
    assert api.post("/api/v1/teams", json={"id": "payments"}).status_code == 409
    r = api.post("/api/v1/teams/payments/members", json={"username": "kim", "role": "lead"})
    assert (r.json()["members"], r.json()["leads"]) == (["lee"], ["kim", "park"])
    r = api.delete("/api/v1/teams/payments/members/lee")
    assert r.json()["members"] == []
    unknown = api.put("/api/v1/teams/payments", json={"id": "payments", "members": ["ghost"]})
    assert unknown.status_code == 422
    assert error_code(unknown) == "UNKNOWN_USER"
    replaced = api.put("/api/v1/teams/payments", json={"id": "payments", "members": ["lee"]})
    assert (replaced.json()["members"], replaced.json()["leads"]) == (["lee"], [])
    assert [t["id"] for t in api.get("/api/v1/teams").json()] == ["payments"]
    assert api.delete("/api/v1/teams/payments").status_code == 204
    assert api.get("/api/v1/teams/payments").status_code == 404


def test_services_name_their_team_schedule_and_escalation_per_severity(api, db: Database):
    api.post("/api/v1/teams", json={"id": "payments"})
    body = {
        "id": "checkout",
        "name": "Checkout",
        "team": "payments",
        "escalation": {"P1": ["oncall-page", "p1-matrix"]},
    }
    r = api.post("/api/v1/services", json=body)
    assert r.status_code == 201, r.text
    assert r.json() == {**body, "description": "", "schedule": None}
    for bad, code in [
        ({**body, "id": "x", "team": "nobody"}, "UNKNOWN_TEAM"),
        ({**body, "id": "x", "schedule": "nowhere"}, "VALIDATION_ERROR"),
        ({**body, "id": "x", "escalation": {"P9": ["oncall-page"]}}, "VALIDATION_ERROR"),
        ({**body, "id": "x", "escalation": {"P1": ["ghost"]}}, "VALIDATION_ERROR"),
    ]:
        refused = api.post("/api/v1/services", json=bad)
        assert refused.status_code == 422, refused.text
        assert error_code(refused) == code
    assert "ghost" in refused.json()["error"]["message"]
    r = api.put("/api/v1/services/checkout", json={**body, "escalation": {}})
    assert r.json()["escalation"] == {}
    assert [s["id"] for s in api.get("/api/v1/services").json()] == ["checkout"]
    # A deleted team leaves the service without one.
    api.delete("/api/v1/teams/payments")
    assert api.get("/api/v1/services/checkout").json()["team"] is None
    assert api.delete("/api/v1/services/checkout").status_code == 204
    assert api.get("/api/v1/services/checkout").status_code == 404


def test_escalation_policies_from_the_api_list_beside_the_policy_files(
    as_user, api, db: Database, policy: Policy
):
    as_user("kim")
    api.post("/api/v1/teams", json={"id": "payments"})
    listed = {p["id"]: p["source"] for p in api.get("/api/v1/escalation-policies").json()}
    assert listed == {
        "oncall-page": "policy",
        "p1-matrix": "policy",
        "p2-matrix": "policy",
        "p3-matrix": "policy",
    }
    r = api.post("/api/v1/escalation-policies", json=PAGE)
    assert r.status_code == 201, r.text
    assert (r.json()["source"], r.json()["spec"]["steps"][0]["wait"]) == ("api", "10m")
    assert api.post("/api/v1/escalation-policies", json=PAGE).status_code == 409
    # Replacing a policy-file policy: the API's wins and is marked so.
    own = {"id": "oncall-page", "steps": [{"notify": [{"oncall": "primary"}], "wait": "5m"}]}
    r = api.put("/api/v1/escalation-policies/oncall-page", json=own)
    assert (r.json()["source"], r.json()["overrides_policy_file"]) == ("api", True)
    with db.session(write=False) as session:
        chosen = policies.resolve(session, policy, "oncall-page")
    assert chosen is not None and chosen.steps[0].wait == "5m"
    listed = {p["id"]: p["source"] for p in api.get("/api/v1/escalation-policies").json()}
    assert listed["oncall-page"] == "api" and listed["payments-page"] == "api"
    # Deleting it brings the policy file's back; the file's own cannot be deleted.
    assert api.delete("/api/v1/escalation-policies/oncall-page").status_code == 204
    assert api.get("/api/v1/escalation-policies/oncall-page").json()["source"] == "policy"
    refused = api.delete("/api/v1/escalation-policies/p1-matrix")
    assert refused.status_code == 409


def test_escalation_policies_with_bad_steps_or_unknown_targets_are_refused(api):
    for body, needle in [
        ({"id": "x", "steps": []}, "steps"),
        ({"id": "x", "steps": [{"notify": [{"user": "ghost"}]}]}, "unknown user 'ghost'"),
        ({"id": "x", "steps": [{"notify": [{"team": "nope"}]}]}, "unknown team 'nope'"),
        ({"id": "x", "steps": [{"notify": [{"role": "wizard"}]}]}, "wizard"),
        ({"id": "x", "steps": [{"notify": [{"oncall": "primary"}], "wait": "soon"}]}, "soon"),
        ({"id": "x", "steps": [{"notify": [{"user": "a", "team": "b"}]}]}, "exactly one"),
    ]:
        r = api.post("/api/v1/escalation-policies", json=body)
        assert r.status_code == 422, (body, r.text)
        assert error_code(r) == "VALIDATION_ERROR"
        assert needle in r.text, r.text
