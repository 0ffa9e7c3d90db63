"""Every kind of notification reads right in English and Korean, with its links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from haetae.notify.messages import KINDS, render
from haetae.policy.schema import Policy
from tests.notify.sample import PUBLIC, STARTED, incident

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

ACK = "https://haetae.example.com/act/ack-token"
RESOLVE = "https://haetae.example.com/act/resolve-token"


def test_every_kind_has_a_subject_and_body_in_both_languages(policy: Policy) -> None:
    for kind in KINDS:
        for locale in ("en", "ko"):
            message = render(
                kind,
                incident=incident(resolved_at=STARTED + timedelta(hours=1)),
                policy=policy,
                locale=locale,
                public_url=PUBLIC,
                extra={"items": ["a", "b"], "schedule": "Game SRE", "from": "a", "to": "b"},
            )
            assert message.subject and "\n" not in message.subject, (kind, locale)
            assert message.body.strip(), (kind, locale)
            assert "{{" not in message.body and "{%" not in message.body


def test_first_page_in_korean_follows_the_declaration_block(policy: Policy) -> None:
    message = render(
        "page",
        incident=incident(),
        policy=policy,
        locale="ko",
        public_url=PUBLIC,
        ack_url=ACK,
        resolve_url=RESOLVE,
        recipient="지훈",
    )
    assert message.subject == "[P1] INC-20261121-007 Matchmaking queue stuck"
    body = message.body
    assert "🚨 INCIDENT DECLARED 🚨" in body
    assert "서비스: matchmaking, game-server" in body
    assert "심각도: P1 (치명)" in body  # the policy's Korean name for P1
    assert "영향: 5000명 · kr" in body
    assert "발견자: minji" in body
    assert "온콜 담당: 지훈" in body
    assert "시작 시각: 2026-11-21 14:30 KST" in body  # the policy's zone, not UTC
    assert "https://haetae.example.com/incidents/INC-20261121-007" in body
    assert f"확인(ACK): {ACK}" in body
    assert f"해결: {RESOLVE}" in body


def test_first_page_in_english_follows_the_incident_alert(policy: Policy) -> None:
    message = render(
        "page",
        incident=incident(),
        policy=policy,
        locale="en-US",
        public_url=PUBLIC,
        ack_url=ACK,
        recipient="Jihoon",
    )
    body = message.body
    assert "🚨 INCIDENT ALERT 🚨" in body
    assert "Severity: P1 (Critical)" in body
    assert "Description: Players wait forever in the lobby" in body
    assert "Affected services: matchmaking, game-server" in body
    assert "On-call engineer: Jihoon" in body
    assert "Started: 2026-11-21 14:30 KST" in body
    assert f"Acknowledge: {ACK}" in body
    assert "Resolve:" not in body  # no resolve link given, no empty line for one


def test_escalation_carries_the_steps_note(policy: Policy) -> None:
    note = "P1 unresolved for 15 minutes: IC and all team leads"
    en = render(
        "escalation", incident=incident(), policy=policy, locale="en", public_url=PUBLIC, note=note
    )
    assert "ESCALATION" in en.subject
    assert "⚠️ ESCALATION REQUIRED ⚠️" in en.body
    assert note in en.body
    assert "Not acknowledged yet." in en.body
    ko = render(
        "escalation",
        incident=incident(acknowledged_at=STARTED + timedelta(minutes=3)),
        policy=policy,
        locale="ko",
        public_url=PUBLIC,
        note="P1 15분 경과: IC + 팀 리드 전원",
        ack_url=ACK,
    )
    assert "에스컬레이션" in ko.subject
    assert "P1 15분 경과: IC + 팀 리드 전원" in ko.body
    assert "확인 시각: 2026-11-21 14:33 KST" in ko.body
    assert ACK in ko.body


def test_update_reminder_gives_the_update_skeleton_and_when_it_was_due(policy: Policy) -> None:
    ko = render(
        "update_reminder", incident=incident(), policy=policy, locale="ko", public_url=PUBLIC
    )
    for line in ("🔄 [UPDATE]", "현재 상황:", "영향 범위:", "진행상황:", "예상 해결시간:"):
        assert line in ko.body
    assert "다음 업데이트:" in ko.body
    assert "2026-11-21 14:35 KST" in ko.body  # next_update_due, shown in Seoul time
    en = render(
        "update_reminder",
        incident=incident(),
        policy=policy,
        locale="en",
        public_url=PUBLIC,
        extra={"due_at": STARTED + timedelta(minutes=15)},
    )
    assert "was due at 2026-11-21 14:45 KST" in en.body
    assert "Current situation:" in en.body and "Next update:" in en.body


def test_resolution_notice_says_how_long_it_took_and_has_no_action_links(policy: Policy) -> None:
    resolved = incident(status="resolved", resolved_at=STARTED + timedelta(minutes=95))
    en = render(
        "resolved",
        incident=resolved,
        policy=policy,
        locale="en",
        public_url=PUBLIC,
        ack_url=ACK,
        resolve_url=RESOLVE,
    )
    assert en.subject.startswith("[P1] Resolved: INC-20261121-007")
    assert "Resolved at: 2026-11-21 16:05 KST" in en.body
    assert "Duration: 1h 35m" in en.body
    assert ACK not in en.body and RESOLVE not in en.body
    ko = render("resolved", incident=resolved, policy=policy, locale="ko", public_url=PUBLIC)
    assert "해결 시간: 2026-11-21 16:05 KST" in ko.body
    assert "지속 시간: 1시간 35분" in ko.body


def test_handoff_lists_the_policys_checklist(policy: Policy) -> None:
    extra = {
        "schedule": "Game SRE",
        "layer": "primary",
        "at": datetime(2026, 11, 23, 0, 0, tzinfo=UTC),
        "from_user": "Minji",
        "to_user": "Jihoon",
    }
    en = render(
        "handoff", incident=None, policy=policy, locale="en", public_url=PUBLIC, extra=extra
    )
    assert en.subject == "On-call hand-over: Game SRE (primary): Minji → Jihoon"
    assert "At: 2026-11-23 09:00 KST" in en.body
    assert "[ ] Open incidents and their state handed over" in en.body
    ko = render(
        "handoff", incident=None, policy=policy, locale="ko", public_url=PUBLIC, extra=extra
    )
    assert "이전 담당: Minji" in ko.body and "다음 담당: Jihoon" in ko.body
    assert "[ ] 진행 중 장애와 현황 전달" in ko.body


def test_test_message_names_the_recipient(policy: Policy) -> None:
    ko = render(
        "test", incident=None, policy=policy, locale="ko", public_url=PUBLIC, recipient="민지"
    )
    assert ko.subject.startswith("Haetae 테스트 알림")
    assert "민지" in ko.body
    assert "https://haetae.example.com" in ko.body


def test_bundle_lists_every_message(policy: Policy) -> None:
    items = ["[P1] INC-1 Login down", "[P2] INC-2 Slow search", "[P1] INC-3 Payments"]
    en = render(
        "bundle",
        incident=None,
        policy=policy,
        locale="en",
        public_url=PUBLIC,
        extra={"items": items},
    )
    assert en.subject == "3 incidents are paging you"
    for item in items:
        assert f"- {item}" in en.body
    assert "https://haetae.example.com/incidents" in en.body
    ko = render(
        "bundle",
        incident=None,
        policy=policy,
        locale="ko",
        public_url=PUBLIC,
        extra={"items": items},
    )
    assert ko.subject == "인시던트 3건이 호출 중입니다"


def test_short_form_is_the_subject_and_the_ack_link(policy: Policy) -> None:
    message = render(
        "page",
        incident=incident(title="x" * 400),
        policy=policy,
        locale="en",
        public_url=PUBLIC,
        ack_url=ACK,
        short=True,
    )
    assert message.body.endswith("\n" + ACK)
    assert len(message.body) <= 300


def test_policy_names_are_used_for_other_severity_schemes(policy: Policy) -> None:
    """A severity without a separate name shows once, not 'Sev1 (Sev1)'."""
    scheme = policy.model_copy(
        update={
            "severities": [
                s.model_copy(update={"name": s.id}) if s.id == "P2" else s
                for s in policy.severities
            ]
        }
    )
    message = render(
        "page", incident=incident(severity="P2"), policy=scheme, locale="en", public_url=PUBLIC
    )
    assert "Severity: P2\n" in message.body


def test_unknown_kind_is_refused(policy: Policy) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        render("carrier_pigeon", incident=None, policy=policy, locale="en", public_url=PUBLIC)
