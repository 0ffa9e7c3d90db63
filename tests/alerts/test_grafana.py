"""Grafana alerting's webhook contact point over real HTTP (Grafana 10/11 unified alerting)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from haetae.policy.loader import parse_policy
from tests.support.server import RunningServer

FIXTURE = Path(__file__).with_name("grafana-webhook.json")
DEFAULT_TEXT = resources.files("haetae.policy").joinpath("defaults", "default.yaml").read_text()


def notification() -> dict[str, Any]:
    """A fresh copy of the Grafana notification kept next to the tests."""
    return dict(json.loads(FIXTURE.read_text()))


def resolved_notification() -> dict[str, Any]:
    """What Grafana sends when the same alert stops firing."""
    body = notification()
    alert = body["alerts"][0]
    alert.update(
        status="resolved",
        endsAt="2026-11-21T10:17:00Z",
        values={"B": 41.7, "C": 0},
        valueString="[ var='B' labels={instance=web-1:9100} value=41.7 ], "
        "[ var='C' labels={instance=web-1:9100} value=0 ]",
    )
    body.update(
        status="resolved",
        state="ok",
        title="[RESOLVED] HighCPUUsage Infrastructure (web-1:9100 critical platform)",
        message=body["message"].replace("**Firing**", "**Resolved**"),
    )
    return body


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def incidents(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/incidents", params={"limit": 200}).json()["items"])


def alerts(api: httpx.Client) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/alerts", params={"limit": 500}).json()["items"])


def post(sender: Any, body: Any) -> list[dict[str, Any]]:
    answer = sender.post("/ingest/grafana", body)
    assert answer.status_code == 202, answer.text
    return list(answer.json()["alerts"])


def test_the_fixture_is_grafanas_unified_alerting_shape():
    body = notification()
    assert set(body) >= {
        "receiver",
        "status",
        "orgId",
        "alerts",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "version",
        "groupKey",
        "truncatedAlerts",
        "title",
        "state",
        "message",
    }
    [alert] = body["alerts"]
    assert set(alert) >= {
        "status",
        "labels",
        "annotations",
        "startsAt",
        "endsAt",
        "generatorURL",
        "fingerprint",
        "silenceURL",
        "dashboardURL",
        "panelURL",
        "values",
        "valueString",
    }


def test_a_grafana_notification_declares_an_incident(api, make_sender):
    grafana = make_sender("grafana")
    assert grafana.url.endswith("/ingest/grafana")
    body = notification()
    answer = grafana.post("/ingest/grafana", body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    assert (answer.json()["accepted"], answer.json()["truncated_alerts"]) == (1, 0)
    [outcome] = answer.json()["alerts"]
    assert outcome["outcome"] == "created" and outcome["status"] == "firing"
    assert outcome["dedup_key"] == "b3a9e5d1c7f24e08"  # Grafana's fingerprint

    [stored] = alerts(api)
    assert stored["id"] == outcome["alert_id"]
    assert (stored["integration"], stored["dedup_key"]) == (grafana.name, "b3a9e5d1c7f24e08")
    assert stored["summary"] == "CPU usage above 90% on web-1:9100"
    assert stored["details"].startswith("CPU usage on web-1:9100 has been above 90%")
    assert (stored["source"], stored["sender_severity"]) == ("web-1:9100", "critical")
    assert stored["labels"] == body["alerts"][0]["labels"]
    assert stored["labels"]["grafana_folder"] == "Infrastructure"
    assert stored["annotations"]["runbook_url"] == "https://wiki.example.com/runbooks/high-cpu"
    assert stored["generator_url"] == body["alerts"][0]["generatorURL"]
    assert when(stored["starts_at"]) == when("2026-11-21T10:02:00Z")
    assert stored["ends_at"] is None  # Go's zero time while firing

    # The raw payload is the alert as Grafana sent it, its own fields included.
    raw = api.get(f"/api/v1/alerts/{stored['id']}").json()["raw"]
    assert raw == body["alerts"][0]
    assert raw["values"] == {"B": 95.2, "C": 1}
    assert raw["dashboardURL"].startswith("https://grafana.example.com/d/rYdddlPWk")
    assert raw["panelURL"].endswith("&viewPanel=3")
    assert raw["valueString"].startswith("[ var='B'")

    [incident] = incidents(api)
    assert incident["id"] == outcome["incident_id"] == stored["incident_id"]
    assert incident["severity"] == "P1"  # the severity label: critical -> the first
    assert incident["title"] == "CPU usage above 90% on web-1:9100"
    assert incident["status"] == "triage"
    assert incident["tags"] == [f"alert:{grafana.name}"]
    assert when(incident["started_at"]) == when("2026-11-21T10:02:00Z")
    assert when(incident["detected_at"]) >= when(incident["started_at"])


def test_the_resolved_notification_resolves_the_alert_and_settles_the_incident(api, make_sender):
    grafana = make_sender("grafana")
    [fired] = post(grafana, notification())
    # Grafana repeats a firing notification (repeat_interval): the same alert, updated.
    [repeat] = post(grafana, notification())
    assert (repeat["outcome"], repeat["alert_id"]) == ("updated", fired["alert_id"])

    [done] = post(grafana, resolved_notification())
    assert done["outcome"] == "resolved" and done["status"] == "resolved"
    assert (done["alert_id"], done["incident_id"]) == (fired["alert_id"], fired["incident_id"])
    [stored] = alerts(api)
    assert stored["status"] == "resolved" and stored["receipts"] == 3
    assert when(stored["ends_at"]) == when("2026-11-21T10:17:00Z")
    assert stored["resolved_at"] is not None
    raw = api.get(f"/api/v1/alerts/{stored['id']}").json()["raw"]
    assert raw["status"] == "resolved" and raw["values"] == {"B": 41.7, "C": 0}
    incident = api.get(f"/api/v1/incidents/{fired['incident_id']}").json()
    assert incident["status"] == "monitoring"  # the default rule's on_resolve
    assert incident["acknowledged_at"] is None
    assert len(incidents(api)) == 1

    # The same resolve again is for no open alert: accepted and ignored.
    [again] = post(grafana, resolved_notification())
    assert again["outcome"] == "ignored"


def test_without_a_fingerprint_the_key_comes_from_the_labels(api, make_sender):
    grafana = make_sender("grafana")
    body = notification()
    del body["alerts"][0]["fingerprint"]
    [first] = post(grafana, body)
    [second] = post(grafana, copy.deepcopy(body))
    assert first["outcome"] == "created" and second["outcome"] == "updated"
    assert first["dedup_key"] == second["dedup_key"]
    assert len(first["dedup_key"]) == 16 and first["dedup_key"] != "b3a9e5d1c7f24e08"
    # The same labels in another order are the same alert.
    reordered = copy.deepcopy(body)
    labels = reordered["alerts"][0]["labels"]
    reordered["alerts"][0]["labels"] = dict(reversed(list(labels.items())))
    [third] = post(grafana, reordered)
    assert (third["outcome"], third["dedup_key"]) == ("updated", first["dedup_key"])
    [stored] = alerts(api)
    assert stored["receipts"] == 3 and stored["dedup_key"] == first["dedup_key"]
    assert len(incidents(api)) == 1

    # Another instance is another alert; the resolve finds the key from its labels too.
    other = copy.deepcopy(body)
    other["alerts"][0]["labels"]["instance"] = "web-2:9100"
    [fourth] = post(grafana, other)
    assert fourth["outcome"] == "created" and fourth["dedup_key"] != first["dedup_key"]
    gone = resolved_notification()
    del gone["alerts"][0]["fingerprint"]
    [done] = post(grafana, gone)
    assert (done["outcome"], done["alert_id"]) == ("resolved", first["alert_id"])


def test_alerts_of_one_grafana_notification_share_an_incident(api, make_sender):
    grafana = make_sender("grafana")
    body = notification()
    second = copy.deepcopy(body["alerts"][0])
    second["labels"] = {**second["labels"], "instance": "web-2:9100", "severity": "warning"}
    second["annotations"]["summary"] = "CPU usage above 90% on web-2:9100"
    second["fingerprint"] = "0c4d2e9a81f37b56"
    # A NoData alert of the same rule group carries no values.
    second["values"] = None
    second["valueString"] = ""
    body["alerts"].append(second)
    body["title"] = "[FIRING:2] HighCPUUsage Infrastructure (platform)"
    outcomes = post(grafana, body)
    assert [o["dedup_key"] for o in outcomes] == ["b3a9e5d1c7f24e08", "0c4d2e9a81f37b56"]
    assert outcomes[0]["incident_id"] and outcomes[1]["incident_id"] == outcomes[0]["incident_id"]
    [incident] = incidents(api)
    assert incident["severity"] == "P1"
    raw = api.get(f"/api/v1/alerts/{outcomes[1]['alert_id']}").json()["raw"]
    assert raw["values"] is None and raw["fingerprint"] == "0c4d2e9a81f37b56"


@pytest.fixture
def use_routing(server: RunningServer) -> Iterator[Callable[[str], None]]:
    original = server.app.state.policy

    def apply(routing: str) -> None:
        server.app.state.policy = parse_policy(DEFAULT_TEXT + routing, "grafana-routing.yaml")

    try:
        yield apply
    finally:
        server.app.state.policy = original


def test_rules_can_match_grafanas_labels_and_the_integration_type(api, make_sender, use_routing):
    use_routing(
        """
routing:
  rules:
    - name: grafana-infra
      match:
        - {field: integration_type, equals: grafana}
        - {label: grafana_folder, equals: Infrastructure}
      severity_map: {critical: P2}
      category: infrastructure
      service_label: team
      group_by: [grafana_folder]
"""
    )
    grafana = make_sender("grafana")
    [outcome] = post(grafana, notification())
    [stored] = alerts(api)
    assert (stored["rule"], stored["severity"], stored["service"]) == (
        "grafana-infra",
        "P2",
        "platform",
    )
    incident = api.get(f"/api/v1/incidents/{outcome['incident_id']}").json()
    assert (incident["severity"], incident["category"], incident["services"]) == (
        "P2",
        "infrastructure",
        ["platform"],
    )
    # The same body from an Alertmanager integration is not matched by the grafana rule.
    am = make_sender("alertmanager")
    answer = am.post("/ingest/grafana", notification())
    assert answer.status_code == 202
    from_am = api.get(f"/api/v1/alerts/{answer.json()['alerts'][0]['alert_id']}").json()
    assert (from_am["rule"], from_am["severity"]) == ("default", "P1")
