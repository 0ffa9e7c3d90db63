"""Each seed's policy pages the people and the channels its seed names, out of the box: a
real server runs with the seed's policy file, `POST /api/v1/apply` takes the seed's example
organisation (examples/oncall-seed-NNN.yaml, its hosts pointed at a real webhook receiver
and SMTP server), an incident of each level is declared over HTTP, and the worker pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from haetae.app import create_app
from haetae.clock import clock
from haetae.config import Settings
from haetae.configfile.export import export_yaml
from haetae.db import Database
from haetae.policy.loader import load_policy_file
from haetae.worker import Worker, WorkerConfig
from tests.conftest import ADMIN_KEY, JWT_SECRET
from tests.support.server import start_server
from tests.support.smtp import SmtpServer, body_of
from tests.support.webhook import ReceivedRequest, WebhookReceiver

REPO = Path(__file__).parents[2]
REMINDER = re.compile("Status update due|상황 업데이트 필요")
# Monday 2026-01-05 12:00 in Seoul: the examples' rotations have handed over at 09:00.
NOON_KST = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@dataclass
class SeedOrg:
    api: httpx.Client
    worker: Worker
    webhook: WebhookReceiver
    smtp: SmtpServer

    def declare(self, severity: str, **extra: object) -> str:
        body = {"title": "결제 서버 다운", "severity": severity, "severity_reason": "test"}
        response = self.api.post("/api/v1/incidents", json={**body, **extra})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def pages(self) -> list[ReceivedRequest]:
        """Pages and escalations received, leaving out update reminders (every 15 min)."""
        return [r for r in self.webhook.received if not REMINDER.search(r.json["title"])]

    def hooks(self, count: int) -> dict[str, str]:
        """Run a worker cycle; the `count` pages it made, as {path: message}."""
        seen = len(self.pages())
        self.worker.run_once()
        deadline = time.monotonic() + 10
        while len(self.pages()) < seen + count and time.monotonic() < deadline:
            time.sleep(0.02)
        made = self.pages()[seen:]
        assert len(made) == count, [r.path for r in made]
        return {r.path: r.json["message"] for r in made}

    def steps(self, incident_id: str) -> list[tuple[str, list[str]]]:
        events = self.api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
        return [
            (e["data"]["policy"], e["data"]["notified"])
            for e in events
            if e["kind"] == "escalation_step"
        ]


@pytest.fixture
def seed_org(
    settings: Settings, db: Database, webhook: WebhookReceiver, smtp_server: SmtpServer
) -> Iterator[Callable[[str, str], SeedOrg]]:
    """seed_org(policy file, example file): a server with that policy and the example
    applied, and a worker running that policy when the test says."""
    with _Stack() as stack:

        def start(policy_file: str, example: str) -> SeedOrg:
            policy = load_policy_file(REPO / "policies" / policy_file)
            server = start_server(create_app(settings, policy=policy, database=db, migrate=False))
            stack.on_exit(server.stop)
            api = httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
            )
            stack.on_exit(api.close)
            worker = Worker(
                db, policy, WorkerConfig(public_url=server.url, secret=JWT_SECRET, senders=4)
            )
            stack.on_exit(worker.stop)
            clock.freeze(NOON_KST)
            text = (REPO / "examples" / example).read_text(encoding="utf-8")
            text = text.replace("json://hooks.example.com", f"json://127.0.0.1:{webhook.port}")
            text = text.replace(
                "mailto://smtp.example.com:587?", f"mailto://127.0.0.1:{smtp_server.port}?"
            ).replace("&to=", "&mode=insecure&to=")
            applied = api.post(
                "/api/v1/apply", content=text, headers={"content-type": "application/yaml"}
            )
            assert applied.status_code == 200, applied.text
            return SeedOrg(api, worker, webhook, smtp_server)

        yield start


class _Stack:
    def __init__(self) -> None:
        self._exits: list[Callable[[], object]] = []

    def on_exit(self, fn: Callable[[], object]) -> None:
        self._exits.append(fn)

    def __enter__(self) -> _Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        for fn in reversed(self._exits):
            fn()


# Seed 003: 2.2 알림 설정.

HEADS = ("jungho", "sujin", "hyunwoo")  # 운영팀장 (ko), 개발팀장 (en), 인프라팀장 (ko)


def test_seed_003_critical_calls_texts_and_slacks_the_three_heads_with_channel_mention(
    seed_org,
):
    org = seed_org("seed-003-critical-major-minor.yaml", "oncall-seed-003.yaml")
    incident_id = org.declare("Critical")

    calls = org.hooks(9)

    assert set(calls) == {f"/{kind}/{who}" for kind in ("phone", "sms", "slack") for who in HEADS}
    for who in HEADS:
        assert calls[f"/slack/{who}"].startswith("@channel\n")
        assert not calls[f"/sms/{who}"].startswith("@")  # the mention is Slack's alone
    # 운영팀장 reads Korean, 개발팀장 English.
    assert "심각도:" in calls["/phone/jungho"] and incident_id in calls["/phone/jungho"]
    assert "Severity:" in calls["/phone/sujin"] and incident_id in calls["/phone/sujin"]
    assert org.smtp.messages == []  # not their email, though it is in their own rules
    assert org.steps(incident_id) == [("critical-alert", list(HEADS))]


def test_seed_003_major_texts_and_slacks_the_operations_and_development_teams_with_here(
    seed_org,
):
    org = seed_org("seed-003-critical-major-minor.yaml", "oncall-seed-003.yaml")
    incident_id = org.declare("Major")

    team = ("jungho", "minji", "taeho", "sujin", "daniel")  # ops and dev, leads included
    calls = org.hooks(10)

    assert set(calls) == {f"/{kind}/{who}" for kind in ("sms", "slack") for who in team}
    assert all(calls[f"/slack/{who}"].startswith("@here\n") for who in team)
    assert "hyunwoo" not in str(calls)  # infrastructure is not paged for Major
    assert "심각도:" in calls["/sms/minji"]
    assert "Severity:" in calls["/sms/daniel"]
    assert org.smtp.messages == []
    [(policy, notified)] = org.steps(incident_id)
    assert (policy, sorted(notified)) == ("major-alert", sorted(team))


def test_seed_003_minor_goes_by_slack_and_email_to_the_operator_on_duty(seed_org):
    org = seed_org("seed-003-critical-major-minor.yaml", "oncall-seed-003.yaml")
    incident_id = org.declare("Minor")

    calls = org.hooks(1)
    [mail] = org.smtp.wait_for(1)

    assert list(calls) == ["/slack/minji"]  # minji's shift (daily, 09:00 Seoul)
    assert not calls["/slack/minji"].startswith("@")
    assert mail["To"] == "minji@example.com"
    assert "심각도:" in body_of(mail)
    assert org.steps(incident_id) == [("minor-alert", ["minji"])]


def test_a_person_with_none_of_the_kinds_a_step_names_is_paged_by_their_own_rules(seed_org):
    org = seed_org("seed-003-critical-major-minor.yaml", "oncall-seed-003.yaml")
    methods = org.api.get("/api/v1/users/daniel/contact-methods").json()
    for method in methods:
        if method["kind"] in ("sms", "slack"):
            gone = org.api.delete(f"/api/v1/users/daniel/contact-methods/{method['id']}")
            assert gone.status_code == 204
    org.declare("Major")

    org.hooks(8)  # the other four people's SMS and Slack
    [mail] = org.smtp.wait_for(1)

    assert mail["To"] == "daniel@example.com"  # his first contact method: no rules of his own


# Seed 002: the on-call, then the Tech Lead, then the IC for P0/P1.


@pytest.mark.parametrize("severity", ["P0", "P1"])
def test_seed_002_p0_p1_page_the_on_call_then_the_tech_lead_then_the_ic(seed_org, severity):
    org = seed_org("seed-002-p0-p3.yaml", "oncall-seed-002.yaml")
    incident_id = org.declare(severity)

    first = org.hooks(1)
    clock.advance(minutes=2)
    second = org.hooks(1)
    clock.advance(minutes=3)
    third = org.hooks(1)
    clock.advance(minutes=60)
    org.worker.run_once()

    # Week 1's Primary On-Call, Backend-A, reads English: the seed's "🚨 INCIDENT ALERT 🚨".
    assert list(first) == ["/oncall/backend-a"]
    assert "🚨 INCIDENT ALERT 🚨" in first["/oncall/backend-a"]
    assert list(second) == ["/tech-lead/senior-dev"]
    assert "⚠️ ESCALATION REQUIRED ⚠️" in second["/tech-lead/senior-dev"]
    assert "Tech Lead (24/7 On-Call 순환표)" in second["/tech-lead/senior-dev"]
    assert list(third) == ["/ic/pm"]
    assert "P0/P1 에스컬레이션: 대응팀 소집 및 워룸 시작" in third["/ic/pm"]
    assert len(org.pages()) == 3  # each once
    assert [who for _, who in org.steps(incident_id)] == [
        ["backend-a"],
        ["senior-dev"],
        ["pm"],
    ]


def test_seed_002_p2_pages_the_on_call_then_the_tech_lead_without_an_ack(seed_org):
    org = seed_org("seed-002-p0-p3.yaml", "oncall-seed-002.yaml")
    incident_id = org.declare("P2")
    assert list(org.hooks(1)) == ["/oncall/backend-a"]
    clock.advance(minutes=9)
    org.worker.run_once()
    assert len(org.pages()) == 1
    clock.advance(minutes=1)
    [escalation] = org.hooks(1).items()
    assert escalation[0] == "/tech-lead/senior-dev"
    assert "10분 내 응답 없음" in escalation[1]
    assert [policy for policy, _ in org.steps(incident_id)] == ["oncall-page"] * 2


def test_seed_002_p3_pages_nobody(seed_org):
    org = seed_org("seed-002-p0-p3.yaml", "oncall-seed-002.yaml")
    incident_id = org.declare("P3")
    clock.advance(minutes=60)
    org.worker.run_once()
    assert org.webhook.requests == [] and org.steps(incident_id) == []


# Seed 004: no paging in the seed; the policy's choice is the on-call for SEV-1 and SEV-2.


@pytest.mark.parametrize("severity", ["SEV-1", "SEV-2"])
def test_seed_004_sev1_and_sev2_page_the_on_call_again_after_15_minutes(seed_org, severity):
    org = seed_org("seed-004-sev1-3.yaml", "oncall-seed-004.yaml")
    incident_id = org.declare(severity)

    first = org.hooks(1)
    clock.advance(minutes=15)
    again = org.hooks(1)

    assert list(first) == list(again) == ["/oncall/hyejin"]
    assert "심각도:" in first["/oncall/hyejin"]
    assert "⚠️ ESCALATION REQUIRED ⚠️" in again["/oncall/hyejin"]
    assert org.steps(incident_id) == [("oncall-page", ["hyejin"])] * 2


def test_seed_004_sev3_pages_nobody(seed_org):
    org = seed_org("seed-004-sev1-3.yaml", "oncall-seed-004.yaml")
    org.declare("SEV-3")
    clock.advance(minutes=60)
    org.worker.run_once()
    assert org.webhook.requests == []


# Seed 000, Sev1: both readings, the table's "팀 리드 5분 내" and the automatic escalation.


def test_seed_000_sev1_pages_the_service_team_lead_at_5_and_all_related_leads_at_15(seed_org):
    org = seed_org("seed-000-sev0-3.yaml", "oncall-seed-000.yaml")
    incident_id = org.declare("Sev1", services=["game-server"])
    assert list(org.hooks(1)) == ["/oncall/sre-1"]
    # The on-call answers; the leads are still brought in (those policies run until resolved).
    assert org.api.post(f"/api/v1/incidents/{incident_id}/acknowledge").status_code == 200

    clock.advance(minutes=4)
    org.worker.run_once()
    assert len(org.pages()) == 1
    clock.advance(minutes=1)
    at_5 = org.hooks(1)
    clock.advance(minutes=10)
    at_15 = org.hooks(3)

    assert list(at_5) == ["/lead/game-sre-lead"]
    assert "팀 리드 5분 내" in at_5["/lead/game-sre-lead"]
    assert set(at_15) == {"/lead/game-sre-lead", "/lead/game-dev-lead", "/lead/game-ops-lead"}
    for message in at_15.values():
        assert "⚠️ ESCALATION REQUIRED ⚠️" in message
    assert "Sev1 인시던트 15분 미해결 - 팀 리드 개입 필요" in at_15["/lead/game-sre-lead"]
    assert "Sev1 unresolved for 15 minutes" in at_15["/lead/game-dev-lead"]
    assert [policy for policy, _ in org.steps(incident_id)] == [
        "oncall-page",
        "sev1-lead",
        "sev1-leads",
    ]


def test_marked_kinds_survive_export_and_a_second_apply_changes_nothing(seed_org, db):
    org = seed_org("seed-003-critical-major-minor.yaml", "oncall-seed-003.yaml")
    with db.session() as session:
        exported = export_yaml(session, now=clock.now())
    assert "kind: phone" in exported

    again = org.api.post(
        "/api/v1/apply?dry_run=true", content=exported, headers={"content-type": "application/yaml"}
    )

    assert again.status_code == 200, again.text
    assert again.json()["summary"].startswith("0 to create, 0 to update, 0 to remove")
    methods = org.api.get("/api/v1/users/jungho/contact-methods").json()
    assert [m["kind"] for m in methods] == ["phone", "sms", "slack", "mailto"]
