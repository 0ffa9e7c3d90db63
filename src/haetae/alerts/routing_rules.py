"""Routing rules kept in the database (tried before the policy file's): the one write path
for the API and `haetae apply`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.alerts.models import RoutingRule
from haetae.alerts.schemas import RoutingRuleIn
from haetae.errors import HaetaeError
from haetae.policy.routing import severity_problems
from haetae.policy.schema import Policy


def definition_of(spec: RoutingRuleIn) -> dict[str, Any]:
    """The rule as it is stored: only what differs from the defaults, by the file's names."""
    return spec.rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def check_rule(policy: Policy, spec: RoutingRuleIn) -> None:
    """422 when the rule names a severity or category the policy does not have."""
    problems = severity_problems(
        spec.rule, [s.id for s in policy.severities], [c.id for c in policy.categories]
    )
    if problems:
        fields = [
            {"field": "rule." + ".".join(str(p) for p in loc), "message": message}
            for loc, message in problems
        ]
        raise HaetaeError("VALIDATION_ERROR", "; ".join(m for _, m in problems), fields=fields)


def list_rules(session: Session) -> list[RoutingRule]:
    """In the order they are tried."""
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def find_rule(session: Session, name: str) -> RoutingRule | None:
    return session.scalars(select(RoutingRule).where(RoutingRule.name == name)).first()


def get_rule(session: Session, name: str) -> RoutingRule:
    row = find_rule(session, name)
    if row is None:
        raise HaetaeError("NOT_FOUND", f"No routing rule {name}.")
    return row


def create_rule(session: Session, spec: RoutingRuleIn, *, actor: str, now: datetime) -> RoutingRule:
    if find_rule(session, spec.rule.name) is not None:
        raise HaetaeError("CONFLICT", f"A routing rule named {spec.rule.name} exists.")
    row = RoutingRule(name=spec.rule.name, created_by=actor, created_at=now, definition={})
    session.add(row)
    return update_rule(session, row, spec, now=now)


def update_rule(
    session: Session, row: RoutingRule, spec: RoutingRuleIn, *, now: datetime
) -> RoutingRule:
    row.definition = definition_of(spec)
    row.position = spec.position
    row.enabled = spec.enabled
    row.updated_at = now
    session.flush()
    return row


def put_rule(session: Session, spec: RoutingRuleIn, *, actor: str, now: datetime) -> RoutingRule:
    """Create the rule, or replace the one of that name (what a config file asks for)."""
    row = find_rule(session, spec.rule.name)
    if row is None:
        return create_rule(session, spec, actor=actor, now=now)
    return update_rule(session, row, spec, now=now)


def delete_rule(session: Session, row: RoutingRule) -> None:
    session.delete(row)
    session.flush()
