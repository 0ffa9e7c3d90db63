"""Page now and external contacts: config as code keeps the contacts, checks and allow-list;
a manual escalation reaches real mail and webhook receivers once, with seed 000's headings,
in the recipient's language; an external contact's ack goes on the timeline only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from haetae.configfile.apply import ApplyResult, apply_config
from haetae.configfile.export import export_yaml
from haetae.configfile.schema import ConfigError, parse_config
from haetae.db import Database
from haetae.diagnostics.models import AllowedTarget, ServiceCheck
from haetae.notify.models import Notification
from haetae.policy.schema import Policy
from haetae.worker import Worker
from tests.api.helpers import declare, error_code, move
from tests.cli.conftest import Haetae, _base_env
from tests.support import people
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver
from tests.web.console_client import console_for, csrf_from

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXTERNAL = "🔧 EXTERNAL SUPPORT REQUIRED 🔧"
BUSINESS = "💼 BUSINESS ESCALATION 💼"

CONFIG = """\
version: 1
services:
  - {{id: payments, name: Payments}}
external_contacts:
  - slug: aws-support
    name: AWS Enterprise Support
    kind: cloud
    support_plan: Enterprise
    sla_tier: "Sev-1: 15 min"
    notes: Open a case from the console first.
    contact_methods:
      - {{name: mail, url: "{mail}"}}
      - {{name: hook, url: "{hook}"}}
  - {{slug: cdn, name: CDN vendor, kind: cdn_waf, language: ko, enabled: false}}
checks:
  - id: payments-health
    name: Payments health
    service: payments
    check: {{kind: http, url: "https://payments.example.com/health", expect_status: 200}}
  - id: payments-cert
    name: Payments certificate
    service: payments
    watch: true
    check: {{kind: tls, host: payments.example.com, timeout: 5s}}
diagnostics:
  allow: ["*.example.com", "10.0.0.0/8:443", "https://status.example.com/api"]
"""


class _DryRun(Exception):
    """Rolls the apply's transaction back, as `haetae apply --dry-run` does."""

    def __init__(self, result: ApplyResult) -> None:
        self.result = result


def _apply(
    db: Database, policy: Policy, text: str, *, prune: bool = False, dry: bool = False
) -> ApplyResult:
    loaded = parse_config(text, "team.yaml")
    try:
        with db.session() as session:
            result = apply_config(session, policy, loaded, actor="test", now=NOW, prune=prune)
            if dry:
                raise _DryRun(result)
            return result
    except _DryRun as dry_run:
        return dry_run.result


def _problems(db: Database, policy: Policy, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _apply(db, policy, text)
    return [str(p) for p in caught.value.problems]


def _timeline(api: httpx.Client, incident_id: str, kind: str) -> list[dict]:
    events = api.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    return [e for e in events if e["kind"] == kind]


def test_config_file_keeps_contacts_checks_and_allow_list_and_exports_them_back(
    db: Database, policy: Policy
) -> None:
    text = CONFIG.format(
        mail="mailto://127.0.0.1:2525?from=h@example.com&to=aws@example.com&mode=insecure",
        hook="json://hooks.example.com/secret-token-123",
    )
    planned = _apply(db, policy, text, dry=True)
    assert [str(c) for c in planned.changes] == [
        "+ service payments",
        "+ external_contact aws-support",
        "+ external_contact cdn",
        "+ check payments-health",
        "+ check payments-cert",
        "+ allowed_target *.example.com",
        "+ allowed_target 10.0.0.0/8:443",
        "+ allowed_target https://status.example.com/api",
    ]
    with db.session(write=False) as session:  # a dry run writes nothing
        assert session.scalars(select(ServiceCheck)).all() == []

    _apply(db, policy, text)
    with db.session(write=False) as session:
        check = session.scalars(select(ServiceCheck).where(ServiceCheck.slug == "payments-cert"))
        cert = check.one()
        assert (cert.kind, cert.watch, cert.timeout_seconds) == ("tls", True, 5.0)
        assert cert.spec["warn_days"] == 30  # seed 001 5.5's default
        exported = export_yaml(session, now=NOW)
    assert "secret-token-123" in exported  # the export is for re-applying: mode 600 (docs)
    again = _apply(db, policy, exported)
    assert {c.action for c in again.changes} == {"unchanged"}, [str(c) for c in again.changes]

    # Pruning as in the other sections: what a given section no longer names goes.
    smaller = """\
external_contacts:
  - {slug: cdn, name: CDN vendor, kind: cdn_waf, language: ko, enabled: false}
checks: []
diagnostics: {allow: ["*.example.com"]}
"""
    pruned = _apply(db, policy, smaller, prune=True)
    assert sorted(str(c) for c in pruned.changes if c.action == "remove") == [
        "- allowed_target 10.0.0.0/8:443",
        "- allowed_target https://status.example.com/api",
        "- check payments-cert",
        "- check payments-health",
        "- external_contact aws-support",
    ]
    with db.session(write=False) as session:
        assert session.scalars(select(AllowedTarget.pattern)).all() == ["*.example.com"]

    assert _problems(
        db, policy, "diagnostics:\n  allow:\n    - ok.example.com\n    - bad host\n"
    ) == [
        "team.yaml:4: diagnostics.allow[1]: 'bad host' is not a host name, *.domain, IP "
        "address, CIDR (each with an optional :port) or http(s) URL prefix"
    ]
    bad = (
        "checks:\n  - id: c\n    name: C\n    service: nope\n"
        "    check: {kind: tcp, host: a, port: 1}\n"
    )
    assert _problems(db, policy, bad) == ["team.yaml:4: checks[0].service: unknown service 'nope'"]
    wrong_url = (
        "external_contacts:\n  - slug: x\n    name: X\n    contact_methods:\n"
        "      - {name: m, url: 'nope://x'}\n"
    )
    [problem] = _problems(db, policy, wrong_url)
    assert problem.startswith("team.yaml:5: external_contacts[0].contact_methods[0].url:")


def test_external_support_reaches_mail_and_webhook_once_and_the_vendors_ack_stays_on_timeline(
    api: httpx.Client,
    anon: httpx.Client,
    db: Database,
    policy: Policy,
    worker: Worker,
    smtp_server: SmtpServer,
    webhook: WebhookReceiver,
) -> None:
    _apply(
        db,
        policy,
        CONFIG.format(mail=smtp_server.url(to="aws@example.com"), hook=webhook.url("/aws")),
    )
    listed = api.get("/api/v1/external-contacts").json()
    assert [c["slug"] for c in listed] == ["aws-support", "cdn"]
    shown = api.get("/api/v1/external-contacts/aws-support").json()
    assert (shown["support_plan"], shown["sla_tier"]) == ("Enterprise", "Sev-1: 15 min")
    assert [m["url"] for m in shown["contact_methods"]] == [
        f"mailto://127.0.0.1:{smtp_server.port}/***",
        f"json://127.0.0.1:{webhook.port}/***",
    ]
    assert api.get("/api/v1/external-contacts/nope").status_code == 404

    incident = declare(api, title="Payments DB failover stuck")
    ic = api.put(f"/api/v1/incidents/{incident['id']}/roles/ic", json={"assignee": "minji"})
    assert ic.status_code == 200, ic.text
    body = {
        "target": {"contact": "aws-support"},
        "type": "external_support",
        "note": "RDS failover stuck for 20 minutes",
    }
    first = api.post(f"/api/v1/incidents/{incident['id']}/escalate", json=body)
    assert first.status_code == 202, first.text
    assert (first.json()["queued"], first.json()["recipients"]) == (2, ["AWS Enterprise Support"])
    twice = api.post(f"/api/v1/incidents/{incident['id']}/escalate", json=body)  # double click
    assert (twice.status_code, twice.json()["queued"], twice.json()["duplicate"]) == (202, 0, True)

    worker.run_once()
    [mail] = smtp_server.wait_for(1)
    [hook] = webhook.wait_for(1)
    text = body_of(mail)
    assert mail["To"] == "aws@example.com"
    assert "EXTERNAL SUPPORT" in subject_of(mail) and incident["id"] in subject_of(mail)
    for needed in (EXTERNAL, "RDS failover stuck for 20 minutes", "Payments DB failover stuck"):
        assert needed in text and needed in hook.json["message"]
    assert "Incident Commander: minji" in text
    assert "Resolve:" not in text  # a vendor may say it is on it, never resolve
    worker.run_once()
    assert len(smtp_server.messages) == 1 and len(webhook.received) == 1
    [event] = _timeline(api, incident["id"], "manual_escalation")
    assert event["data"]["target"] == "aws-support" and event["data"]["note"] == body["note"]

    ack = re.search(r"Acknowledge: \S+(/act/\S+)", text)
    assert ack is not None, text
    asked = anon.get(ack.group(1))
    assert asked.status_code == 200 and "AWS Enterprise Support" in asked.text
    assert anon.post(ack.group(1)).status_code == 200
    [acked] = _timeline(api, incident["id"], "contact_acknowledged")
    assert acked["summary"] == "acknowledged by AWS Enterprise Support"
    assert api.get(f"/api/v1/incidents/{incident['id']}").json()["acknowledged_at"] is None

    # A disabled contact cannot be paged; nor can anyone once the incident is over.
    off = api.post(
        f"/api/v1/incidents/{incident['id']}/escalate", json={"target": {"contact": "cdn"}}
    )
    assert (off.status_code, error_code(off)) == (422, "ESCALATION_TARGET_UNREACHABLE")
    canceled = move(api, incident["id"], "canceled", reason="a drill by mistake")
    assert canceled.status_code == 200, canceled.text
    late = api.post(f"/api/v1/incidents/{incident['id']}/escalate", json=body | {"note": "x"})
    assert (late.status_code, error_code(late)) == (409, "ESCALATION_INCIDENT_CLOSED")


def test_business_escalation_reaches_a_person_in_their_language_from_api_cli_and_console(
    api: httpx.Client,
    db: Database,
    server,
    settings,
    worker: Worker,
    smtp_server: SmtpServer,
) -> None:
    people.make_user(db, "cto", smtp_server.url(to="cto@example.com"), locale="ko")
    people.make_user(db, "lead", smtp_server.url(to="lead@example.com"), password=None)
    incident = declare(api, title="Checkout down for every user")
    url = f"/api/v1/incidents/{incident['id']}/escalate"
    sent = api.post(
        url,
        json={"target": {"user": "cto"}, "type": "business", "note": "Refund policy decision"},
    )
    assert sent.status_code == 202, sent.text
    worker.run_once()
    [mail] = smtp_server.wait_for(1)
    text = body_of(mail)
    assert BUSINESS in text and "경영진 의사결정 필요" in text and "필요한 결정: Refund" in text

    unknown = api.post(url, json={"target": {"user": "nobody"}, "type": "business"})
    assert (unknown.status_code, error_code(unknown)) == (404, "ESCALATION_TARGET_NOT_FOUND")
    two = api.post(url, json={"target": {"user": "cto", "team": "x"}})
    assert (two.status_code, error_code(two)) == (422, "VALIDATION_ERROR")
    wrong = api.post(url, json={"target": {"user": "cto"}, "type": "shout"})
    assert wrong.status_code == 422

    # The CLI, in this process, on the server's database: a team without schedules pages
    # every member.
    api.put("/api/v1/teams/sre", json={"id": "sre", "name": "SRE", "members": ["lead"]})
    haetae = Haetae({**_base_env(settings.data_dir), "DATABASE_URL": settings.database_url})
    out = haetae(f"escalate {incident['id']} --team sre --note 'Need hands' --json").json()
    assert (out["recipients"], out["type"]) == (["lead"], "page")
    assert "aws" not in haetae("external-contacts list").out
    haetae(f"escalate {incident['id']} --schedule none", expect=4)

    # The console's Page now panel.
    with console_for(server.url, db, "resp") as client:
        page = client.get(f"/incidents/{incident['id']}")
        assert 'id="panel-page-now"' in page.text and 'value="user:cto"' in page.text
        posted = client.post(
            f"/incidents/{incident['id']}/page-now",
            data={
                "csrf_token": csrf_from(page.text),
                "target": "user:lead",
                "type": "external_support",
                "note": "Console page",
            },
            headers={"HX-Request": "true"},
        )
        assert posted.status_code == 200, posted.text
        assert "Console page" in posted.text  # the timeline, re-rendered out of band
        listing = client.get("/external-contacts")
        assert listing.status_code == 200 and "No external contacts yet." in listing.text
    with db.session(write=False) as session:
        kinds = session.scalars(select(Notification.kind).order_by(Notification.id)).all()
    assert kinds.count("external_support") == 1 and kinds.count("business") == 1
