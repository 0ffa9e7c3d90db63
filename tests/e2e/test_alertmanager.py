"""Real Prometheus Alertmanagers notify a running Haetae; what Haetae made, seen through its API.

Alertmanager sends on its own timers (group_wait, group_interval), so every check waits
for Haetae's state with `eventually` under a generous deadline; nothing here asserts a
duration.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from tests.support.alertmanager import (
    Alertmanager,
    AlertmanagerPair,
    firing,
    resolved,
)

T = TypeVar("T")
DEADLINE = 60.0  # seconds; Alertmanager's timers here are 1 s, so this is very generous


def eventually(
    check: Callable[[], T], *, timeout: float = DEADLINE, why: Callable[[], str] = str
) -> T:
    """Run `check` until it stops raising AssertionError; past the deadline, raise its last."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError as failure:
            if time.monotonic() > deadline:
                raise AssertionError(f"{failure}\n{why()}") from failure
        time.sleep(0.2)


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def make_integration(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.post("/api/v1/integrations", json={"name": name, "type": "alertmanager"})
    assert response.status_code == 201, response.text
    created = dict(response.json())
    assert created["token"] and created["url"], created
    return created


def list_alerts(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """Every alert GET /api/v1/alerts has for these filters, across pages."""
    found: list[dict[str, Any]] = []
    while True:
        response = api.get("/api/v1/alerts", params={**params, "limit": 200, "offset": len(found)})
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["items"])
        if not page["items"] or len(found) >= page["total"]:
            return found


def list_incidents(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/api/v1/incidents", params={"limit": 200})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"]), page
    return list(page["items"])


def incident(api: httpx.Client, incident_id: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/incidents/{incident_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def by_label(alerts: list[dict[str, Any]], name: str) -> dict[str, dict[str, Any]]:
    return {alert["labels"][name]: alert for alert in alerts}


@pytest.fixture
def integration(api: httpx.Client) -> dict[str, Any]:
    return make_integration(api, "prod-am")


@pytest.fixture
def am_factory(integration: dict[str, Any]) -> Iterator[Callable[..., Alertmanager]]:
    """Start Alertmanagers that notify the integration's URL with its token; stop them after."""
    started: list[Alertmanager] = []

    def start(**options: Any) -> Alertmanager:
        am = Alertmanager(integration["url"], token=integration["token"], **options)
        started.append(am)
        return am.start()

    yield start
    for am in started:
        am.stop()


def test_firing_alert_opens_an_incident_and_resolving_it_moves_the_incident_to_monitoring(
    api: httpx.Client, am_factory: Callable[..., Alertmanager]
) -> None:
    am = am_factory()
    labels = {
        "alertname": "CheckoutLatencyHigh",
        "severity": "critical",
        "service": "payments-api",
        "instance": "web-1",
    }
    annotations = {"summary": "Checkout p99 over 3 s", "description": "p99 is 4.2 s on web-1"}
    # The alert started ten minutes before anyone (Haetae) heard of it: time to detect.
    starts_at = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=123_000)
    before = datetime.now(UTC)
    am.post_alerts([firing(labels, annotations, starts_at=starts_at)])

    def one_alert_with_an_incident() -> dict[str, Any]:
        alerts = list_alerts(api)
        assert len(alerts) == 1, alerts
        assert alerts[0]["incident_id"], alerts[0]
        return alerts[0]

    alert = eventually(one_alert_with_an_incident, why=am.log)
    after = datetime.now(UTC)
    assert alert["status"] == "firing"
    assert alert["labels"] == labels
    assert alert["annotations"] == annotations
    # Alertmanager's fingerprint is the alert's identity.
    assert alert["dedup_key"] == am.alerts()[0]["fingerprint"]
    assert parse_time(alert["starts_at"]) == starts_at

    incidents = list_incidents(api)
    assert [i["id"] for i in incidents] == [alert["incident_id"]]
    opened = incident(api, alert["incident_id"])
    assert opened["severity"] == "P1"  # severity=critical -> the default policy's first
    assert parse_time(opened["started_at"]) == starts_at
    detected = parse_time(opened["detected_at"])
    assert before <= detected <= after
    assert detected == parse_time(alert["received_at"])
    assert parse_time(opened["started_at"]) < detected

    timeline = api.get(f"/api/v1/incidents/{opened['id']}/timeline")
    assert timeline.status_code == 200, timeline.text
    on_timeline = [e for e in timeline.json() if alert["id"] in e["data"].get("alerts", [])]
    assert on_timeline, timeline.json()

    # Resolve it in Alertmanager: its resolved notification moves the incident on.
    am.post_alerts([resolved(labels, annotations, starts_at=starts_at)])

    def resolved_and_monitoring() -> None:
        alerts = list_alerts(api)
        assert [(a["id"], a["status"]) for a in alerts] == [(alert["id"], "resolved")]
        assert incident(api, opened["id"])["status"] == "monitoring"

    eventually(resolved_and_monitoring, why=am.log)
    assert [i["id"] for i in list_incidents(api)] == [opened["id"]]
    assert am.notifications()["failed"] == 0, am.log()


def test_a_storm_of_200_alerts_in_3_groups_makes_3_incidents(
    api: httpx.Client, am_factory: Callable[..., Alertmanager]
) -> None:
    am = am_factory(group_by=("alertname",))
    sizes = {"DiskFull": 70, "HighLatency": 70, "ErrorRate": 60}
    storm = [
        firing(
            {"alertname": name, "severity": "warning", "instance": f"node-{n:03d}"},
            {"summary": f"{name} on node-{n:03d}"},
        )
        for name, size in sizes.items()
        for n in range(size)
    ]
    assert len(storm) == 200
    am.post_alerts(storm)

    def all_200_arrived() -> list[dict[str, Any]]:
        alerts = list_alerts(api)
        assert len(alerts) == 200, len(alerts)
        assert all(a["incident_id"] for a in alerts)
        return alerts

    alerts = eventually(all_200_arrived, why=am.log)
    incidents = list_incidents(api)
    assert len(incidents) == 3, [(i["id"], i["title"]) for i in incidents]
    assert len({a["dedup_key"] for a in alerts}) == 200

    for opened in incidents:
        members = list_alerts(api, incident_id=opened["id"])
        names = {a["labels"]["alertname"] for a in members}
        assert len(names) == 1, names
        assert len(members) == sizes[names.pop()]
    assert am.notifications()["failed"] == 0, am.log()


def test_an_ha_pair_sending_everything_twice_makes_one_alert_per_fingerprint_and_one_incident(
    api: httpx.Client, integration: dict[str, Any]
) -> None:
    pair = AlertmanagerPair(integration["url"], token=integration["token"])
    with pair:
        starts_at = datetime.now(UTC) - timedelta(minutes=2)
        group = [
            {"alertname": "ReplicaLag", "severity": "critical", "instance": f"db-{n}"}
            for n in (1, 2, 3)
        ]
        pair.post_alerts([firing(labels, starts_at=starts_at) for labels in group])

        def both_peers_delivered() -> None:
            # Each peer's webhook succeeded at least once, so Haetae took both copies.
            for member in pair.members:
                counts = member.notifications()
                assert counts["total"] - counts["failed"] >= 1, (member.url, counts)
            delivered = list_alerts(api)
            assert len(delivered) == 3
            # Alertmanager counts a send when it starts it: wait for both copies to land.
            assert all(a["receipts"] >= 2 for a in delivered), delivered

        eventually(both_peers_delivered, why=pair.log)
        alerts = list_alerts(api)
        fingerprints = {a["fingerprint"] for a in pair.members[0].alerts()}
        assert fingerprints == {a["fingerprint"] for a in pair.members[1].alerts()}
        assert sorted(a["dedup_key"] for a in alerts) == sorted(fingerprints)
        assert {a["status"] for a in alerts} == {"firing"}
        assert len({a["incident_id"] for a in alerts}) == 1
        assert len(list_incidents(api)) == 1
        incident_id = alerts[0]["incident_id"]

        # Both peers send the resolve too: still one alert each, resolved, one incident.
        pair.post_alerts([resolved(labels, starts_at=starts_at) for labels in group])

        def all_resolved() -> None:
            current = list_alerts(api)
            assert sorted(a["dedup_key"] for a in current) == sorted(fingerprints)
            assert {a["status"] for a in current} == {"resolved"}
            assert incident(api, incident_id)["status"] == "monitoring"

        eventually(all_resolved, why=pair.log)
        # Let both peers' resolved notifications land, then look again.
        eventually(
            lambda: _resolved_sent_by_each(pair),
            why=pair.log,
        )
        current = list_alerts(api)
        assert sorted(a["dedup_key"] for a in current) == sorted(fingerprints)
        assert {a["status"] for a in current} == {"resolved"}
        assert [i["id"] for i in list_incidents(api)] == [incident_id]
        assert pair.notifications()["failed"] == 0, pair.log()


def _resolved_sent_by_each(pair: AlertmanagerPair) -> None:
    for member in pair.members:
        counts = member.notifications()
        assert counts["total"] - counts["failed"] >= 2, (member.url, counts)


def test_korean_label_and_annotation_values_round_trip_unchanged(
    api: httpx.Client, am_factory: Callable[..., Alertmanager]
) -> None:
    am = am_factory(group_by=("team",))
    labels = {
        "alertname": "PaymentLatency",
        "severity": "warning",
        "team": "결제팀",
        "service": "결제-api",
    }
    annotations = {
        "summary": "결제 서비스 지연",
        "description": "p99 지연이 3초를 넘었습니다 — 카드 승인 단계 확인 필요",
    }
    am.post_alerts([firing(labels, annotations)])

    def arrived() -> dict[str, Any]:
        alerts = list_alerts(api)
        assert len(alerts) == 1, alerts
        return alerts[0]

    alert = eventually(arrived, why=am.log)
    assert alert["labels"] == labels
    assert alert["annotations"] == annotations
    assert alert["labels"]["team"] == "결제팀"
    assert alert["annotations"]["summary"] == "결제 서비스 지연"
    assert alert["incident_id"]
    assert len(list_incidents(api)) == 1


def test_alerts_left_out_of_a_truncated_notification_are_not_resolved(
    api: httpx.Client, am_factory: Callable[..., Alertmanager]
) -> None:
    # Alertmanager puts a group's alerts in label order and keeps the first max_alerts,
    # counting the rest in truncatedAlerts.
    am = am_factory(group_by=("alertname",), max_alerts=2)

    def labels(instance: str) -> dict[str, str]:
        return {"alertname": "QueueBacklog", "severity": "critical", "instance": instance}

    starts_at = datetime.now(UTC) - timedelta(minutes=1)
    am.post_alerts([firing(labels(f"i{n}"), starts_at=starts_at) for n in (1, 2, 3, 4, 5)])

    def first_two() -> dict[str, dict[str, Any]]:
        seen = by_label(list_alerts(api), "instance")
        assert set(seen) == {"i1", "i2"}, sorted(seen)  # i3..i5 truncated
        return seen

    eventually(first_two, why=am.log)

    # i0 sorts first: the next notification carries i0 and i1, and leaves out i2.
    am.post_alerts([firing(labels("i0"), starts_at=starts_at)])

    def i0_arrived() -> dict[str, dict[str, Any]]:
        seen = by_label(list_alerts(api), "instance")
        assert set(seen) == {"i0", "i1", "i2"}, sorted(seen)
        return seen

    seen = eventually(i0_arrived, why=am.log)
    assert {name: a["status"] for name, a in seen.items()} == {
        "i0": "firing",
        "i1": "firing",
        "i2": "firing",  # missing from the payload, not resolved
    }
    incident_id = seen["i1"]["incident_id"]
    assert incident_id and {a["incident_id"] for a in seen.values()} == {incident_id}

    # Resolve i1: the next notification is [i0, i1 resolved], truncated 4; i2 is still
    # left out and must stay firing, so the incident must not move to monitoring.
    am.post_alerts([resolved(labels("i1"), starts_at=starts_at)])

    def i1_resolved() -> dict[str, dict[str, Any]]:
        seen = by_label(list_alerts(api), "instance")
        assert seen["i1"]["status"] == "resolved", seen["i1"]
        return seen

    seen = eventually(i1_resolved, why=am.log)
    assert set(seen) == {"i0", "i1", "i2"}
    assert seen["i0"]["status"] == "firing"
    assert seen["i2"]["status"] == "firing"
    assert incident(api, incident_id)["status"] not in ("monitoring", "resolved")
    assert len(list_incidents(api)) == 1
    assert am.notifications()["failed"] == 0, am.log()


def test_a_token_in_the_url_query_is_accepted(
    api: httpx.Client, integration: dict[str, Any]
) -> None:
    # For senders that cannot set headers: the receiver URL carries ?token=.
    with Alertmanager(integration["url"], token=integration["token"], token_in="query") as am:
        assert "token=" in am.config()["receivers"][0]["webhook_configs"][0]["url"]
        am.post_alerts([firing({"alertname": "QueryToken", "severity": "info"})])

        def arrived() -> None:
            alerts = list_alerts(api)
            assert [a["labels"]["alertname"] for a in alerts] == ["QueryToken"], alerts

        eventually(arrived, why=am.log)
        assert am.notifications()["failed"] == 0, am.log()


def test_an_alertmanager_with_a_wrong_token_is_refused_and_nothing_is_stored(
    api: httpx.Client, integration: dict[str, Any]
) -> None:
    wrong = "w" * len(integration["token"])
    with Alertmanager(integration["url"], token=wrong) as am:
        am.post_alerts([firing({"alertname": "WrongToken", "severity": "critical"})])

        def refused() -> None:
            assert am.notifications()["failed"] >= 1, am.notifications()

        eventually(refused, why=am.log)
        assert "401" in am.log()
    assert list_alerts(api) == []
    assert list_incidents(api) == []
