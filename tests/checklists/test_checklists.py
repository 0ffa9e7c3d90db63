"""Role checklists from the seed policies on incidents, ticked through the API, the console and
the CLI, and the reminder about a required role left empty."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from haetae.checklists import service
from haetae.checklists.jobs import remind_empty_roles
from haetae.checklists.models import RoleReminderSent
from haetae.clock import clock
from haetae.db import Database
from haetae.incidents import roles
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.incidents.transitions import acknowledge
from haetae.notify.models import Notification
from haetae.policy.loader import load_policy_file
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.timeline import service as timeline
from haetae.worker import Worker, WorkerConfig
from tests.api.helpers import declare, error_code
from tests.cli.conftest import Haetae
from tests.conftest import JWT_SECRET
from tests.support.smtp import SmtpServer, subject_of
from tests.support.webhook import WebhookReceiver
from tests.web.console_client import console_for, csrf_from

POLICIES = Path(__file__).parents[2] / "policies"
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _declare(db: Database, policy: Policy, severity: str) -> str:
    with db.session() as session:
        incident = declare_incident(
            session,
            policy,
            IncidentDeclare(title="Matchmaking down", severity=severity, severity_reason="test"),
            actor="test",
            now=clock.now(),
        )
        return incident.id


def _shown(db: Database, policy: Policy, incident_id: str, viewer: str | None = None):
    with db.session(write=False) as session:
        from haetae.incidents.service import get_incident

        incident = get_incident(session, incident_id)
        return service.incident_checklists(session, policy, incident, viewer=viewer)


def test_the_seed_policies_checklists_show_for_the_right_role_and_severity(
    db: Database, policy: Policy
) -> None:
    seeds = {p.name: load_policy_file(p) for p in sorted(POLICIES.glob("seed-*.yaml"))}
    for pol in [policy, *seeds.values()]:
        role_ids = {r.id for r in pol.roles}
        assert pol.response.checklists, pol.name
        for checklist in pol.response.checklists:
            assert checklist.role is None or checklist.role in role_ids, (pol.name, checklist.id)
            ids = [item.id for item in checklist.items]
            assert len(ids) == len(set(ids)), (pol.name, checklist.id)
            for item in checklist.items:
                assert localized(item.text, "ko") != localized(item.text, "en"), item.id
        # Every role a severity requires has a checklist: its own, or everyone's.
        for sev in pol.severities:
            for role in sev.required_roles:
                assert pol.response.checklists_for(role, sev.id) or pol.response.checklists_for(
                    None, sev.id
                ), (pol.name, sev.id, role)

    # Seed 000: the four roles' duties, and the IC's escalation of the incident's severity.
    seed_000 = seeds["seed-000-sev0-3.yaml"]
    incident_id = _declare(db, seed_000, "Sev0")
    with db.session() as session:
        roles.assign_role(
            session, seed_000, incident_id, role="scribe", assignee="minji", actor="t", now=T0
        )
    shown = _shown(db, seed_000, incident_id, viewer="minji")
    assert [c.id for c in shown] == [
        "scribe",  # the viewer's own first
        "ic",
        "ic_escalation_sev0",
        "ops_lead",
        "comms_lead",
    ]
    assert shown[0].mine and shown[0].holder == "minji"
    assert [localized(s, "ko") for s, _ in shown[0].stages()] == [
        "1. 타임라인 기록",
        "2. 증거 수집",
        "3. 결정사항 기록",
    ]
    escalation = next(c for c in shown if c.id == "ic_escalation_sev0")
    assert "CTO" in localized(escalation.items[0].text, "ko")
    sev2 = _shown(db, seed_000, _declare(db, seed_000, "Sev2"))
    assert "ic_escalation_sev2" in [c.id for c in sev2]
    assert "ic_escalation_sev0" not in [c.id for c in sev2]

    # Seed 004: everyone's five stages in order, and the Comms Lead's report of the severity.
    seed_004 = seeds["seed-004-sev1-3.yaml"]
    shown = _shown(db, seed_004, _declare(db, seed_004, "SEV-2"))
    assert [(c.id, c.role) for c in shown] == [("sev2_report", "comms_lead"), ("response", None)]
    assert [localized(s, "en") for s, _ in shown[1].stages()] == [
        "1. Triage",
        "2. Stabilise",
        "3. Diagnose",
        "4. Recover",
        "5. Post-incident",
    ]
    assert all(item.status == "pending" for item in shown[1].items)

    # Seed 001 (the default policy): App. A's twelve items on a P1 only.
    p1 = _shown(db, policy, _declare(db, policy, "P1"))
    quick = next(c for c in p1 if c.id == "p1_quick")
    assert quick.role is None and quick.total == 12
    assert localized(quick.items[2].text, "ko") == "IC 지정"
    assert "p1_quick" not in [c.id for c in _shown(db, policy, _declare(db, policy, "P2"))]


def test_ticking_records_who_when_and_a_timeline_event(
    api: httpx.Client, alice: httpx.Client, db: Database, haetae: Haetae
) -> None:
    clock.freeze(T0)
    incident_id = declare(api)["id"]  # revenue x all users: a P1
    base = f"/api/v1/incidents/{incident_id}/checklists"

    listed = api.get(base)
    assert listed.status_code == 200, listed.text
    assert "p1_quick" in [c["id"] for c in listed.json()]

    clock.advance(minutes=3)
    ticked = api.patch(
        f"{base}/p1_quick/items/war_room", json={"status": "done", "note": "#incident-20261123"}
    )
    assert ticked.status_code == 200, ticked.text
    assert ticked.json()["status"] == "done"
    quick = next(c for c in api.get(base).json() if c["id"] == "p1_quick")
    war_room = next(i for i in quick["items"] if i["id"] == "war_room")
    assert war_room["by"] == "admin" or war_room["by"]  # the API key's actor
    assert datetime.fromisoformat(war_room["at"]) == T0.replace(minute=3)
    assert war_room["note"] == "#incident-20261123"
    assert (quick["done"], quick["total"]) == (1, 12)

    # Unknown ids and a bad status are refused with stable codes.
    assert error_code(api.patch(f"{base}/nope/items/war_room", json={"status": "done"})) == (
        "UNKNOWN_CHECKLIST"
    )
    assert error_code(api.patch(f"{base}/p1_quick/items/nope", json={"status": "done"})) == (
        "UNKNOWN_CHECKLIST_ITEM"
    )
    bad = api.patch(f"{base}/p1_quick/items/war_room", json={"status": "finished"})
    assert bad.status_code == 422

    # The console: the panel shows the tick, and a responder skips another item from it.
    url = f"/incidents/{incident_id}"
    page = alice.get(url).text
    panel = re.search(r'<section id="panel-checklists".*?</section>', page, re.S)
    assert panel and 'data-status="done"' in panel.group(0)
    assert "1 of 12" in panel.group(0)
    skipped = alice.post(
        f"{url}/checklists/p1_quick/items/external_notice",
        data={"csrf_token": csrf_from(page), "status": "skipped", "note": "no user impact yet"},
        headers={"HX-Request": "true"},
    )
    assert skipped.status_code == 200, skipped.text
    assert 'id="checklist-p1_quick-external_notice" data-status="skipped"' in skipped.text.replace(
        'class="skipped" ', ""
    )

    with db.session(write=False) as session:
        events = [e for e in timeline.events(session, incident_id) if e.kind == "checklist_item"]
    assert [(e.data["item_id"], e.data["status"], e.actor) for e in events] == [
        ("war_room", "done", events[0].actor),
        ("external_notice", "skipped", "alice"),
    ]
    assert events[0].at == T0.replace(minute=3)
    assert "War Room 개설" in str(events[0].data["text"])
    # The timeline reads the entry in words.
    assert "Open the war room" in alice.get(url).text

    # The CLI on a database of its own: tick, undo, and show.
    declared = haetae(
        'declare --title "Login fails" --business-impact revenue --user-impact all --json'
    ).json()
    cli_id = declared["id"]
    haetae(f"checklist tick {cli_id} p1_quick assign_ic --note minji --as minji")
    haetae(f"checklist tick {cli_id} p1_quick nope", expect=4)
    shown = haetae(f"checklist show {cli_id} --json").json()
    quick = next(c for c in shown if c["id"] == "p1_quick")
    assert [(i["id"], i["by"]) for i in quick["items"] if i["status"] == "done"] == [
        ("assign_ic", "minji")
    ]
    haetae(f"checklist tick {cli_id} p1_quick assign_ic --undo")
    text = haetae(f"checklist show {cli_id} --role ic --lang ko").out
    assert "의사결정" in text and "P1 장애" not in text  # the IC's only, in Korean


def _reminders(smtp_server: SmtpServer, webhook: WebhookReceiver) -> tuple[list[str], list[str]]:
    """The role reminders received so far: the IC's mails (Korean), the on-call's webhooks."""
    mails = [subject_of(m) for m in smtp_server.messages if "역할 미지정" in subject_of(m)]
    hooks = [str(r.json) for r in webhook.received if "Still unassigned" in str(r.json)]
    return mails, hooks


def _wait_reminders(
    smtp_server: SmtpServer, webhook: WebhookReceiver, count: int
) -> tuple[list[str], list[str]]:
    """Wait until each receiver has `count` reminders (pages and update reminders also
    arrive), then a moment more, so that one too many would be seen."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails, hooks = _reminders(smtp_server, webhook)
        if len(mails) >= count and len(hooks) >= count:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    return _reminders(smtp_server, webhook)


def test_an_empty_required_role_reminds_the_on_call_and_the_ic_once_per_period(
    db: Database,
    policy: Policy,
    server,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
    make_user,
    oncall_schedule,
) -> None:
    clock.freeze(T0)
    make_user("alice", webhook.url("/alice"))  # the on-call
    make_user("minji", smtp_server.url(to="minji@example.com"), locale="ko")  # the IC
    oncall_schedule(["alice"])
    workers = [
        Worker(db, policy, WorkerConfig(public_url=server.url, secret=JWT_SECRET, senders=2))
        for _ in range(2)
    ]
    try:
        # A P2 needs ic, tech_lead and oncall_engineer; acknowledged, it pages nobody more, and
        # its update reminders (every 15m) never fall at the moment of a role reminder.
        incident_id = _declare(db, policy, "P2")
        with db.session() as session:
            acknowledge(session, incident_id, by="alice", now=T0)
            roles.assign_role(
                session, policy, incident_id, role="ic", assignee="minji", actor="t", now=T0
            )

        clock.advance(minutes=9)
        for worker in workers:
            worker.run_once()
        with db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(RoleReminderSent)) == 0

        clock.advance(minutes=1)  # policy: after 10m
        for worker in workers:  # two workers' runs in a row
            worker.run_once()
        # One reminder naming tech_lead and oncall_engineer, to the on-call and to the IC.
        mails, hooks = _wait_reminders(smtp_server, webhook, 1)
        assert len(mails) == 1 and len(hooks) == 1, (mails, hooks)
        assert "기술 리드" in mails[0] and "온콜 엔지니어" in mails[0]
        assert incident_id in mails[0]
        assert "Tech Lead" in hooks[0] and f"haetae role {incident_id} tech_lead" in hooks[0]

        with db.session() as session:
            roles.assign_role(
                session, policy, incident_id, role="tech_lead", assignee="bo", actor="t", now=T0
            )
        clock.advance(minutes=14)
        for worker in workers:
            worker.run_once()
        assert _reminders(smtp_server, webhook) == (mails, hooks)

        clock.advance(minutes=1)  # repeat: 15m, for the role still empty only
        for worker in workers:
            worker.run_once()
        mails, hooks = _wait_reminders(smtp_server, webhook, 2)
        assert len(mails) == 2 and len(hooks) == 2, (mails, hooks)
        assert "기술 리드" not in mails[1] and "온콜 엔지니어" in mails[1]

        with db.session() as session:
            roles.assign_role(
                session,
                policy,
                incident_id,
                role="oncall_engineer",
                assignee="c",
                actor="t",
                now=T0,
            )
            # A direct second run in the same period sends nothing either.
            assert (
                remind_empty_roles(session, policy, now=clock.now(), limit=10, skip_locked=False)
                == 0
            )
        clock.advance(minutes=30)
        for worker in workers:
            worker.run_once()
        time.sleep(0.3)
        assert _reminders(smtp_server, webhook) == (mails, hooks)

        with db.session(write=False) as session:
            kinds = session.scalars(
                select(Notification.kind).where(Notification.kind == "role_reminder")
            ).all()
            events = [e for e in timeline.events(session, incident_id) if e.kind == "role_reminder"]
        assert len(kinds) == 4  # two periods, two people
        assert sorted(e.data["role"] for e in events) == [
            "oncall_engineer",
            "oncall_engineer",
            "tech_lead",
        ]
        # The timeline says it in words.
        with console_for(server.url, db, "victor", role="viewer") as victor:
            page = victor.get(f"/incidents/{incident_id}").text
        assert "Tech Lead still unassigned after 10 min; reminded 2 people" in page
    finally:
        for worker in workers:
            worker.stop()
