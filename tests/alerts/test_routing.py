"""Routing rules over real HTTP: policy rules, actions, on_resolve, and API-managed rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from haetae.policy.loader import load_policy_file, parse_policy
from haetae.policy.schema import Policy
from tests.alerts.conftest import am_alert, am_body
from tests.api.helpers import error_code
from tests.support.server import RunningServer

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TEXT = resources.files("haetae.policy").joinpath("defaults", "default.yaml").read_text()


@pytest.fixture
def use_policy(server: RunningServer) -> Iterator[Callable[[Policy], Policy]]:
    """Put a policy in force for one test (the ingest writer reads it on every batch)."""
    original = server.app.state.policy

    def apply(policy: Policy) -> Policy:
        server.app.state.policy = policy
        return policy

    try:
        yield apply
    finally:
        server.app.state.policy = original


@pytest.fixture
def use_routing(use_policy: Callable[[Policy], Policy]) -> Callable[[str], Policy]:
    """The default policy plus a routing section, in force for one test."""
    return lambda routing: use_policy(parse_policy(DEFAULT_TEXT + routing, "routing-test.yaml"))


def incidents(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/incidents", params={"limit": 200}).json()["items"])


def incident(api: httpx.Client, incident_id: str) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/incidents/{incident_id}").json())


def alerts(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/alerts", params={"limit": 500}).json()["items"])


def timeline(api: httpx.Client, incident_id: str) -> list[dict[str, Any]]:
    return list(api.get(f"/api/v1/incidents/{incident_id}/timeline").json())


def sent(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 202, response.text
    return list(response.json()["alerts"])


def fired(sender: Any, *alerts_: dict[str, Any], group: str = "{}:{}") -> list[dict[str, Any]]:
    return sent(sender.alertmanager(am_body(*alerts_, group=group)))


def resolved(alert: dict[str, Any]) -> dict[str, Any]:
    return {**alert, "status": "resolved", "endsAt": "2026-11-21T10:30:00Z"}


# Policy rules

DATABASE = """
routing:
  rules:
    - name: database
      match:
        - {label: team, equals: db}
      severity_map: {critical: P2}
      service: database
      category: infrastructure
      group_by: [cluster]
"""


def test_a_policy_rule_classifies_and_groups_by_its_labels(api, make_sender, use_routing):
    use_routing(DATABASE)
    am = make_sender("alertmanager")
    lag = am_alert("ReplicationLag", team="db", cluster="c1", severity="critical", instance="db-1")
    conns = am_alert("TooManyConns", team="db", cluster="c1", severity="critical", instance="db-2")
    # Two different Alertmanager groups: the rule's group_by decides, not the groupKey.
    [first] = fired(am, lag, group='{}:{alertname="ReplicationLag"}')
    [second] = fired(am, conns, group='{}:{alertname="TooManyConns"}')
    assert first["incident_id"] and second["incident_id"] == first["incident_id"]
    [only] = incidents(api)
    assert only["id"] == first["incident_id"]
    assert only["severity"] == "P2"  # the map, not critical -> P1 by position
    assert only["services"] == ["database"]
    assert only["category"] == "infrastructure"
    assert "routing rule database" in only["severity_reason"]
    for stored in alerts(api):
        assert (stored["rule"], stored["service"], stored["severity"]) == (
            "database",
            "database",
            "P2",
        )
        assert stored["incident_id"] == only["id"]

    other = am_alert(
        "ReplicationLag", team="db", cluster="c2", severity="critical", instance="db-9"
    )
    [third] = fired(am, other, group='{}:{alertname="ReplicationLag"}')
    assert third["incident_id"] not in (None, only["id"])
    second_incident = incident(api, third["incident_id"])
    assert (second_incident["severity"], second_incident["services"]) == ("P2", ["database"])
    assert len(incidents(api)) == 2

    # An alert the rule does not match takes the default rule: severity by position.
    [web] = fired(am, am_alert("HighLatency", team="web", cluster="c1", severity="critical"))
    assert web["incident_id"] not in (None, only["id"], third["incident_id"])
    assert incident(api, web["incident_id"])["severity"] == "P1"
    assert incident(api, web["incident_id"])["category"] is None
    assert len(incidents(api)) == 3


def test_the_same_rule_and_labels_from_two_integrations_are_two_incidents(
    api, make_sender, use_routing
):
    use_routing(DATABASE)
    prod, backup = make_sender("alertmanager"), make_sender("alertmanager")
    alert = am_alert("ReplicationLag", team="db", cluster="c1", severity="critical")
    [a] = fired(prod, alert)
    [b] = fired(backup, alert)
    assert a["incident_id"] and b["incident_id"] and a["incident_id"] != b["incident_id"]


def test_sender_severities_that_are_policy_ids_are_kept_from_alertmanager(api, make_sender):
    am = make_sender("alertmanager")
    [outcome] = fired(am, am_alert("Custom", instance="x", severity="P2"))
    assert incident(api, outcome["incident_id"])["severity"] == "P2"


def test_sender_severities_that_are_policy_ids_are_kept_from_the_generic_webhook(api, make_sender):
    # docs/ingest.md: severity comes from "the generic `severity`"; a sender that already
    # speaks the policy's ids ("P2") keeps its severity, as it does from Alertmanager.
    gen = make_sender("generic")
    [outcome] = sent(gen.generic({"summary": "Queue backlog", "dedup_key": "q", "severity": "P2"}))
    [stored] = alerts(api)
    assert stored["severity"] == "P2", stored
    assert incident(api, outcome["incident_id"])["severity"] == "P2"


# Actions

RECORD = """
routing:
  rules:
    - name: staging-record
      match:
        - {label: env, equals: staging}
      action: record
"""


def test_record_stores_the_alert_and_nothing_else(api, make_sender, use_routing):
    use_routing(RECORD)
    am = make_sender("alertmanager")
    alert = am_alert("DiskFull", env="staging", instance="stg-db-1", severity="critical")
    [outcome] = fired(am, alert)
    assert outcome["outcome"] == "created" and outcome["incident_id"] is None
    [stored] = alerts(api)
    assert stored["id"] == outcome["alert_id"]
    assert (stored["rule"], stored["incident_id"], stored["status"]) == (
        "staging-record",
        None,
        "firing",
    )
    assert stored["severity"] == "P1"  # classified even though nothing is opened
    assert incidents(api) == []

    # A repeat and a resolve change the alert; still no incident.
    assert fired(am, alert)[0]["outcome"] == "updated"
    [gone] = fired(am, resolved(alert))
    assert (gone["outcome"], gone["incident_id"]) == ("resolved", None)
    assert alerts(api)[0]["status"] == "resolved"
    assert incidents(api) == []

    # The rule is specific to its match: a production alert still declares.
    [prod] = fired(am, am_alert("DiskFull", env="prod", instance="db-1", severity="critical"))
    assert prod["incident_id"] is not None
    assert len(incidents(api)) == 1


ATTACH_ONLY = """
routing:
  rules:
    - name: db-warnings
      match:
        - {label: severity, equals: warning}
      action: attach
      group_by: [cluster]
"""


def test_attach_without_an_open_incident_stores_the_alert_only(api, make_sender, use_routing):
    use_routing(ATTACH_ONLY)
    am = make_sender("alertmanager")
    [outcome] = fired(am, am_alert("DiskFilling", cluster="c1", severity="warning"))
    assert outcome["outcome"] == "created" and outcome["incident_id"] is None
    [stored] = alerts(api)
    assert (stored["rule"], stored["incident_id"]) == ("db-warnings", None)
    assert incidents(api) == []
    # A second alert of the same group: still nothing to join.
    [again] = fired(am, am_alert("InodesFilling", cluster="c1", severity="warning"))
    assert again["incident_id"] is None and incidents(api) == []


DECLARE_THEN_ATTACH = """
routing:
  rules:
    - name: db-critical
      match:
        - {label: severity, equals: critical}
      action: declare
      group_by: [cluster]
    - name: db-warnings
      match:
        - {label: severity, equals: warning}
      action: attach
      group_by: [cluster]
"""


def test_attach_joins_the_incident_another_rule_declared(api, make_sender, use_routing):
    # A group is the integration and the group_by values, whichever rule matched: warnings
    # routed by an attach rule join the incident the critical's declare rule opened.
    use_routing(DECLARE_THEN_ATTACH)
    am = make_sender("alertmanager")
    [critical] = fired(am, am_alert("DiskFull", cluster="c1", severity="critical"))
    assert critical["incident_id"] is not None
    [warning] = fired(am, am_alert("DiskFilling", cluster="c1", severity="warning"))
    assert warning["incident_id"] == critical["incident_id"]
    [elsewhere] = fired(am, am_alert("DiskFilling", cluster="c2", severity="warning"))
    assert elsewhere["incident_id"] is None
    assert [a["rule"] for a in sorted(alerts(api), key=lambda a: a["id"])] == [
        "db-critical",
        "db-warnings",
        "db-warnings",
    ]
    assert len(incidents(api)) == 1


def test_attach_joins_the_open_incident_of_its_group(api, make_sender):
    """A declare rule switched to attach keeps feeding its open incidents, opens no new one."""
    am = make_sender("alertmanager")
    rule = {"name": "db", "match": [{"label": "team", "equals": "db"}], "group_by": ["cluster"]}
    assert api.post("/api/v1/routing-rules", json={"rule": rule}).status_code == 201
    [opened] = fired(am, am_alert("DiskFull", team="db", cluster="c1", severity="critical"))
    assert opened["incident_id"] is not None

    attach = {**rule, "action": "attach"}
    assert api.put("/api/v1/routing-rules/db", json={"rule": attach}).status_code == 200
    [joined] = fired(am, am_alert("DiskFilling", team="db", cluster="c1", severity="warning"))
    assert joined["incident_id"] == opened["incident_id"]
    assert len(alerts(api)) == 2
    kinds = [e["kind"] for e in timeline(api, opened["incident_id"])]
    assert kinds.count("alerts_attached") == 2
    # Another cluster has no open incident: the alert is stored, nothing is declared.
    [alone] = fired(am, am_alert("DiskFull", team="db", cluster="c2", severity="critical"))
    assert alone["incident_id"] is None
    assert len(incidents(api)) == 1

    # Once the incident is closed, attach has nothing to join.
    incident_id = opened["incident_id"]
    assert (
        api.post(
            f"/api/v1/incidents/{incident_id}/transitions", json={"to": "canceled", "reason": "x"}
        ).status_code
        == 200
    )
    [late] = fired(am, am_alert("Swap", team="db", cluster="c1", severity="warning"))
    assert late["incident_id"] is None


# on_resolve

ON_RESOLVE = """
routing:
  rules:
    - name: low
      match:
        - {label: tier, equals: low}
      severity: P4
      group_by: [cluster]
      on_resolve: resolved
    - name: minor
      match:
        - {label: tier, equals: minor}
      severity: P3
      group_by: [cluster]
      on_resolve: resolved
    - name: paging
      match:
        - {label: tier, equals: paging}
      severity: P1
      group_by: [cluster]
      on_resolve: resolved
    - name: quiet
      match:
        - {label: tier, equals: quiet}
      severity: P4
      group_by: [cluster]
      on_resolve: nothing
"""


def test_on_resolve_resolved_resolves_when_every_alert_has(api, make_sender, use_routing):
    use_routing(ON_RESOLVE)
    am = make_sender("alertmanager")
    a = am_alert("QueueSlow", tier="low", cluster="c1", instance="q-1")
    b = am_alert("QueueSlow", tier="low", cluster="c1", instance="q-2")
    [first, second] = fired(am, a, b)
    incident_id = first["incident_id"]
    assert incident_id and second["incident_id"] == incident_id
    assert incident(api, incident_id)["severity"] == "P4"  # P4: no resolution conditions

    fired(am, resolved(a))
    assert incident(api, incident_id)["status"] == "triage"  # one alert still fires
    fired(am, resolved(b))
    settled = incident(api, incident_id)
    assert settled["status"] == "resolved"
    assert settled["resolved_at"] is not None
    assert settled["acknowledged_at"] is None  # an automatic move is nobody's ack
    changes = [e for e in timeline(api, incident_id) if e["kind"] == "status_changed"]
    assert [(e["data"]["from"], e["data"]["to"]) for e in changes] == [("triage", "resolved")]
    assert changes[0]["actor"] == f"integration:{am.name}"
    assert changes[0]["data"]["reason"] == "all alerts resolved"
    # The disbanding message and the page say how: in the reader's language.
    assert settled["resolution_summary"] == "resolved when all of its alerts resolved"


def test_on_resolve_resolved_waits_for_unmet_conditions(api, make_sender, use_routing):
    use_routing(ON_RESOLVE)
    am = make_sender("alertmanager")
    alert = am_alert("CheckoutDown", tier="paging", cluster="c1")
    [outcome] = fired(am, alert)
    incident_id = outcome["incident_id"]
    assert incident(api, incident_id)["severity"] == "P1"
    fired(am, resolved(alert))
    assert incident(api, incident_id)["status"] == "monitoring"
    [waiting] = [e for e in timeline(api, incident_id) if e["kind"] == "auto_resolve_waiting"]
    # P1 in the default policy: an IC assigned, an update posted, and three confirmations.
    assert waiting["data"]["unmet"] == [
        "An Incident Commander is assigned",
        "At least one status update was posted",
        "Core functions verified working",
        "Monitoring metrics in normal range for at least 30 minutes",
        "Service recovery notice sent",
    ]
    assert waiting["summary"].startswith("All alerts resolved; resolving waits for: ")
    assert "An Incident Commander is assigned" in waiting["summary"]
    assert incident(api, incident_id)["resolved_at"] is None


def test_on_resolve_resolved_resolves_once_conditions_are_met(api, make_sender, use_routing):
    use_routing(ON_RESOLVE)
    am = make_sender("alertmanager")
    first = am_alert("Search5xx", tier="minor", cluster="c1", instance="s-1")
    second = am_alert("Search5xx", tier="minor", cluster="c1", instance="s-2")
    [outcome, _] = fired(am, first, second)
    incident_id = outcome["incident_id"]
    assert incident(api, incident_id)["severity"] == "P3"
    fired(am, resolved(first))
    # P3's only condition is confirmed before the last alert resolves.
    checked = api.post(
        f"/api/v1/incidents/{incident_id}/conditions/core_functions_verified",
        json={"note": "search answers again"},
    )
    assert checked.status_code == 200, checked.text
    fired(am, resolved(second))
    assert incident(api, incident_id)["status"] == "resolved"
    kinds = [e["kind"] for e in timeline(api, incident_id)]
    assert "auto_resolve_waiting" not in kinds


def test_on_resolve_nothing_leaves_the_incident_as_it_is(api, make_sender, use_routing):
    use_routing(ON_RESOLVE)
    am = make_sender("alertmanager")
    alert = am_alert("BatchLate", tier="quiet", cluster="c1")
    [outcome] = fired(am, alert)
    incident_id = outcome["incident_id"]
    [gone] = fired(am, resolved(alert))
    assert gone["outcome"] == "resolved"
    assert alerts(api)[0]["status"] == "resolved"
    after = incident(api, incident_id)
    assert after["status"] == "triage" and after["resolved_at"] is None
    kinds = [e["kind"] for e in timeline(api, incident_id)]
    assert "status_changed" not in kinds and "auto_resolve_waiting" not in kinds


# Rules managed through the API

POLICY_DB = """
routing:
  rules:
    - name: database
      match:
        - {label: team, equals: db}
      severity_map: {critical: P2}
      service: database
      group_by: [cluster]
"""


def api_rule(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "match": [{"label": "team", "equals": "db"}], **fields}


def routed(api: httpx.Client, sender: Any, cluster: str) -> dict[str, Any]:
    """Fire one team=db critical alert in its own cluster; the alert as stored."""
    alert = am_alert("ReplicationLag", team="db", cluster=cluster, severity="critical")
    [outcome] = fired(sender, alert)
    return dict(api.get(f"/api/v1/alerts/{outcome['alert_id']}").json())


def test_api_rules_come_before_the_policys_and_can_be_changed(api, make_sender, use_routing):
    use_routing(POLICY_DB)
    am = make_sender("alertmanager")
    assert routed(api, am, "c0")["rule"] == "database"

    made = api.post(
        "/api/v1/routing-rules",
        json={
            "rule": api_rule("api-db", severity_map={"critical": "P4"}, group_by=["cluster"]),
            "position": 10,
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["name"], body["position"], body["enabled"]) == ("api-db", 10, True)
    assert body["rule"]["severity_map"] == {"critical": "P4"}
    assert [r["name"] for r in api.get("/api/v1/routing-rules").json()] == ["api-db"]

    first = routed(api, am, "c1")
    assert (first["rule"], first["severity"]) == ("api-db", "P4")
    assert incident(api, first["incident_id"])["severity"] == "P4"
    assert incident(api, first["incident_id"])["services"] == []  # the API rule names none

    changed = api.put(
        "/api/v1/routing-rules/api-db",
        json={
            "rule": api_rule(
                "api-db", severity_map={"critical": "P3"}, service="db-api", group_by=["cluster"]
            ),
            "position": 10,
        },
    )
    assert changed.status_code == 200, changed.text
    second = routed(api, am, "c2")
    assert (second["rule"], second["severity"], second["service"]) == ("api-db", "P3", "db-api")
    assert incident(api, second["incident_id"])["severity"] == "P3"

    assert api.delete("/api/v1/routing-rules/api-db").status_code == 204
    assert api.get("/api/v1/routing-rules").json() == []
    third = routed(api, am, "c3")
    assert (third["rule"], third["severity"], third["service"]) == ("database", "P2", "database")
    assert api.delete("/api/v1/routing-rules/api-db").status_code == 404


def test_disabled_api_rules_are_skipped(api, make_sender, use_routing):
    use_routing(POLICY_DB)
    am = make_sender("alertmanager")
    made = api.post(
        "/api/v1/routing-rules",
        json={"rule": api_rule("off", severity="P4"), "position": 1, "enabled": False},
    )
    assert made.status_code == 201 and made.json()["enabled"] is False
    assert routed(api, am, "c1")["rule"] == "database"
    on = api.put(
        "/api/v1/routing-rules/off", json={"rule": api_rule("off", severity="P4"), "enabled": True}
    )
    assert on.status_code == 200 and on.json()["enabled"] is True
    assert (routed(api, am, "c2")["rule"], routed(api, am, "c3")["severity"]) == ("off", "P4")


def test_api_rules_are_tried_by_position_then_age(api, make_sender):
    am = make_sender("alertmanager")
    for name, position, severity in (("late", 20, "P4"), ("early", 10, "P3"), ("tie", 20, "P2")):
        rule = {"rule": api_rule(name, severity=severity), "position": position}
        assert api.post("/api/v1/routing-rules", json=rule).status_code == 201
    listed = api.get("/api/v1/routing-rules").json()
    assert [r["name"] for r in listed] == ["early", "late", "tie"]
    assert (routed(api, am, "c1")["rule"], routed(api, am, "c1b")["severity"]) == ("early", "P3")
    api.delete("/api/v1/routing-rules/early")
    assert routed(api, am, "c2")["rule"] == "late"  # same position as tie, made first


def test_api_rules_keep_every_matcher_operator(api, make_sender):
    am = make_sender("alertmanager")
    rule = {
        "name": "ops",
        "match": [
            {"label": "team", "regex": "db|dba"},
            {"label": "env", "not": "staging"},
            {"label": "instance", "not_regex": "test-.*"},
            {"field": "integration", "equals": am.name},
        ],
        "severity": "P4",
    }
    made = api.post("/api/v1/routing-rules", json={"rule": rule})
    assert made.status_code == 201, made.text
    assert made.json()["rule"]["match"] == rule["match"]
    assert made.json()["position"] == 100  # the default position

    def rule_for(**labels: str) -> str:
        [outcome] = fired(am, am_alert("Lag", **labels))
        return str(api.get(f"/api/v1/alerts/{outcome['alert_id']}").json()["rule"])

    assert rule_for(team="dba", env="prod", instance="db-1") == "ops"
    assert rule_for(team="dbx", env="prod", instance="db-2") == "default"
    assert rule_for(team="db", env="staging", instance="db-3") == "default"
    assert rule_for(team="db", env="prod", instance="test-1") == "default"
    other = make_sender("alertmanager")
    [outcome] = fired(other, am_alert("Lag", team="db", env="prod", instance="db-4"))
    assert api.get(f"/api/v1/alerts/{outcome['alert_id']}").json()["rule"] == "default"


def fields_of(response: httpx.Response) -> list[str]:
    """The fields a 422 names: `details.fields`, or the single `details.field` that errors
    raised by the services carry throughout the project."""
    details = response.json()["error"]["details"]
    if "fields" in details:
        return [f["field"] for f in details["fields"]]
    return [details["field"]]


def test_api_rule_validation(api):
    post = lambda rule: api.post("/api/v1/routing-rules", json={"rule": rule})  # noqa: E731

    unknown = post(api_rule("x", severity_map={"critical": "P0", "warning": "P3"}))
    assert (unknown.status_code, error_code(unknown)) == (422, "VALIDATION_ERROR")
    assert fields_of(unknown) == ["rule.severity_map.critical"]
    assert "'P0' is not a severity" in unknown.json()["error"]["message"]

    severity = post(api_rule("x", severity="P9"))
    assert (severity.status_code, fields_of(severity)) == (422, ["rule.severity"])
    category = post(api_rule("x", category="infra"))
    assert (category.status_code, fields_of(category)) == (422, ["rule.category"])

    bad_regex = post({"name": "x", "match": [{"label": "team", "regex": "db-(.*"}]})
    assert (bad_regex.status_code, error_code(bad_regex)) == (422, "VALIDATION_ERROR")
    assert fields_of(bad_regex) == ["rule.match.0"]
    assert "not a valid regular expression" in bad_regex.json()["error"]["message"]

    two_ops = post({"name": "x", "match": [{"label": "team", "equals": "a", "not": "b"}]})
    assert (two_ops.status_code, fields_of(two_ops)) == (422, ["rule.match.0"])
    bad_action = post(api_rule("x", action="page"))
    assert (bad_action.status_code, fields_of(bad_action)) == (422, ["rule.action"])
    assert api.get("/api/v1/routing-rules").json() == []  # nothing refused was stored

    assert post(api_rule("x")).status_code == 201
    dup = post(api_rule("x", severity="P2"))
    assert (dup.status_code, error_code(dup)) == (409, "CONFLICT")
    assert [r["rule"] for r in api.get("/api/v1/routing-rules").json()] == [api_rule("x")]

    mismatch = api.put("/api/v1/routing-rules/x", json={"rule": api_rule("y")})
    assert (mismatch.status_code, fields_of(mismatch)) == (422, ["rule.name"])
    missing = api.put("/api/v1/routing-rules/nope", json={"rule": api_rule("nope")})
    assert (missing.status_code, error_code(missing)) == (404, "NOT_FOUND")
    bad_put = api.put("/api/v1/routing-rules/x", json={"rule": api_rule("x", severity="P0")})
    assert (bad_put.status_code, fields_of(bad_put)) == (422, ["rule.severity"])
    assert api.get("/api/v1/routing-rules").json()[0]["rule"] == api_rule("x")


def test_api_rules_are_validated_against_the_policy_in_force(api, make_sender, use_policy):
    use_policy(load_policy_file(REPO / "policies" / "seed-003-critical-major-minor.yaml"))
    p4 = api.post("/api/v1/routing-rules", json={"rule": api_rule("db", severity="P4")})
    assert (p4.status_code, fields_of(p4)) == (422, ["rule.severity"])
    assert "(Critical, Major, Minor)" in p4.json()["error"]["message"]
    minor = api.post("/api/v1/routing-rules", json={"rule": api_rule("db", severity="Minor")})
    assert minor.status_code == 201, minor.text
    am = make_sender("alertmanager")
    stored = routed(api, am, "c1")
    assert (stored["rule"], stored["severity"]) == ("db", "Minor")
    assert incident(api, stored["incident_id"])["severity"] == "Minor"


def test_viewers_can_read_rules_but_not_change_them(api, anon):
    made = api.post("/api/v1/api-keys", json={"name": "wallboard", "role": "viewer"})
    assert made.status_code == 201, made.text
    viewer = {"Authorization": f"Bearer {made.json()['key']}"}
    assert api.post("/api/v1/routing-rules", json={"rule": api_rule("x")}).status_code == 201
    listed = anon.get("/api/v1/routing-rules", headers=viewer)
    assert listed.status_code == 200 and [r["name"] for r in listed.json()] == ["x"]
    create = anon.post("/api/v1/routing-rules", json={"rule": api_rule("y")}, headers=viewer)
    assert (create.status_code, error_code(create)) == (403, "FORBIDDEN")
    change = anon.put("/api/v1/routing-rules/x", json={"rule": api_rule("x")}, headers=viewer)
    assert change.status_code == 403
    assert anon.delete("/api/v1/routing-rules/x", headers=viewer).status_code == 403
    assert anon.get("/api/v1/routing-rules").status_code == 401
    assert [r["name"] for r in api.get("/api/v1/routing-rules").json()] == ["x"]
