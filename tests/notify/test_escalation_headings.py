"""Which template a step sends (declaration or escalation) and the seed's heading on it, in
English and Korean."""

from __future__ import annotations

from pathlib import Path

import pytest

from haetae.incidents.models import Incident
from haetae.notify.messages import render
from haetae.policy.escalation import EscalationPolicySpec
from haetae.policy.loader import load_policy_file
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from tests.notify.sample import PUBLIC, incident

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

SEED_000 = Path(__file__).parents[2] / "policies" / "seed-000-sev0-3.yaml"
DECLARED = {"en": "🚨 INCIDENT ALERT 🚨", "ko": "🚨 INCIDENT DECLARED 🚨"}


@pytest.fixture(scope="module")
def seed_000() -> Policy:
    return load_policy_file(SEED_000)


def _incident(severity: str) -> Incident:
    return incident(
        id="INC-20261121-001",
        title="Matchmaking down",
        summary="",
        status="triage",
        severity=severity,
        services=["matchmaking"],
        impact={},
        business_impact=None,
        user_impact=None,
        next_update_due=None,
    )


def _step_message(
    policy: Policy, slug: str, index: int, loop: int, severity: str, locale: str
) -> tuple[str, str]:
    """The kind and body a step of a policy file's escalation policy sends, as the engine
    makes them (kind from the policy, heading and note in the outbox row's data)."""
    spec = policy.escalation.policy(slug)
    assert spec is not None, slug
    kind = spec.message_kind(index, loop)
    step = spec.steps[index]
    message = render(
        kind,
        incident=_incident(severity),
        policy=policy,
        locale=locale,
        public_url=PUBLIC,
        note=localized(step.note, locale),
        extra={"heading": spec.heading_of(index)},
    )
    return kind, message.body


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_only_the_first_page_of_a_declaration_uses_the_declaration_template(
    policy: Policy, locale: str
) -> None:
    kind, body = _step_message(policy, "oncall-page", 0, 0, "P1", locale)
    assert kind == "page"
    assert DECLARED[locale] in body
    assert "ESCALATION" not in body


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_a_second_step_is_an_escalation_with_the_required_heading(
    policy: Policy, locale: str
) -> None:
    kind, body = _step_message(policy, "oncall-page", 1, 0, "P1", locale)
    assert kind == "escalation"
    assert body.startswith("⚠️ ESCALATION REQUIRED ⚠️")
    assert DECLARED[locale] not in body
    # A repeat of the first step is no new declaration either.
    assert _step_message(policy, "oncall-page", 0, 1, "P1", locale)[0] == "escalation"


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_a_step_after_a_delay_is_an_escalation_that_says_who_is_brought_in_and_why(
    policy: Policy, locale: str
) -> None:
    # Seed 001's P2 matrix: its first step runs 15 minutes after the start.
    kind, body = _step_message(policy, "p2-matrix", 0, 0, "P2", locale)
    assert kind == "escalation"
    assert body.startswith("⚠️ ESCALATION REQUIRED ⚠️")
    expected = {
        "en": "P2 unresolved for 15 minutes: the Tech Lead is brought in to direct the "
        "root-cause analysis",
        "ko": "P2 15분 경과 미해결: Tech Lead 합류 (원인 분석 지휘)",
    }
    assert expected[locale] in body


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_seed_000_sev0_leadership_page_is_a_critical_escalation(
    seed_000: Policy, locale: str
) -> None:
    assert seed_000.escalation.by_severity["Sev0"] == ["oncall-page", "sev0-cto"]
    kind, body = _step_message(seed_000, "sev0-cto", 0, 0, "Sev0", locale)
    # Sent at declaration, yet an escalation, under the seed's own heading and words.
    assert kind == "escalation"
    lines = body.splitlines()
    assert lines[0] == "🚨 CRITICAL ESCALATION 🚨"
    if locale == "ko":
        assert lines[1] == "Sev0 인시던트 발생 - 즉시 대응 필요"
    assert "ESCALATION REQUIRED" not in body
    # The on-call's page at the same moment is the declaration.
    kind, body = _step_message(seed_000, "oncall-page", 0, 0, "Sev0", locale)
    assert kind == "page" and DECLARED[locale] in body


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_seed_000_sev1_after_15_minutes_is_escalation_required(
    seed_000: Policy, locale: str
) -> None:
    kind, body = _step_message(seed_000, "sev1-leads", 0, 0, "Sev1", locale)
    assert kind == "escalation"
    lines = body.splitlines()
    assert lines[0] == "⚠️ ESCALATION REQUIRED ⚠️"
    if locale == "ko":
        assert lines[1] == "Sev1 인시던트 15분 미해결 - 팀 리드 개입 필요"


@pytest.mark.parametrize(
    ("heading", "words"),
    [
        ("external", "🔧 EXTERNAL SUPPORT REQUIRED 🔧"),
        ("business", "💼 BUSINESS ESCALATION 💼"),
    ],
)
def test_a_policy_can_choose_the_manual_escalation_headings(
    policy: Policy, heading: str, words: str
) -> None:
    spec = EscalationPolicySpec.model_validate(
        {
            "id": "vendors",
            "steps": [
                {"notify": [{"team": "sre"}], "wait": "30m"},
                {"notify": [{"team": "vendors"}], "heading": heading},
            ],
        }
    )
    # A step's own heading; the first step (no heading, at once) stays the declaration.
    assert spec.message_kind(0, 0) == "page"
    assert spec.message_kind(1, 0) == "escalation" and spec.heading_of(1) == heading
    for locale in ("en", "ko"):
        body = render(
            "escalation",
            incident=_incident("P1"),
            policy=policy,
            locale=locale,
            public_url=PUBLIC,
            extra={"heading": heading},
        ).body
        assert body.splitlines()[0] == words


def test_an_unknown_heading_is_refused_by_the_policy() -> None:
    with pytest.raises(ValueError, match="heading"):
        EscalationPolicySpec.model_validate(
            {"id": "x", "heading": "urgent", "steps": [{"notify": [{"team": "sre"}]}]}
        )
