"""Ingest over real HTTP into the running app: dedup, linkage, senders' edge cases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx

from haetae.clock import clock
from tests.alerts.conftest import am_alert, am_body, am_fixtures
from tests.api.helpers import error_code, move


def incidents(api: httpx.Client) -> list[dict]:
    return api.get("/api/v1/incidents", params={"limit": 200}).json()["items"]


def alerts(api: httpx.Client, **params: object) -> list[dict]:
    return api.get("/api/v1/alerts", params={"limit": 500, **params}).json()["items"]


def timeline_kinds(api: httpx.Client, incident_id: str) -> list[str]:
    events = api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    items = events["items"] if isinstance(events, dict) else events
    return [e["kind"] for e in items]


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# Alertmanager, from real 0.25 bodies


def test_real_alertmanager_bodies_open_and_settle_incidents(api, make_sender):
    am = make_sender("alertmanager")
    bodies = am_fixtures()
    first = am.alertmanager(bodies[0])
    assert first.status_code == 202, first.text
    [outcome] = first.json()["alerts"]
    assert outcome["outcome"] == "created" and outcome["dedup_key"] == "c39fe8b07b686425"
    [incident] = incidents(api)
    assert incident["id"] == outcome["incident_id"]
    assert incident["severity"] == "P1"  # severity=critical, default rule
    assert incident["services"] == ["demo"]
    assert incident["title"] == "Target 127.0.0.1:9911 is down"
    # MTTD from the alert's own start: started_at is startsAt, detected_at the receipt.
    assert when(incident["started_at"]) == when("2026-11-21T20:48:34.718Z")
    assert when(incident["detected_at"]) >= when(incident["started_at"])
    assert incident["acknowledged_at"] is None
    assert "alerts_attached" in timeline_kinds(api, incident["id"])

    resolved = am.alertmanager(bodies[1]).json()["alerts"][0]
    assert resolved["outcome"] == "resolved" and resolved["alert_id"] == outcome["alert_id"]
    detail = api.get(f"/api/v1/incidents/{incident['id']}").json()
    assert detail["status"] == "monitoring"
    assert detail["acknowledged_at"] is None  # an automatic move is nobody's ack
    alert = api.get(f"/api/v1/alerts/{outcome['alert_id']}").json()
    assert alert["status"] == "resolved" and alert["receipts"] == 2
    assert alert["raw"]["fingerprint"] == "c39fe8b07b686425"

    for body in bodies[2:]:
        assert am.alertmanager(body).status_code == 202
    assert len(incidents(api)) == 3
    assert all(a["status"] == "resolved" for a in alerts(api))


def test_ha_pair_duplicates_make_one_alert_and_one_incident(api, make_sender):
    am = make_sender("alertmanager")
    body = am_body(am_alert("DiskFull", instance="db-1", severity="warning"))
    # Both peers send the same notification at the same moment, and again later.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: am.alertmanager(body), range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len(alerts(api)) == 1 and alerts(api)[0]["receipts"] == 8
    assert len(incidents(api)) == 1


def test_a_storm_becomes_a_handful_of_grouped_incidents(api, make_sender):
    am = make_sender("alertmanager")
    for group in ("HighLatency", "ErrorRate", "PodCrashLooping"):
        batch = [am_alert(group, instance=f"pod-{i}", severity="critical") for i in range(334)]
        for start in range(0, len(batch), 100):
            body = am_body(*batch[start : start + 100], group=f'{{}}:{{alertname="{group}"}}')
            assert am.alertmanager(body).status_code == 202
    assert api.get("/api/v1/alerts", params={"limit": 1}).json()["total"] == 1002
    found = incidents(api)
    assert sorted(i["title"].split(" on ")[0] for i in found) == [
        "ErrorRate",
        "HighLatency",
        "PodCrashLooping",
    ]


def test_truncated_payload_never_reads_missing_alerts_as_resolved(api, make_sender):
    am = make_sender("alertmanager")
    a, b, c = (am_alert("Lag", instance=f"db-{i}") for i in range(3))
    am.alertmanager(am_body(a, b, c))
    # Alertmanager with max_alerts=1: only one alert in the body, two truncated.
    answer = am.alertmanager(am_body({**a, "status": "resolved"}, truncated=2))
    assert answer.json()["truncated_alerts"] == 2
    statuses = sorted(x["status"] for x in alerts(api))
    assert statuses == ["firing", "firing", "resolved"]
    [incident] = incidents(api)
    assert incident["status"] == "triage"  # two alerts still fire


def test_resolve_for_an_unknown_key_is_accepted_and_ignored(api, make_sender):
    am = make_sender("alertmanager")
    answer = am.alertmanager(am_body(am_alert("Never", status="resolved")))
    assert answer.status_code == 202
    assert answer.json()["alerts"][0]["outcome"] == "ignored"
    assert alerts(api) == [] and incidents(api) == []


def test_start_time_in_the_future_is_kept_but_mttd_is_never_negative(api, make_sender):
    am = make_sender("alertmanager")
    future = (clock.now() + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    far_past = "1999-01-01T00:00:00Z"
    am.alertmanager(am_body({**am_alert("Skewed", instance="a"), "startsAt": future}))
    am.alertmanager(am_body({**am_alert("Old", instance="b"), "startsAt": far_past}, group="old"))
    by_name = {a["labels"]["alertname"]: a for a in alerts(api)}
    assert when(by_name["Skewed"]["starts_at"]) == when(future)
    assert when(by_name["Old"]["starts_at"]) == when(far_past)
    for incident in incidents(api):
        assert when(incident["started_at"]) <= when(incident["detected_at"])
    old = next(i for i in incidents(api) if i["title"].startswith("Old"))
    assert when(old["started_at"]) == when(far_past)


def test_korean_label_values_round_trip_unchanged(api, make_sender):
    am = make_sender("alertmanager")
    alert = am_alert("결제지연", team="결제팀", instance="pay-1")
    alert["annotations"] = {"summary": "결제 서비스 지연 🔥", "description": "p99 > 2초"}
    am.alertmanager(am_body(alert))
    [stored] = alerts(api)
    assert stored["labels"]["team"] == "결제팀"
    assert stored["labels"]["alertname"] == "결제지연"
    assert stored["summary"] == "결제 서비스 지연 🔥"
    assert stored["annotations"]["description"] == "p99 > 2초"
    assert incidents(api)[0]["title"] == "결제 서비스 지연 🔥"


def test_a_refire_within_the_flap_window_reopens_the_same_incident(api, make_sender):
    am = make_sender("alertmanager")
    alert = am_alert("Flappy", instance="x", severity="info")  # P4: no resolve conditions
    am.alertmanager(am_body(alert))
    [incident] = incidents(api)
    am.alertmanager(am_body({**alert, "status": "resolved"}))
    assert move(api, incident["id"], "resolved").status_code == 200
    clock.advance(minutes=5)  # inside the default 10m window
    again = am.alertmanager(am_body(alert)).json()["alerts"][0]
    assert again["outcome"] == "created" and again["incident_id"] == incident["id"]
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()["status"] == "investigating"

    # Fires again while monitoring: back to investigating, same incident.
    am.alertmanager(am_body({**alert, "status": "resolved"}))
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()["status"] == "monitoring"
    am.alertmanager(am_body(alert))
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()["status"] == "investigating"

    # Outside the window a new incident is declared.
    am.alertmanager(am_body({**alert, "status": "resolved"}))
    assert move(api, incident["id"], "resolved").status_code == 200
    clock.advance(minutes=11)
    later = am.alertmanager(am_body(alert)).json()["alerts"][0]
    assert later["incident_id"] not in (None, incident["id"])
    assert len(incidents(api)) == 2


# Authentication and bad input


def test_tokens_by_header_or_query_and_refusals(api, make_sender, anon):
    am = make_sender("alertmanager")
    body = am_body(am_alert("Auth", instance="a"))
    by_query = anon.post(f"/ingest/alertmanager?token={am.token}", json=body)
    assert by_query.status_code == 202
    assert error_code(anon.post("/ingest/alertmanager", json=body)) == "UNAUTHORIZED"
    wrong = anon.post("/ingest/alertmanager", json=body, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401
    # An admin API key is not an integration token.
    assert api.post("/ingest/alertmanager", json=body).status_code == 401

    old = am.token
    rotated = api.post(f"/api/v1/integrations/{am.id}/rotate").json()
    assert rotated["token"] != old
    assert am.alertmanager(body).status_code == 401
    am.token = rotated["token"]
    assert am.alertmanager(body).status_code == 202
    assert api.patch(f"/api/v1/integrations/{am.id}", json={"enabled": False}).status_code == 200
    assert am.alertmanager(body).status_code == 401
    listed = api.get("/api/v1/integrations").json()
    assert listed[0]["enabled"] is False and "token" not in listed[0]
    assert listed[0]["url"].endswith("/ingest/alertmanager")


def test_malformed_payloads_name_the_field_and_store_nothing(api, make_sender):
    am = make_sender("alertmanager")
    headers = {"Authorization": f"Bearer {am.token}", "Content-Type": "application/json"}
    bad_json = am.client.post("/ingest/alertmanager", content=b"{not json", headers=headers)
    assert (bad_json.status_code, error_code(bad_json)) == (400, "INVALID_JSON")

    no_status = am_body(am_alert("A"))
    del no_status["alerts"][0]["status"]
    answer = am.alertmanager(no_status)
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert answer.json()["error"]["details"]["fields"][0]["field"] == "alerts.0.status"

    bad_label = am_body(am_alert("A"))
    bad_label["alerts"][0]["labels"]["n"] = 5
    assert am.alertmanager(bad_label).json()["error"]["details"]["fields"][0]["field"] == (
        "alerts.0.labels.n"
    )
    assert am.alertmanager([1, 2]).status_code == 422
    assert am.alertmanager({"alerts": "x"}).status_code == 422
    nul = am_body(am_alert("A", instance="a\u0000b"))
    assert error_code(am.alertmanager(nul)) == "VALIDATION_ERROR"
    assert alerts(api) == [] and incidents(api) == []


def test_batch_limit_and_body_limit(api, make_sender, server):
    am = make_sender("generic")
    limit = server.app.state.settings.ingest_max_batch_items
    many = {"alerts": [{"summary": f"a{i}", "dedup_key": f"k{i}"} for i in range(limit + 1)]}
    answer = am.generic(many)
    assert (answer.status_code, error_code(answer)) == (413, "BATCH_TOO_LARGE")
    big = {"summary": "x" * server.app.state.settings.max_request_body_bytes}
    answer = am.generic(big)
    assert (answer.status_code, error_code(answer)) == (413, "PAYLOAD_TOO_LARGE")
    assert alerts(api) == []


# PagerDuty Events v2 and generic


def test_pagerduty_trigger_acknowledge_resolve(api, make_sender):
    pd = make_sender("pagerduty")
    payload = {
        "summary": "Replication lag 300s on db-1",
        "source": "db-1",
        "severity": "error",
        "custom_details": {"lag_seconds": 300},
    }
    trigger = pd.pagerduty(event_action="trigger", dedup_key="db/lag", payload=payload)
    assert trigger.status_code == 202
    assert trigger.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "db/lag",
    }
    [incident] = incidents(api)
    assert incident["severity"] == "P2"  # error -> the second severity
    ack = pd.pagerduty(event_action="acknowledge", dedup_key="db/lag")
    assert ack.status_code == 202
    assert alerts(api)[0]["status"] == "acknowledged"
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()["acknowledged_at"]
    assert pd.pagerduty(event_action="resolve", dedup_key="db/lag").status_code == 202
    [alert] = alerts(api)
    assert alert["status"] == "resolved"
    assert api.get(f"/api/v1/alerts/{alert['id']}").json()["raw"]["payload"] == payload
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()["status"] == "monitoring"
    # After the resolve, the same key opens a new alert; resolve for unknown keys is dropped.
    pd.pagerduty(event_action="trigger", dedup_key="db/lag", payload=payload)
    assert len(alerts(api)) == 2
    assert pd.pagerduty(event_action="resolve", dedup_key="nope").status_code == 202


def test_pagerduty_makes_a_dedup_key_and_answers_errors_in_its_shape(api, make_sender):
    pd = make_sender("pagerduty")
    payload = {"summary": "s", "source": "src", "severity": "info"}
    made = pd.pagerduty(event_action="trigger", payload=payload).json()["dedup_key"]
    assert len(made) == 32 and alerts(api)[0]["dedup_key"] == made
    raw = api.get(f"/api/v1/alerts/{alerts(api)[0]['id']}").json()["raw"]
    assert "routing_key" not in raw  # the token is not kept in the payload

    bad = pd.pagerduty(event_action="trigger", payload={**payload, "severity": "loud"})
    assert bad.status_code == 400
    assert bad.json()["status"] == "invalid event"
    assert any("payload.severity" in e for e in bad.json()["errors"])
    assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
    no_key = pd.client.post(
        "/v2/enqueue",
        json={"routing_key": "0" * 32, "event_action": "trigger", "payload": payload},
    )
    assert no_key.status_code == 401 and no_key.json()["status"] == "invalid event"
    ack_without_key = pd.pagerduty(event_action="acknowledge")
    assert ack_without_key.status_code == 400


def test_generic_single_and_batch(api, make_sender):
    gen = make_sender("generic")
    one = gen.generic({"summary": "Queue backlog", "severity": "warning", "labels": {"q": "a"}})
    assert one.status_code == 202
    key = one.json()["alerts"][0]["dedup_key"]
    again = gen.generic({"summary": "Queue backlog", "severity": "warning", "labels": {"q": "a"}})
    assert again.json()["alerts"][0] == {**one.json()["alerts"][0], "outcome": "updated"}
    batch = gen.generic(
        {
            "alerts": [
                {"dedup_key": key, "status": "resolved"},
                {"dedup_key": "n1", "summary": "Disk", "group": "db-1"},
                {"dedup_key": "n2", "summary": "CPU", "group": "db-1"},
            ]
        }
    )
    outcomes = [a["outcome"] for a in batch.json()["alerts"]]
    assert outcomes == ["resolved", "created", "created"]
    new = batch.json()["alerts"][1:]
    assert new[0]["incident_id"] == new[1]["incident_id"]  # same group, one incident
    bad = gen.generic({"alerts": [{"summary": "ok"}, {"status": "firing"}]})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["fields"][0]["field"] == "alerts.1.summary"


def test_over_the_limit_is_429_with_retry_after(tmp_path):
    from haetae.app import create_app
    from haetae.config import Settings
    from tests.support.server import start_server

    settings = Settings(
        HAETAE_DATA_DIR=tmp_path,
        JWT_SECRET="s" * 40,
        API_KEY="admin-key-0123456789",
        INGEST_RATE_LIMIT_PER_INTEGRATION="2/hour",
    )
    running = start_server(create_app(settings))
    try:
        admin = {"Authorization": "Bearer admin-key-0123456789"}
        made = httpx.post(
            f"{running.url}/api/v1/integrations",
            json={"name": "g", "type": "generic"},
            headers=admin,
        ).json()
        post = lambda: httpx.post(  # noqa: E731
            f"{running.url}/ingest/generic",
            json={"summary": "s", "dedup_key": "k"},
            headers={"Authorization": f"Bearer {made['token']}"},
        )
        assert [post().status_code for _ in range(2)] == [202, 202]
        refused = post()
        assert (refused.status_code, error_code(refused)) == (429, "RATE_LIMITED")
        assert int(refused.headers["Retry-After"]) >= 1
        stored = httpx.get(f"{running.url}/api/v1/alerts", headers=admin).json()
        assert stored["items"][0]["receipts"] == 2  # the refused one was not stored
    finally:
        running.stop()


def test_database_down_is_503_for_senders_to_retry(tmp_path):
    from haetae.app import create_app
    from haetae.config import Settings
    from tests.support.pg import PostgresCluster
    from tests.support.server import start_server

    cluster = PostgresCluster().start()
    try:
        settings = Settings(
            DATABASE_URL=cluster.url(),
            HAETAE_DATA_DIR=tmp_path,
            JWT_SECRET="s" * 40,
            API_KEY="admin-key-0123456789",
        )
        running = start_server(create_app(settings, migrate=True))
        try:
            made = httpx.post(
                f"{running.url}/api/v1/integrations",
                json={"name": "g", "type": "generic"},
                headers={"Authorization": "Bearer admin-key-0123456789"},
            ).json()
            post = lambda: httpx.post(  # noqa: E731
                f"{running.url}/ingest/generic",
                json={"summary": "disk full", "dedup_key": "k"},
                headers={"Authorization": f"Bearer {made['token']}"},
                timeout=60,
            )
            assert post().status_code == 202
            cluster.stop()
            down = post()  # the token is cached; the write fails
            assert (down.status_code, error_code(down)) == (503, "NOT_READY")
            running.app.state.tokens.forget()
            down = post()  # the token lookup fails
            assert (down.status_code, error_code(down)) == (503, "NOT_READY")
        finally:
            running.stop()
    finally:
        cluster.stop()
