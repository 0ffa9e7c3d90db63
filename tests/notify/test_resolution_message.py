"""Seed 000's disbanding message ("✅ INCIDENT RESOLVED ✅") in English and Korean."""

from __future__ import annotations

from datetime import timedelta

import pytest

from haetae.incidents.lifecycle import RESOLVED_BY_ALERTS, RESOLVED_FROM_LINK
from haetae.incidents.models import Incident
from haetae.notify.messages import Message, render
from haetae.policy.schema import Policy
from tests.notify.sample import PUBLIC, STARTED, incident

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's


def resolved(summary: str | None) -> Incident:
    return incident(
        id="INC-20261121-003",
        title="Payments fail",
        summary="",
        status="resolved",
        services=["payments", "checkout"],
        impact={"users": 1200, "features": ["card payments"]},
        acknowledged_at=STARTED + timedelta(minutes=2),
        resolved_at=STARTED + timedelta(minutes=47),
        next_update_due=None,
        resolution_summary=summary,
    )


def disbanding(policy: Policy, summary: str, locale: str) -> Message:
    return render(
        "resolved", incident=resolved(summary), policy=policy, locale=locale, public_url=PUBLIC
    )


def test_korean_disbanding_message_follows_seed_000(policy: Policy) -> None:
    message = disbanding(policy, "결제 게이트웨이 배포 롤백", "ko")
    lines = message.body.splitlines()
    assert lines[0] == "✅ INCIDENT RESOLVED ✅"
    for line in (
        "서비스: payments, checkout",
        "해결 시간: 2026-11-21 15:17 KST",
        "지속 시간: 47분",
        "해결 방법: 결제 게이트웨이 배포 롤백",
        "영향 범위: 1200명 · card payments · 매출 직접 영향 · 전체",
        "팀 해산 및 포스트모템 준비 시작",
    ):
        assert line in lines, (line, lines)


def test_english_disbanding_message_says_the_same_in_english(policy: Policy) -> None:
    message = disbanding(policy, "Rolled back the payment gateway release", "en")
    lines = message.body.splitlines()
    assert lines[0] == "✅ INCIDENT RESOLVED ✅"
    for line in (
        "Service: payments, checkout",
        "Resolved at: 2026-11-21 15:17 KST",
        "Duration: 47m",
        "How it was resolved: Rolled back the payment gateway release",
        "The response team stands down; post-mortem preparation begins.",
    ):
        assert line in lines, (line, lines)
    assert any(line.startswith("Impact scope: 1200 users · card payments") for line in lines)
    assert "팀 해산" not in message.body
    assert message.subject == "[P1] Resolved: INC-20261121-003 Payments fail"


def test_a_link_resolution_is_said_in_the_readers_language(policy: Policy) -> None:
    en = disbanding(policy, RESOLVED_FROM_LINK, "en")
    ko = disbanding(policy, RESOLVED_FROM_LINK, "ko")
    assert "How it was resolved: resolved from a page link" in en.body
    assert "해결 방법: 알림의 링크로 해결함" in ko.body


def test_a_resolution_by_the_alerts_is_said_in_the_readers_language(policy: Policy) -> None:
    en = disbanding(policy, RESOLVED_BY_ALERTS, "en")
    ko = disbanding(policy, RESOLVED_BY_ALERTS, "ko")
    assert "How it was resolved: resolved when all of its alerts resolved" in en.body
    assert "해결 방법: 모든 알림이 해소되어 해결됨" in ko.body


def test_without_a_summary_the_line_shows_a_dash(policy: Policy) -> None:
    # An incident resolved before summaries were asked for has none.
    body = render(
        "resolved", incident=resolved(None), policy=policy, locale="en", public_url=PUBLIC
    ).body
    assert "How it was resolved: —" in body
