"""Escalation policies: the policy file's and those made through the API or `haetae apply`,
and which of them run for an incident.

A database row and a policy-file policy may share a slug; the row wins, so a team can
change a default policy without editing the policy file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.escalation.models import EscalationPolicy
from haetae.inputs import check_text, problems_error, validation_error
from haetae.oncall.models import Schedule
from haetae.people.models import Service, Team
from haetae.policy.escalation import EscalationPolicySpec
from haetae.policy.schema import Policy
from haetae.policy.terms import localized

SOURCE_API = "api"
SOURCE_POLICY = "policy"


class ChosenPolicies(NamedTuple):
    """What `policies_for` found: the specs to run, in order, and the slugs named for the
    severity that neither the database nor the policy file defines (the caller records
    them, e.g. on the incident's timeline). Unpacks as `specs, unknown = ...`."""

    specs: list[EscalationPolicySpec]
    unknown: list[str]


@dataclass(frozen=True)
class ListedPolicy:
    spec: EscalationPolicySpec
    source: str  # "api" (a database row, from the API or `haetae apply`) or "policy"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # A policy-file policy of the same slug that this row hides.
    overrides_policy_file: bool = field(default=False)


def spec_of(row: EscalationPolicy) -> EscalationPolicySpec:
    return EscalationPolicySpec.model_validate({**row.spec, "id": row.slug})


def _rows(session: Session, slugs: list[str] | None = None) -> dict[str, EscalationPolicy]:
    query = select(EscalationPolicy)
    if slugs is not None:
        if not slugs:
            return {}
        query = query.where(EscalationPolicy.slug.in_(slugs))
    return {row.slug: row for row in session.scalars(query)}


def resolve(session: Session, policy: Policy, slug: str) -> EscalationPolicySpec | None:
    """The escalation policy called `slug`: a database row, else the policy file's, else None."""
    row = session.scalars(select(EscalationPolicy).where(EscalationPolicy.slug == slug)).first()
    if row is not None:
        return spec_of(row)
    return policy.escalation.policy(slug)


def slugs_for(session: Session, policy: Policy, *, severity: str, services: list[str]) -> list[str]:
    """The policy slugs that apply: the first of the services (in the incident's order) with
    an `escalation` entry for the severity decides (an empty entry means nobody is paged);
    otherwise the policy file's `escalation.by_severity`."""
    if services:
        rows = session.scalars(select(Service).where(Service.slug.in_(services)))
        by_slug = {row.slug: row for row in rows}
        for slug in services:
            service = by_slug.get(slug)
            if service is not None and severity in (service.escalation or {}):
                return list(service.escalation[severity])
    return list(policy.escalation.by_severity.get(severity, []))


def policies_for(
    session: Session, policy: Policy, *, severity: str, services: list[str]
) -> ChosenPolicies:
    """The escalation policies to start for an incident of this severity and these services.

    Slugs that name no policy are skipped and returned in `unknown`, so an incident is
    still paged by the policies that do exist.
    """
    slugs = list(dict.fromkeys(slugs_for(session, policy, severity=severity, services=services)))
    rows = _rows(session, slugs)
    specs: list[EscalationPolicySpec] = []
    unknown: list[str] = []
    for slug in slugs:
        row = rows.get(slug)
        spec = spec_of(row) if row is not None else policy.escalation.policy(slug)
        if spec is None:
            unknown.append(slug)
        else:
            specs.append(spec)
    return ChosenPolicies(specs, unknown)


# Managing the database's policies (the API and `haetae apply`).


def list_policies(session: Session, policy: Policy) -> list[ListedPolicy]:
    """Every policy in force, by slug: database rows and the policy file's that no row hides."""
    rows = _rows(session)
    listed = [
        ListedPolicy(
            spec_of(row),
            SOURCE_API,
            row.created_at,
            row.updated_at,
            overrides_policy_file=policy.escalation.policy(slug) is not None,
        )
        for slug, row in rows.items()
    ]
    listed += [
        ListedPolicy(p, SOURCE_POLICY) for p in policy.escalation.policies if p.id not in rows
    ]
    return sorted(listed, key=lambda item: item.spec.id)


def get_row(session: Session, slug: str) -> EscalationPolicy | None:
    return session.scalars(select(EscalationPolicy).where(EscalationPolicy.slug == slug)).first()


def parse_spec(data: dict[str, Any], prefix: str = "") -> EscalationPolicySpec:
    try:
        check_text(data)
    except ValueError as exc:
        raise HaetaeError("VALIDATION_ERROR", f"{prefix or 'body'}: {exc}.") from None
    try:
        return EscalationPolicySpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors(), prefix) from None


def reference_problems(
    session: Session,
    policy: Policy,
    spec: EscalationPolicySpec,
    *,
    users: set[str] | None = None,
    teams: set[str] | None = None,
    schedules: set[str] | None = None,
) -> list[tuple[tuple[str | int, ...], str]]:
    """Targets naming a user, team, schedule or role that does not exist, each with its
    location under the spec (`steps.0.notify.1.user`). The optional sets add names that are
    about to exist (defined in the same config file)."""
    wanted_users = {t.user for s in spec.steps for t in s.notify if t.user}
    wanted_teams = {t.team for s in spec.steps for t in s.notify if t.team}
    wanted_schedules = {t.schedule for s in spec.steps for t in s.notify if t.schedule}
    known_users = set(users or ())
    known_teams = set(teams or ())
    known_schedules = set(schedules or ())
    if wanted_users - known_users:
        known_users |= set(
            session.scalars(select(User.username).where(User.username.in_(wanted_users)))
        )
    if wanted_teams - known_teams:
        known_teams |= set(session.scalars(select(Team.slug).where(Team.slug.in_(wanted_teams))))
    if wanted_schedules - known_schedules:
        known_schedules |= set(
            session.scalars(select(Schedule.slug).where(Schedule.slug.in_(wanted_schedules)))
        )
    role_ids = [r.id for r in policy.roles]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for j, step in enumerate(spec.steps):
        for k, target in enumerate(step.notify):
            where: tuple[str | int, ...] = ("steps", j, "notify", k, target.kind)
            if target.user is not None and target.user not in known_users:
                problems.append((where, f"unknown user '{target.user}'"))
            elif target.team is not None and target.team not in known_teams:
                problems.append((where, f"unknown team '{target.team}'"))
            elif target.schedule is not None and target.schedule not in known_schedules:
                problems.append((where, f"unknown schedule '{target.schedule}'"))
            elif target.role is not None and target.role not in role_ids:
                problems.append(
                    (
                        where,
                        f"role '{target.role}' is not in the policy's roles "
                        f"(one of: {', '.join(role_ids)})",
                    )
                )
    return problems


def _check_references(session: Session, policy: Policy, spec: EscalationPolicySpec) -> None:
    problems = reference_problems(session, policy, spec)
    if problems:
        raise problems_error(problems)


def _stored(spec: EscalationPolicySpec) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def put_policy(
    session: Session,
    policy: Policy,
    spec: EscalationPolicySpec,
    *,
    now: datetime,
    check_references: bool = True,
) -> tuple[EscalationPolicy, bool]:
    """Create or replace the database's policy `spec.id`; True when it was created."""
    if check_references:
        _check_references(session, policy, spec)
    row = get_row(session, spec.id)
    created = row is None
    if row is None:
        row = EscalationPolicy(slug=spec.id, created_at=now, spec={})
        session.add(row)
    row.name = localized(spec.name, "en")[:200]
    row.description = localized(spec.description, "en")
    row.spec = _stored(spec)
    row.updated_at = now
    session.flush()
    return row, created


def create_policy(
    session: Session, policy: Policy, spec: EscalationPolicySpec, *, now: datetime
) -> EscalationPolicy:
    if get_row(session, spec.id) is not None:
        raise HaetaeError("CONFLICT", f"Escalation policy '{spec.id}' already exists.")
    row, _ = put_policy(session, policy, spec, now=now)
    return row


def delete_policy(session: Session, slug: str) -> None:
    """Delete a database policy. A policy-file policy of the same slug applies again."""
    row = get_row(session, slug)
    if row is None:
        raise HaetaeError("NOT_FOUND", f"No escalation policy '{slug}' made through the API.")
    session.delete(row)
    session.flush()
