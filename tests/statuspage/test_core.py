"""The status page's write side: a P1's public incident takes the components of its services,
is drafted, published (the state history follows), reminded to the comms lead once per due
time through a real webhook receiver, and resolved; a drill's is refused; maintenance windows
open and close by the worker; the CLI in process; config as code round trips status_page and
channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from haetae.clock import clock
from haetae.comms.models import CommsChannel
from haetae.configfile.apply import ApplyResult, apply_config
from haetae.configfile.export import export_yaml
from haetae.configfile.schema import ConfigError, parse_config
from haetae.db import Database
from haetae.incidents.models import Incident
from haetae.people.models import ContactMethod
from haetae.policy.schema import Policy
from haetae.statuspage.models import Component, ComponentState, StatusPageSettings
from haetae.worker import Worker
from tests.api.helpers import declare, error_code
from tests.cli.conftest import Haetae, _base_env
from tests.support import people
from tests.support.webhook import WebhookReceiver

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REMINDER = "상태 페이지 업데이트 시간"  # the comms lead reads Korean

PAGE = """\
version: 1
services:
  - {id: payments, name: Payments}
  - {id: search, name: Search}
status_page:
  title: {en: Acme status, ko: 에이크미 상태}
  support_url: https://support.example.com
  groups:
    - {id: core, name: {en: Core, ko: 핵심}}
    - {id: web, name: Web}
  components:
    - id: payments-api
      name: {en: Payments API, ko: 결제 API}
      description: {en: Card and bank payments}
      group: core
      services: [payments]
    - {id: checkout, name: {en: Checkout, ko: 결제 화면}, group: web, services: [payments]}
    - {id: search, name: Search, group: web, services: [search]}
"""


class _DryRun(Exception):
    def __init__(self, result: ApplyResult) -> None:
        self.result = result


def _apply(
    db: Database, policy: Policy, text: str, *, prune: bool = False, dry: bool = False
) -> ApplyResult:
    loaded = parse_config(text, "page.yaml")
    try:
        with db.session() as session:
            result = apply_config(session, policy, loaded, actor="test", now=NOW, prune=prune)
            if dry:
                raise _DryRun(result)
            return result
    except _DryRun as dry_run:
        return dry_run.result


def _states(db: Database, slug: str) -> list[tuple[str, bool]]:
    """A component's state history, oldest first: (state, still open)."""
    with db.session(write=False) as session:
        component = session.scalars(select(Component).where(Component.slug == slug)).one()
        rows = session.scalars(
            select(ComponentState)
            .where(ComponentState.component_id == component.id)
            .order_by(ComponentState.since, ComponentState.id)
        )
        return [(r.status, r.until is None) for r in rows]


def _reminders(webhook: WebhookReceiver) -> list[str]:
    return [r.json["title"] for r in webhook.received if REMINDER in str(r.json.get("title"))]


def test_p1_goes_public_with_its_services_components_is_reminded_once_per_due_time_and_resolves(
    api: httpx.Client, db: Database, policy: Policy, worker: Worker, webhook: WebhookReceiver
) -> None:
    _apply(db, policy, PAGE)
    people.make_user(db, "sora", webhook.url("/sora"), locale="ko")
    incident = declare(
        api, title="Payments down", severity="P1", severity_reason="t", services=["payments"]
    )
    inc = incident["id"]
    assert api.put(
        f"/api/v1/incidents/{inc}/roles/comms_lead", json={"assignee": "sora"}
    ).is_success

    opened = api.post("/api/v1/status-page/incidents", json={"incident_id": inc})
    assert opened.status_code == 201, opened.text
    public = opened.json()
    code = public["code"]
    # Its services' components, in the state the policy's first severity means.
    assert public["components"] == {"payments-api": "major_outage", "checkout": "major_outage"}
    assert (public["impact"], public["status"], public["published_at"]) == (
        "critical",
        "investigating",
        None,
    )
    assert public["title"] == {"en": "Payments down", "ko": "Payments down"}
    # Not public yet: the components keep their state until the first update is published.
    assert _states(db, "payments-api") == [("operational", True)]

    # The first update is drafted from seed 002's first notice, in both languages.
    draft = api.post(
        f"/api/v1/status-page/incidents/{code}/updates", json={"status": "investigating"}
    )
    assert draft.status_code == 201, draft.text
    assert (draft.json()["state"], draft.json()["template"]) == ("draft", "customer_first_notice")
    assert "서비스 장애 안내" in draft.json()["body"]["ko"]
    assert "Service disruption notice" in draft.json()["body"]["en"]
    published = api.post(f"/api/v1/status-page/updates/{draft.json()['id']}/publish", json={})
    assert published.status_code == 200, published.text
    assert published.json()["state"] == "published"
    again = api.post(f"/api/v1/status-page/updates/{draft.json()['id']}/publish", json={})
    assert (again.status_code, error_code(again)) == (409, "CONFLICT")
    shown = api.get(f"/api/v1/status-page/incidents/{code}").json()
    assert shown["published_at"] is not None and shown["next_update_due"] is not None
    assert _states(db, "payments-api") == [("operational", False), ("major_outage", True)]
    assert _states(db, "search") == [("operational", True)]
    events = api.get(f"/api/v1/incidents/{inc}/timeline").json()
    assert [e["data"]["status"] for e in events if e["kind"] == "public_update_published"] == [
        "investigating"
    ]

    # 15 minutes without a public update: the comms lead is reminded, once per due time.
    clock.advance(minutes=16)
    worker.run_once()
    webhook.wait_for(1)
    worker.run_once()
    reminders = _reminders(webhook)
    assert len(reminders) == 1 and "Payments down" in reminders[0], webhook.received
    second = api.post(
        f"/api/v1/status-page/incidents/{code}/updates",
        json={"status": "identified", "body": {"en": "Cause found."}},
    ).json()
    assert second["body"] == {"en": "Cause found.", "ko": "Cause found."}
    api.post(f"/api/v1/status-page/updates/{second['id']}/publish", json={})
    clock.advance(minutes=16)
    worker.run_once()
    worker.run_once()
    assert len(_reminders(webhook)) == 2

    resolved = api.post(f"/api/v1/status-page/incidents/{code}/resolve", json={})
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert (body["status"], body["next_update_due"]) == ("resolved", None)
    assert [u["status"] for u in body["updates"]] == ["resolved", "identified", "investigating"]
    assert body["updates"][0]["template"] == "recovery_notice"
    assert "서비스 정상화 완료" in body["updates"][0]["body"]["ko"]
    assert _states(db, "payments-api") == [
        ("operational", False),
        ("major_outage", False),
        ("operational", True),
    ]
    clock.advance(minutes=16)
    worker.run_once()
    assert len(_reminders(webhook)) == 2  # a resolved incident is never reminded

    # A drill never reaches the status page; bad input is a 422, never a 500.
    drill = declare(api, title="Game day", severity="P1", severity_reason="drill")
    with db.session() as session:  # as a drill's injection declares it
        session.execute(update(Incident).where(Incident.id == drill["id"]).values(drill=True))
    refused = api.post("/api/v1/status-page/incidents", json={"incident_id": drill["id"]})
    assert (refused.status_code, error_code(refused)) == (422, "DRILL_NOT_PUBLIC")
    for bad in (
        {"title": {"en": "x"}, "components": {"nope": "major_outage"}},
        {"title": {"en": "x"}, "components": {"search": "on_fire"}},
        {"title": {"fr": "x"}},
        {},
    ):
        answer = api.post("/api/v1/status-page/incidents", json=bad)
        assert answer.status_code == 422, (bad, answer.text)
    missing = api.post("/api/v1/status-page/incidents", json={"incident_id": "INC-nope"})
    assert missing.status_code == 404
    assert api.post("/api/v1/status-page/updates/2147483648/publish", json={}).status_code == 422


def test_maintenance_window_opens_and_closes_by_the_worker_and_the_cli_runs_the_page(
    api: httpx.Client, db: Database, policy: Policy, worker: Worker, settings
) -> None:
    _apply(db, policy, PAGE)
    haetae = Haetae({**_base_env(settings.data_dir), "DATABASE_URL": settings.database_url})
    listed = haetae("status-page components --json").json()
    assert [(c["slug"], c["group"], c["status"]) for c in listed] == [
        ("payments-api", "core", "operational"),
        ("checkout", "web", "operational"),
        ("search", "web", "operational"),
    ]
    haetae("status-page component-status search degraded_performance")
    haetae("status-page component-status search sunny", expect=3)
    assert _states(db, "search") == [("operational", False), ("degraded_performance", True)]

    added = haetae(
        "status-page maintenance add --title-en 'DB upgrade' --title-ko 'DB 업그레이드' "
        "--start 1h --end 3h --component search --component checkout --json"
    ).json()
    assert (added["status"], added["components"]) == ("scheduled", ["checkout", "search"])
    clock.advance(minutes=61)
    worker.run_once()
    [window] = api.get("/api/v1/status-page/maintenance").json()
    assert window["status"] == "in_progress"
    # The worse of a hand-set state and maintenance is not kept: the window settles both.
    assert _states(db, "checkout")[-1] == ("under_maintenance", True)
    clock.advance(hours=2)
    worker.run_once()
    assert "completed" in haetae("status-page maintenance list").out
    assert _states(db, "checkout") == [
        ("operational", False),
        ("under_maintenance", False),
        ("operational", True),
    ]

    # A public incident from the CLI: open, draft, publish.
    incident = declare(
        api, title="Search slow", severity="P3", severity_reason="t", services=["search"]
    )
    opened = haetae(f"status-page open {incident['id']} --json").json()
    assert (opened["components"], opened["impact"]) == ({"search": "degraded_performance"}, "minor")
    update = haetae(
        f"status-page update {opened['code']} --status investigating "
        "--body-en 'Search is slow.' --body-ko '검색이 느립니다.' --json"
    ).json()
    haetae(f"status-page publish {update['id']}")
    haetae(f"status-page publish {update['id']}", expect=5)
    with db.session(write=False) as session:
        version = session.scalars(select(StatusPageSettings.updated_at)).one()
    assert version >= clock.now() - timedelta(minutes=1)  # each change moves the page version
    assert "Search is slow." in haetae("status-page incidents").out


def test_config_file_keeps_status_page_and_channels_and_exports_them_back(
    db: Database, policy: Policy
) -> None:
    channels = """\
users:
  - {username: ceo, name: CEO}
teams:
  - {id: leaders, name: Leadership, members: [ceo]}
channels:
  - id: critical-alerts
    name: "#critical-alerts"
    purpose: P1/P2 declarations and updates
    url: json://hooks.example.com/secret-token-123
  - {id: leadership, name: Leadership, language: en, members: [ceo, "team:leaders"]}
"""
    planned = _apply(db, policy, PAGE + channels, dry=True)
    assert [str(c) for c in planned.changes if "status_page" in str(c) or "channel" in str(c)] == [
        "~ status_page settings: title, support_url",  # a page always has its settings
        "+ status_page group:core",
        "+ status_page group:web",
        "+ status_page component:payments-api",
        "+ status_page component:checkout",
        "+ status_page component:search",
        "+ channel critical-alerts",
        "+ channel leadership",
    ]
    _apply(db, policy, PAGE + channels)
    with db.session(write=False) as session:
        page = session.scalars(select(StatusPageSettings)).one()
        assert page.title == {"en": "Acme status", "ko": "에이크미 상태"}
        alerts = session.scalars(select(CommsChannel).where(CommsChannel.slug == "critical-alerts"))
        [method] = session.scalars(
            select(ContactMethod).where(ContactMethod.comms_channel_id == alerts.one().id)
        )
        assert (method.user_id, method.kind) == (None, "json")
        exported = export_yaml(session, now=NOW)
    assert "secret-token-123" in exported and "team:leaders" in exported
    again = _apply(db, policy, exported)
    assert {c.action for c in again.changes} == {"unchanged"}, [str(c) for c in again.changes]

    smaller = """\
status_page:
  enabled: false
  components:
    - {id: search, name: Search, services: [search]}
channels:
  - {id: leadership, name: Leadership, members: [ceo]}
"""
    pruned = _apply(db, policy, smaller, prune=True)
    assert sorted(str(c) for c in pruned.changes if c.action != "unchanged") == [
        "- channel critical-alerts",
        "- status_page component:checkout",
        "- status_page component:payments-api",
        "- status_page group:core",
        "- status_page group:web",
        "~ channel leadership: language, members",
        "~ status_page component:search: group, position",
        "~ status_page settings: enabled, title, support_url",
    ]
    with db.session(write=False) as session:
        assert session.scalars(select(Component.slug)).all() == ["search"]
        assert session.scalars(select(ContactMethod.id)).all() == []

    for text, where in (
        ("status_page:\n  components:\n    - {id: a, name: A, services: [nope]}\n", "services"),
        ("status_page:\n  components:\n    - {id: a, name: A, group: nope}\n", "group"),
        ("channels:\n  - {id: c, name: C, url: 'nope://x'}\n", "url"),
        ("channels:\n  - {id: c, name: C}\n", "channels[0]"),
        ("channels:\n  - {id: c, name: C, members: [ghost]}\n", "members"),
    ):
        with pytest.raises(ConfigError) as caught:
            _apply(db, policy, text)
        assert where in str(caught.value), str(caught.value)
