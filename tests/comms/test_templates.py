"""Communication templates (the seeds' words, the sandbox, check and render) and status updates'
next steps and required fields, over the API, the console and the CLI in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from haetae.comms import templates
from haetae.comms.template_context import sample_context
from haetae.db import Database
from haetae.errors import HaetaeError
from haetae.incidents import roles, service
from haetae.incidents.schemas import IncidentDeclare
from haetae.policy.communications import EVENT_KINDS, TEMPLATE_KINDS, CommunicationsSection
from haetae.policy.schema import Policy
from tests.api.helpers import declare, error_code, move
from tests.cli.conftest import Haetae, haetae
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from

__all__ = ["haetae"]

ROOT = Path(__file__).resolve().parents[2]
# Seed 002's P0 templates, word for word.
FIRST_NOTICE = [
    "🚨 **서비스 장애 안내**",
    "현재 Korea Public Data 서비스에 일시적인 장애가 발생하여 접속이 어려우실 수 있습니다.",
    "- 예상 복구: 30분 이내",
    "신속한 복구를 위해 최선을 다하고 있으며, 복구 진행 상황은 지속적으로 업데이트해드리겠습니다.",
]
RECOVERY_NOTICE = [
    "✅ **서비스 정상화 완료**",
    "Korea Public Data 서비스가 정상 복구되었습니다.",
    "- 원인: 데이터베이스 연결 장애",
    "이용에 불편을 드려 죄송합니다. 재발 방지를 위한 개선 작업을 진행하겠습니다.",
]
SEV1_FIELDS = ["customer_impact", "workaround", "mitigation_eta", "final_eta"]


@pytest.fixture
def reporting_policy(policy: Policy, server: RunningServer) -> Iterator[Policy]:
    """The suite's policy with seed 004's SEV-1 report asked of P1 and seed 002's next steps
    asked of P4."""
    comms = CommunicationsSection(required_fields={"P1": SEV1_FIELDS, "P4": ["next_steps"]})
    changed = policy.model_copy(update={"communications": comms})
    state = server.app.state
    kept = state.policy
    state.policy = changed
    try:
        yield changed
    finally:
        state.policy = kept


def _render(api: httpx.Client, kind: str, incident_id: str, locale: str, **extra: object) -> dict:
    body = {"kind": kind, "incident_id": incident_id, "locale": locale, **extra}
    response = api.post("/api/v1/templates/render", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_every_template_renders_in_both_languages_with_seed_002_words(
    api: httpx.Client, reporting_policy: Policy
) -> None:
    listed = api.get("/api/v1/templates").json()
    assert listed["kinds"] == [*TEMPLATE_KINDS, *EVENT_KINDS]
    assert {(t["kind"], t["locale"], t["source"]) for t in listed["templates"]} == {
        (k, loc, "shipped") for k in listed["kinds"] for loc in ("ko", "en")
    }
    incident = declare(
        api,
        title="메인 페이지 접속 불가",
        services=["Korea Public Data"],
        severity="P4",
        severity_reason="the templates test",
    )
    inc = incident["id"]
    # Seed 002's update needs its Next Steps (asked of P4 here).
    update = {"situation": "DB 커넥션 풀 소진", "impact": "전체 서비스", "eta": "30분 이내"}
    refused = api.post(f"/api/v1/incidents/{inc}/updates", json=update)
    assert refused.status_code == 422
    assert error_code(refused) == "UPDATE_FIELDS_REQUIRED"
    assert refused.json()["error"]["details"]["fields"] == ["next_steps"]
    posted = api.post(
        f"/api/v1/incidents/{inc}/updates", json={**update, "next_steps": "읽기 전용 복제본 전환"}
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["next_steps"] == "읽기 전용 복제본 전환"

    for kind in listed["kinds"]:
        for locale in ("ko", "en"):
            out = _render(api, kind, inc, locale)
            assert out["subject"] and out["body"], (kind, locale)
            assert "{{" not in out["body"] and "{%" not in out["body"], (kind, locale)
    first = _render(api, "customer_first_notice", inc, "ko")
    assert first["subject"] == "🚨 서비스 장애 안내"
    for sentence in FIRST_NOTICE:
        assert sentence in first["body"].splitlines(), sentence
    internal = _render(api, "internal_update", inc, "ko")["body"]
    assert "**다음 단계**: 읽기 전용 복제본 전환" in internal
    assert f"/incidents/{inc}" in internal
    english = _render(api, "internal_update", inc, "en")["body"]
    assert "**Next Steps**: 읽기 전용 복제본 전환" in english

    resolved = move(
        api, inc, "resolved", summary="데이터베이스 연결 장애", override_conditions=True
    )
    assert resolved.status_code == 200, resolved.text
    recovery = _render(api, "recovery_notice", inc, "ko")
    assert recovery["subject"] == "✅ 서비스 정상화 완료"
    for sentence in RECOVERY_NOTICE:
        assert sentence in recovery["body"].splitlines(), sentence
    assert "- 장애 지속 시간: " in recovery["body"]

    # The public form of the announcement: no id, no URL, no name, no internal words.
    public = _render(api, "public_announcement", inc, "ko", public=True)
    text = public["subject"] + public["body"]
    assert "일시적 서비스 장애 발생" in text
    for secret in (inc, "/incidents/", "DB 커넥션 풀 소진", "데이터베이스 연결 장애", "admin"):
        assert secret not in text

    unknown = api.post(
        "/api/v1/templates/render", json={"kind": "tweet", "incident_id": inc, "locale": "en"}
    )
    assert unknown.status_code == 404 and error_code(unknown) == "UNKNOWN_TEMPLATE"


def test_required_fields_refuse_an_update_and_the_console_shows_them(
    api: httpx.Client, server: RunningServer, db: Database, reporting_policy: Policy
) -> None:
    inc = declare(api)["id"]  # revenue x all: P1, seed 004's SEV-1 report
    refused = api.post(f"/api/v1/incidents/{inc}/updates", json={"situation": "5xx on /api"})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["fields"] == SEV1_FIELDS
    with console_for(server.url, db, "alice", role="responder") as alice:
        page = alice.get(f"/incidents/{inc}")
        assert 'name="field_mitigation_eta"' in page.text and 'name="next_steps"' in page.text
        form = {"csrf_token": csrf_from(page.text), "situation": "5xx on /api"}
        half = alice.post(f"/incidents/{inc}/updates", data={**form, "field_workaround": "no"})
        assert half.status_code == 422
        assert "also needs: Customer impact, Mitigation ETA, Final ETA" in half.text
        filled = {
            **form,
            "next_steps": "Roll back 1.4.2",
            "field_customer_impact": "Checkout fails for everyone",
            "field_workaround": "none",
            "field_mitigation_eta": "15:30",
            "field_final_eta": "17:00",
        }
        assert alice.post(f"/incidents/{inc}/updates", data=filled).status_code == 303
        shown = alice.get(f"/incidents/{inc}").text
        assert "Roll back 1.4.2" in shown and "Checkout fails for everyone" in shown
        assert "Mitigation ETA" in shown
    stored = api.get(f"/api/v1/incidents/{inc}/updates").json()[-1]
    assert stored["next_steps"] == "Roll back 1.4.2"
    assert stored["fields"] == {
        "customer_impact": "Checkout fails for everyone",
        "workaround": "none",
        "mitigation_eta": "15:30",
        "final_eta": "17:00",
    }
    moved = api.patch(f"/api/v1/incidents/{inc}", json={"severity": "P2", "severity_reason": "x"})
    assert moved.status_code == 200, moved.text
    assert "P1 → P2" in _render(api, "severity_change", inc, "ko")["subject"]
    mgmt = _render(api, "management_summary", inc, "en")["body"]
    assert "- Impact: Checkout fails for everyone" in mgmt
    assert "**Incident Summary**" in mgmt


def test_public_context_holds_no_names_notes_or_urls(db: Database, policy: Policy) -> None:
    from haetae.clock import utcnow
    from haetae.incidents import activity
    from haetae.incidents.schemas import NoteIn, StatusUpdateIn

    now = utcnow()
    with db.session(write=True) as session:
        incident = service.declare_incident(
            session,
            policy,
            IncidentDeclare(
                title="Login fails",
                business_impact="revenue",
                user_impact="all",
                services=["auth"],
                tags=["secret-label"],
            ),
            actor="kim.jisoo",
            now=now,
        )
        roles.assign_role(
            session,
            policy,
            incident.id,
            role="ic",
            assignee="park.minji",
            actor="kim.jisoo",
            now=now,
        )
        activity.add_note(
            session, incident.id, NoteIn(body="root password rotated"), author="kim.jisoo", now=now
        )
        activity.post_update(
            session,
            policy,
            incident.id,
            StatusUpdateIn(situation="internal: db-7 is down", eta="1h"),
            author="kim.jisoo",
            now=now,
        )
        full = templates.context_for(
            session, policy, incident, "en", now=now, base_url="https://haetae.example"
        )
        public = templates.context_for(
            session, policy, incident, "en", now=now, public=True, base_url="https://haetae.example"
        )
        rendered = templates.render(session, policy, "public_announcement", public, "en")
    assert full["roles"][0]["name"] == "park.minji" and full["url"].endswith(incident.id)
    dumped = json.dumps(public, ensure_ascii=False) + rendered.subject + rendered.body
    for secret in (
        "kim.jisoo",
        "park.minji",
        "root password",
        "db-7",
        "https://",
        incident.id,
        "secret-label",
    ):
        assert secret not in dumped, secret
    assert public["title"] == "Login fails" and public["update"] == {
        "eta": "1h",
        "at": public["update"]["at"],
    }


@pytest.mark.no_database
def test_template_reaching_outside_its_context_fails_and_leaks_nothing(
    tmp_path: Path, policy: Policy
) -> None:
    (tmp_path / "internal_update.en.txt").write_text(
        "Subject: hi\n\n{{ title.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8"
    )
    (tmp_path / "disband.en.txt").write_text(
        "Subject: loop\n\n{% for a in range(9999) %}{% for b in range(9999) %}"
        "{% for c in range(9999) %}{% endfor %}{% endfor %}{% endfor %}\n",
        encoding="utf-8",
    )
    (tmp_path / "update.en.txt").write_text(
        "Subject: big\n\n{% for a in range(9999) %}{{ title }}{{ title }}{% endfor %}\n",
        encoding="utf-8",
    )
    context = sample_context("en")
    for kind, reason in (
        ("internal_update", "'__class__' is not allowed"),
        ("disband", "ran too long"),
        ("update", "longer than 20000"),
    ):
        with pytest.raises(HaetaeError) as caught:
            templates.render(None, policy, kind, context, "en", dirs=[tmp_path])
        assert caught.value.code == "TEMPLATE_ERROR" and caught.value.status == 422
        assert reason in caught.value.message
        assert "<class" not in caught.value.message and "object at 0x" not in caught.value.message
    # check: file:line for a syntax error, a missing subject and a bad name; shipped are clean.
    (tmp_path / "update.en.txt").write_text(
        "Subject: x\n\nline 3\n{% if title %}\nline 5\n", encoding="utf-8"
    )
    (tmp_path / "disband.ko.txt").write_text("no subject\n\nbody\n", encoding="utf-8")
    (tmp_path / "tweet.en.txt").write_text("Subject: x\n\nbody\n", encoding="utf-8")
    found = {(Path(p.file).name, p.line) for p in templates.check([tmp_path])}
    assert ("update.en.txt", 5) in found or ("update.en.txt", 6) in found
    assert ("disband.ko.txt", 1) in found and ("tweet.en.txt", None) in found
    assert ("internal_update.en.txt", 3) in found
    assert templates.check([templates.SHIPPED]) == []
    # What create_app and `haetae worker` configure is what a render without `dirs` reads.
    (tmp_path / "resolution.en.txt").write_text("Subject: done\n\n{{ title }}\n", "utf-8")
    try:
        templates.configure(templates_dir=str(tmp_path))
        out = templates.render(None, policy, "resolution", context, "en")
    finally:
        templates.configure()
    assert (out.subject, out.body) == ("done", "Payment API errors")


def test_cli_checks_renders_and_posts_seed_004_fields(haetae: Haetae, tmp_path: Path) -> None:
    seed004 = str(ROOT / "policies" / "seed-004-sev1-3.yaml")
    inc = haetae(
        "declare --title 'API 5xx' --service api --severity SEV-3 --reason test --json",
        POLICY_FILE=seed004,
    ).json()["id"]
    refused = haetae(f"update {inc} --situation '일부 5xx'", expect=3, POLICY_FILE=seed004)
    assert "UPDATE_FIELDS_REQUIRED" in refused.err and "permanent_fix" in refused.err
    haetae(
        f"update {inc} --situation '일부 5xx' --next-steps '캐시 재구성' "
        "--field customer_impact=일부 --field workaround=재시도 --field permanent_fix=다음주",
        POLICY_FILE=seed004,
    )
    out = haetae(
        f"templates render internal_update --incident {inc} --lang ko", POLICY_FILE=seed004
    ).out
    assert "**다음 단계**: 캐시 재구성" in out and "**영구 조치 일정**: 다음주" in out
    # An override folder from the policy's point of view: COMMS_TEMPLATES_DIR.
    (tmp_path / "disband.ko.txt").write_text("Subject: 끝\n\n{{ title }} 해산\n", encoding="utf-8")
    out = haetae(
        f"templates render disband --incident {inc}",
        COMMS_TEMPLATES_DIR=str(tmp_path),
        POLICY_FILE=seed004,
    ).out
    assert out.splitlines()[:3] == ["끝", "", "API 5xx 해산"]
    (tmp_path / "update.en.txt").write_text("Subject: x\n\n{{ title }\n", encoding="utf-8")
    bad = haetae(f"templates check {tmp_path}", expect=1)
    assert f"{tmp_path / 'update.en.txt'}:3:" in bad.out
    assert "OK" in haetae("templates check").out
