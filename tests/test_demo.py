"""`haetae demo`'s data: users, incidents, an Alertmanager integration with alerts, post-mortems
in each state and a follow-up board with cards in every lane, as a user sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from haetae.alerts.integrations import digest
from haetae.alerts.models import Alert, Integration
from haetae.db import Database
from haetae.demo import DEMO_PASSWORD, seed_demo
from haetae.incidents.models import Incident
from haetae.migrations import upgrade_to_head
from haetae.policy.loader import default_policy
from haetae.policy.schema import Policy
from tests.support.people import api_token
from tests.support.server import RunningServer


def test_demo_seeds_alerts_through_the_ingest_pipeline_once(fresh_database_url):
    upgrade_to_head(fresh_database_url)
    db = Database(fresh_database_url)
    try:
        lines = seed_demo(db, default_policy())
        token = lines[-1].rsplit(": ", 1)[1]
        with db.session(write=False) as session:
            integration = session.scalars(
                select(Integration).where(Integration.name == "demo-alertmanager")
            ).one()
            assert integration.token_hash == digest(token)
            # The storm still firing now; the past incidents' alerts have all resolved.
            alerts = list(
                session.scalars(
                    select(Alert).where(
                        Alert.integration_id == integration.id, Alert.status == "firing"
                    )
                )
            )
            assert len(alerts) == 3
            assert {a.labels["team"] for a in alerts} == {"결제팀"}
            [incident_id] = {a.incident_id for a in alerts}
            incident = session.get(Incident, incident_id)
            assert incident is not None and incident.severity == "P1"
            assert incident.started_at < incident.detected_at
        assert seed_demo(db, default_policy()) == []  # a second run adds nothing
    finally:
        db.dispose()


def _seeded(db: Database, policy: Policy, server: RunningServer, username: str) -> httpx.Client:
    """The demo seeded into the suite's (emptied) database; a client signed in as `username`
    with the demo's password, as a person trying the demo would."""
    assert seed_demo(db, policy)
    token = api_token(server.url, username, DEMO_PASSWORD)
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_demo_shows_a_published_blameless_postmortem_with_measures_in_every_term(
    db: Database, policy: Policy, server: RunningServer
) -> None:
    with _seeded(db, policy, server, "viewer") as api:
        listed = api.get("/api/v1/postmortems", params={"status": "published"})
        assert listed.status_code == 200, listed.text
        [published] = listed.json()["items"]
        assert published["severity"] in ("P1", "P2")
        pm = api.get(f"/api/v1/postmortems/{published['incident_id']}").json()
    assert pm["status"] == "published" and pm["published_by"] == "minji"
    assert pm["approvals"] >= pm["approvals_required"] == 1
    assert [r["verdict"] for r in pm["reviews"]] == ["approved"]
    assert pm["reviews"][0]["reviewer"] != pm["author"]
    assert pm["meeting_held_at"] is not None
    assert len(pm["whys"]) == 5 and all(pm["whys"])
    assert "배포 절차" in pm["root_cause"]  # a process, not a person, is the root cause
    for field in ("contributing_factors", "went_well", "went_wrong", "lucky"):
        assert pm[field], field
    assert pm["lessons"] and pm["summary"] and pm["impact"]
    assert {m["term"] for m in pm["measures"]} == {"short", "mid", "long"}
    assert all(m["owner"] and m["due_date"] for m in pm["measures"])
    assert {d["state"] for d in pm["deadlines"]} == {"met"}
    assert any(e["event_id"] is None for e in pm["key_events"])  # a row the team added
    # Blameless by construction: nothing in it names a person as the cause.
    assert not {"caused_by", "cause_person", "culprit"} & set(pm)


def test_demo_board_has_cards_in_every_lane_and_every_action_item_column(
    db: Database, policy: Policy, server: RunningServer
) -> None:
    with _seeded(db, policy, server, "minji") as api:
        board = api.get("/api/v1/board").json()
        review = api.get("/api/v1/postmortems", params={"status": "in_review"}).json()
    lanes = {lane["id"]: {c["id"]: c["cards"] for c in lane["columns"]} for lane in board["lanes"]}
    assert set(lanes) == {"incident", "postmortem", "action_items"}
    for lane, columns in lanes.items():
        assert any(columns.values()), lane
    # Incident lane: the active ones, a P4 waiting in the backlog (seed 001 7.1).
    assert [c["severity"] for c in lanes["incident"]["backlog"]] == ["P4"]
    assert {c["status"] for c in lanes["incident"]["in_progress"]} <= {
        "triage",
        "investigating",
        "identified",
        "monitoring",
    }
    # Post-mortem lane: a draft, one in review (minji is asked), one published.
    assert [c["status"] for c in lanes["postmortem"]["in_progress"]] == ["draft"]
    assert [c["status"] for c in lanes["postmortem"]["review"]] == ["in_review"]
    assert [c["status"] for c in lanes["postmortem"]["done"]] == ["published"]
    assert [p["incident_id"] for p in review["items"]] == [
        c["incident_id"] for c in lanes["postmortem"]["review"]
    ]
    # Action items: every column holds cards, within the WIP limits.
    items = lanes["action_items"]
    for column in board["columns"]:
        assert items[column], column
        limit = board["wip_limits"].get(column)
        assert limit is None or len(items[column]) <= limit
    cards = [c for column in items.values() for c in column]
    classes = {c["class_of_service"] for c in cards}
    assert classes == {"expedite", "fixed_date", "standard"}
    overdue = [c for c in cards if c["overdue"]]
    assert overdue and all(c["due_date"] < board["today"] for c in overdue)
    assert all(c["owner"] for c in cards)


def test_demo_has_twelve_weeks_of_metrics_and_a_finished_game_day_with_its_scorecard(
    db: Database, policy: Policy, server: RunningServer
) -> None:
    with _seeded(db, policy, server, "viewer") as api:
        weeks = api.get("/api/v1/metrics", params={"from": _ago(84), "group_by": "week"})
        assert weeks.status_code == 200, weeks.text
        report = weeks.json()
        severities = api.get(
            "/api/v1/metrics", params={"from": _ago(84), "group_by": "severity"}
        ).json()
        sources = api.get("/api/v1/metrics", params={"from": _ago(84), "group_by": "source"})
        drills = api.get("/api/v1/drills").json()
        [game] = [d for d in drills["drills"] if d["kind"] == "game_day"]
        card = api.get(f"/api/v1/drills/{game['code']}/scorecard").json()
        incident = api.get(f"/api/v1/incidents/{game['incident_id']}").json()
        board = api.get("/api/v1/board").json()
    # The Reports page has trends to draw: incidents in (nearly) every week, each figure
    # measured, every severity, both sources, some canceled and some recurrences.
    totals = report["totals"]
    assert totals["count"] >= 50 and totals["canceled"] >= 1
    assert sum(1 for g in report["groups"] if g["figures"]["count"]) >= 11
    for figure in ("mttd", "mtta", "mttm", "mttr"):
        assert totals[figure]["n"] >= 40 and totals[figure]["median"] > 0, figure
    assert {g["key"] for g in severities["groups"] if g["figures"]["count"]} == {
        s.id for s in policy.severities
    }
    assert {g["key"] for g in sources.json()["groups"]} >= {"alert", "manual"}
    assert report["recurrence"]["marked"] >= 3
    assert report["drills"] == 1  # the game day, left out of every figure
    # The game day: its alert went through the ingest pipeline, it was worked and resolved,
    # and it was scored with people's judgements and an improvement item on the board.
    assert game["status"] == "ended" and game["end_reason"] == "completed"
    assert game["inject"][0]["sent_at"] and incident["drill"] is True
    assert incident["status"] == "resolved" and incident["acknowledged_at"]
    assert [r["met"] for r in card["timed"]] == [True, True, True]
    assert {j["row"]: j["value"] for j in card["judged"]} == {
        "communication": "adequate",
        "runbook": "partly_wrong",
    }
    assert len(card["participants"]) == 4 and card["assessment"]
    [item] = card["items"]
    assert item["code"] == "TI-001" and item["owner"] and item["due_date"]
    cards = [c for column in board["lanes"][2]["columns"] for c in column["cards"]]
    assert "TI-001" in {c.get("code") for c in cards}
    assert [d["status"] for d in drills["drills"] if d["kind"] == "chaos"] == ["scheduled"]


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()
