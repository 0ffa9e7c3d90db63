"""Which escalation policies run for an incident: services first, then the policy file."""

from __future__ import annotations

from datetime import UTC, datetime

from haetae.db import Database
from haetae.escalation import policies
from haetae.people.models import Service
from haetae.policy.escalation import EscalationPolicySpec
from haetae.policy.schema import Policy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _spec(slug: str, wait: str = "5m") -> EscalationPolicySpec:
    return EscalationPolicySpec.model_validate(
        {"id": slug, "name": slug, "steps": [{"notify": [{"oncall": "primary"}], "wait": wait}]}
    )


def _service(slug: str, escalation: dict[str, list[str]]) -> Service:
    return Service(slug=slug, name=slug, escalation=escalation, created_at=NOW)


def test_without_services_the_policy_files_severity_rule_applies(
    db: Database, policy: Policy
) -> None:
    with db.session() as session:
        chosen = policies.policies_for(session, policy, severity="P1", services=[])
    assert [s.id for s in chosen.specs] == ["oncall-page", "p1-matrix"]
    assert chosen.unknown == []
    with db.session() as session:
        assert policies.policies_for(session, policy, severity="P4", services=[]) == ([], [])


def test_a_database_policy_wins_over_the_policy_files_of_the_same_slug(
    db: Database, policy: Policy
) -> None:
    with db.session() as session:
        policies.put_policy(session, policy, _spec("oncall-page", wait="7m"), now=NOW)
    with db.session() as session:
        found = policies.resolve(session, policy, "oncall-page")
        specs, _ = policies.policies_for(session, policy, severity="P1", services=[])
        assert policies.resolve(session, policy, "p1-matrix") == policy.escalation.policy(
            "p1-matrix"
        )
        assert policies.resolve(session, policy, "nope") is None
    assert found is not None and found.steps[0].wait == "7m"
    assert specs[0].steps[0].wait == "7m"


def test_the_first_service_with_an_entry_for_the_severity_decides_and_unknown_slugs_are_returned(
    db: Database, policy: Policy
) -> None:
    with db.session() as session:
        policies.put_policy(session, policy, _spec("payments-page"), now=NOW)
        session.add(_service("search", {"P2": ["oncall-page"]}))
        session.add(_service("payments", {"P1": ["payments-page", "ghost", "p1-matrix"]}))
        session.add(_service("quiet", {"P1": []}))
    with db.session() as session:
        first = policies.policies_for(
            session, policy, severity="P1", services=["search", "payments", "quiet"]
        )
        silenced = policies.policies_for(
            session, policy, severity="P1", services=["nowhere", "quiet", "payments"]
        )
        fallback = policies.policies_for(session, policy, severity="P3", services=["search"])
    assert [s.id for s in first.specs] == ["payments-page", "p1-matrix"]
    assert first.unknown == ["ghost"]
    assert silenced == ([], [])
    assert [s.id for s in fallback.specs] == ["oncall-page", "p3-matrix"]
