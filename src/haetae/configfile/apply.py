"""`haetae apply`: make the database say what a config file says, in the caller's one
transaction. First every reference is checked (and names defined in the same file count),
then the differences are worked out, then only those are written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from haetae.alerts import integrations as integration_service
from haetae.alerts import routing_rules
from haetae.alerts.models import Integration
from haetae.alerts.schemas import RoutingRuleIn
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.configfile import comms_sections, export
from haetae.configfile.schema import (
    SECTIONS,
    ConfigError,
    ConfigProblem,
    ExternalContactSpec,
    LoadedConfig,
    Loc,
    UserSpec,
)
from haetae.contacts import queries as contact_queries
from haetae.contacts import service as contacts
from haetae.diagnostics.models import AllowedTarget, ServiceCheck
from haetae.diagnostics.schemas import CheckDefinition
from haetae.errors import HaetaeError
from haetae.escalation import policies
from haetae.escalation.models import EscalationPolicy
from haetae.inputs import is_number
from haetae.notify import channels
from haetae.oncall import service as oncall
from haetae.oncall.models import Schedule
from haetae.people import service as people
from haetae.people import teams
from haetae.people.models import Service, Team
from haetae.policy.routing import severity_problems
from haetae.policy.schema import Policy

KINDS = {
    "users": "user",
    "teams": "team",
    "schedules": "schedule",
    "escalation_policies": "escalation_policy",
    "services": "service",
    "integrations": "integration",
    "routing_rules": "routing_rule",
    "external_contacts": "external_contact",
    "checks": "check",
    "diagnostics": "allowed_target",
    "status_page": "status_page",
    "channels": "channel",
}
SIGNS = {"create": "+", "update": "~", "unchanged": "=", "remove": "-"}
# What --prune does to something the file no longer names, when it is not a deletion:
# people keep their history and alerts keep their integration.
REMOVAL = {"users": "deactivate", "integrations": "disable"}


@dataclass(frozen=True)
class Change:
    section: str
    name: str
    action: str  # create | update | unchanged | remove
    fields: tuple[str, ...] = ()
    index: int | None = None  # the item's position in the file's section

    @property
    def kind(self) -> str:
        return KINDS[self.section]

    def __str__(self) -> str:
        text = f"{SIGNS[self.action]} {self.kind} {self.name}"
        if self.fields:
            text += ": " + ", ".join(self.fields)
        if self.action == "remove" and self.section in REMOVAL:
            text += f" ({REMOVAL[self.section]})"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "fields": list(self.fields),
        }


@dataclass
class ApplyResult:
    changes: list[Change]
    # New integrations' tokens: shown once, only their hash is stored.
    tokens: dict[str, str] = field(default_factory=dict)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def changed(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)

    def summary(self) -> str:
        return (
            f"{self.count('create')} to create, {self.count('update')} to update, "
            f"{self.count('remove')} to remove, {self.count('unchanged')} unchanged"
        )


def _names(loaded: LoadedConfig, section: str) -> list[str]:
    return [_name_of(section, item) for item in loaded.config.items(section)]


def _name_of(section: str, item: Any) -> str:
    if section == "diagnostics":
        return str(item)  # an allow-list pattern
    if section == "external_contacts":
        return str(item.slug)
    if section == "status_page":
        return str(item.name)  # settings, group:<id>, component:<id>
    if section == "users":
        return str(item.username)
    if section == "integrations":
        return str(item.name)
    if section == "routing_rules":
        return str(item.rule.name)
    return str(item.id)


def _name_field(section: str) -> Loc:
    return {
        "users": ("username",),
        "integrations": ("name",),
        "routing_rules": ("rule", "name"),
        "external_contacts": ("slug",),
        "diagnostics": (),
        "status_page": ("id",),
    }.get(section, ("id",))


# References.


def _existing(session: Session, section: str) -> set[str]:
    column: Any = {
        "users": User.username,
        "teams": Team.slug,
        "schedules": Schedule.slug,
        "escalation_policies": EscalationPolicy.slug,
        "services": Service.slug,
    }[section]
    return set(session.scalars(select(column)))


def reference_problems(
    session: Session, policy: Policy, loaded: LoadedConfig, *, prune: bool
) -> list[ConfigProblem]:
    """Duplicates within a section, and names of users, teams, schedules, escalation
    policies, severities and roles that neither the file nor the database has. With
    `prune`, the database's count only for sections the file leaves out."""
    config = loaded.config
    problems: list[ConfigProblem] = []
    known: dict[str, set[str]] = {}
    for section in SECTIONS:
        names = _names(loaded, section)
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                problems.append(
                    loaded.problem(
                        (*config.item_loc(section, i), *_name_field(section)),
                        f"'{name}' is defined twice in {section}",
                    )
                )
            seen.add(name)
        if section in ("users", "teams", "schedules", "escalation_policies", "services"):
            from_db = set() if prune and section in config.sections else _existing(session, section)
            known[section] = seen | from_db
    known["escalation_policies"] |= {p.id for p in policy.escalation.policies}
    role_ids = [r.id for r in policy.roles]
    severity_ids = [s.id for s in policy.severities]
    category_ids = [c.id for c in policy.categories]

    def need(loc: Loc, section: str, name: str | None, what: str) -> None:
        if name is not None and name not in known[section]:
            problems.append(loaded.problem(loc, f"unknown {what} '{name}'"))

    for i, team in enumerate(config.teams):
        for group in ("members", "leads"):
            for k, username in enumerate(getattr(team, group)):
                need(("teams", i, group, k), "users", username, "user")
    for i, schedule in enumerate(config.schedules):
        need(("schedules", i, "team"), "teams", schedule.team, "team")
        for j, rotation in enumerate(schedule.rotations):
            for k, username in enumerate(rotation.participants):
                need(("schedules", i, "rotations", j, "participants", k), "users", username, "user")
    for i, spec in enumerate(config.escalation_policies):
        for j, step in enumerate(spec.steps):
            for k, target in enumerate(step.notify):
                loc: Loc = ("escalation_policies", i, "steps", j, "notify", k, target.kind)
                need(loc, "users", target.user, "user")
                need(loc, "teams", target.team, "team")
                need(loc, "schedules", target.schedule, "schedule")
                if target.role is not None and target.role not in role_ids:
                    problems.append(
                        loaded.problem(
                            loc, f"unknown role '{target.role}' (one of: {', '.join(role_ids)})"
                        )
                    )
    for i, service in enumerate(config.services):
        need(("services", i, "team"), "teams", service.team, "team")
        need(("services", i, "schedule"), "schedules", service.schedule, "schedule")
        for severity, slugs in service.escalation.items():
            if severity not in severity_ids:
                problems.append(
                    loaded.problem(
                        ("services", i, "escalation", severity),
                        f"'{severity}' is not a severity (one of: {', '.join(severity_ids)})",
                    )
                )
            for k, slug in enumerate(slugs):
                need(
                    ("services", i, "escalation", severity, k),
                    "escalation_policies",
                    slug,
                    "escalation policy",
                )
    for i, check in enumerate(config.checks):
        need(("checks", i, "service"), "services", check.service, "service")
    for j, component in enumerate(config.status_page.components):
        for k, linked in enumerate(component.services):
            need(("status_page", "components", j, "services", k), "services", linked, "service")
    for i, channel in enumerate(config.channels):
        for k, member in enumerate(channel.members):
            team_slug = member.removeprefix("team:")
            if team_slug != member:
                need(("channels", i, "members", k), "teams", team_slug, "team")
            else:
                need(("channels", i, "members", k), "users", member, "user")
    for i, routing in enumerate(config.routing_rules):
        for where, message in severity_problems(routing.rule, severity_ids, category_ids):
            problems.append(loaded.problem(("routing_rules", i, "rule", *where), message))
    return problems


# The plan.


def desired_state(loaded: LoadedConfig) -> export.State:
    config = loaded.config
    state: export.State = {section: {} for section in config.sections}
    for user in config.users:
        state["users"][user.username] = _user_form(user)
    for team in config.teams:
        state["teams"][team.id] = export.team_form(team)
    for schedule in config.schedules:
        state["schedules"][schedule.id] = export.schedule_form(schedule)
    for spec in config.escalation_policies:
        state["escalation_policies"][spec.id] = export.policy_form(spec)
    for service in config.services:
        state["services"][service.id] = export.service_form(service)
    for integration in config.integrations:
        state["integrations"][integration.name] = integration.model_dump(mode="json")
    for rule in config.routing_rules:
        state["routing_rules"][rule.rule.name] = _rule_form(rule)
    for contact in config.external_contacts:
        state["external_contacts"][contact.slug] = _external_contact_form(contact)
    for check in config.checks:
        state["checks"][check.id] = export.check_form(check)
    for pattern in config.diagnostics.allow:
        state["diagnostics"][pattern] = {"pattern": pattern}
    if "status_page" in state:
        for item in config.page_items():
            state["status_page"][item.name] = comms_sections.page_item_form(item)
    for channel in config.channels:
        state["channels"][channel.id] = channel.model_dump(mode="json")
    return state


def _external_contact_form(spec: ExternalContactSpec) -> dict[str, Any]:
    form = spec.model_dump(mode="json", exclude={"contact_methods"})
    if spec.contact_methods is not None:
        form["contact_methods"] = [
            {**c.model_dump(mode="json"), "kind": channels.marked_kind(c.kind or "", c.url)}
            for c in spec.contact_methods
        ]
    return form


def _user_form(user: UserSpec) -> dict[str, Any]:
    form: dict[str, Any] = {
        "username": user.username,
        "name": user.name or user.username,
        "email": user.email or None,
        "time_zone": user.time_zone,
        "locale": user.locale,
        "role": user.role,
        "active": user.active,
    }
    if user.contact_methods is not None:
        form["contact_methods"] = [
            {**c.model_dump(mode="json"), "kind": channels.marked_kind(c.kind or "", c.url)}
            for c in user.contact_methods
        ]
    if user.notification_rules is not None:
        rules = {(r.contact, r.minutes) for r in user.notification_rules}
        form["notification_rules"] = sorted(
            ({"contact": c, "after": export.minutes_text(m)} for c, m in rules),
            key=export.rule_order,
        )
    return form


def _rule_form(rule: RoutingRuleIn) -> dict[str, Any]:
    return {
        "rule": routing_rules.definition_of(rule),
        "position": rule.position,
        "enabled": rule.enabled,
    }


def plan(session: Session, loaded: LoadedConfig, *, prune: bool) -> list[Change]:
    desired = desired_state(loaded)
    current = export.current_state(session, loaded.config.sections)
    changes: list[Change] = []
    for section in loaded.config.sections:
        have = current[section]
        for index, (name, wanted) in enumerate(desired[section].items()):
            if name not in have:
                changes.append(Change(section, name, "create", index=index))
                continue
            fields = tuple(k for k, v in wanted.items() if have[name].get(k) != v)
            changes.append(
                Change(section, name, "update" if fields else "unchanged", fields, index)
            )
        if prune:
            for name, item in have.items():
                if name in desired[section]:
                    continue
                if section == "users" and not item["active"]:
                    continue  # already deactivated
                if section == "integrations" and not item["enabled"]:
                    continue
                if section == "status_page" and name == "settings":
                    continue  # the page's settings are kept, never removed
                changes.append(Change(section, name, "remove"))
    return changes


# Writing.


def _set(row: object, **values: object) -> None:
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)


def _write_user(session: Session, spec: UserSpec, *, now: datetime) -> None:
    user = session.scalars(select(User).where(User.username == spec.username)).first()
    if user is None:
        # No password: the person signs in once an admin sets one (haetae user passwd).
        user = auth.create_user(
            session,
            username=spec.username,
            password=None,
            role=spec.role,
            display_name=spec.name,
            email=spec.email,
            locale=spec.locale,
            now=now,
        )
    _set(
        user,
        display_name=spec.name or spec.username,
        email=spec.email or None,
        locale=spec.locale,
        role=spec.role,
        time_zone=spec.time_zone,
    )
    # Through the auth service, so deactivating by config also ends the user's sessions.
    auth.set_active(user, spec.active)
    session.flush()
    if spec.contact_methods is not None:
        existing = {m.name: m for m in people.contact_methods(session, user)}
        for position, contact in enumerate(spec.contact_methods):
            method = existing.pop(contact.name, None)
            if method is None:
                people.add_contact_method(
                    session,
                    user,
                    name=contact.name,
                    url=contact.url,
                    position=position,
                    enabled=contact.enabled,
                    kind=contact.kind,
                    now=now,
                )
            else:
                people.update_contact_method(
                    session,
                    method,
                    user,
                    url=contact.url,
                    position=position,
                    enabled=contact.enabled,
                    kind=contact.kind or "auto",
                )
        for gone in existing.values():
            people.delete_contact_method(session, gone)
    if spec.notification_rules is not None:
        methods = {m.name: m.id for m in people.contact_methods(session, user)}
        wanted = {(methods[r.contact], r.minutes) for r in spec.notification_rules}
        for rule, _ in people.notification_rules(session, user):
            key = (rule.contact_method_id, rule.delay_minutes)
            if key in wanted:
                wanted.discard(key)
            else:
                people.delete_notification_rule(session, rule)
        for method_id, minutes in sorted(wanted):
            people.add_notification_rule(
                session, user, contact_method_id=method_id, delay_minutes=minutes
            )


def _write_integration(
    session: Session, spec: Any, *, actor: str, now: datetime, tokens: dict[str, str]
) -> None:
    row = session.scalars(select(Integration).where(Integration.name == spec.name)).first()
    if row is None:
        row, token = integration_service.create_integration(
            session, name=spec.name, type=spec.type, actor=actor, now=now
        )
        tokens[spec.name] = token
    _set(row, type=spec.type)
    integration_service.set_enabled(row, spec.enabled, now=now)
    session.flush()


def _write_external_contact(session: Session, spec: ExternalContactSpec, *, now: datetime) -> None:
    methods = (
        [contacts.MethodSpec(c.name, c.url, c.enabled, c.kind) for c in spec.contact_methods]
        if spec.contact_methods is not None
        else None
    )
    contacts.put_contact(
        session,
        slug=spec.slug,
        name=spec.name,
        kind=spec.kind,
        support_plan=spec.support_plan,
        sla_tier=spec.sla_tier,
        notes=spec.notes,
        enabled=spec.enabled,
        language=spec.language,
        methods=methods,
        now=now,
    )


def _write_check(session: Session, spec: CheckDefinition, *, now: datetime) -> None:
    service_id = teams.get_service(session, spec.service).id if spec.service else None
    row = session.scalars(select(ServiceCheck).where(ServiceCheck.slug == spec.id)).first()
    if row is None:
        row = ServiceCheck(slug=spec.id, created_at=now, updated_at=now)
        session.add(row)
    values = {
        "name": spec.name,
        "service_id": service_id,
        "kind": spec.check.kind,
        "spec": spec.check.model_dump(mode="json"),
        "timeout_seconds": spec.check.timeout_seconds,
        "watch": spec.watch,
        "enabled": spec.enabled,
    }
    changed = {k: v for k, v in values.items() if getattr(row, k, None) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    if changed:
        row.updated_at = now
    session.flush()


def _write_allowed(session: Session, pattern: str, *, now: datetime) -> None:
    session.add(AllowedTarget(pattern=pattern, note="", created_at=now))
    session.flush()


def _remove(session: Session, section: str, name: str, *, now: datetime) -> None:
    if section == "status_page":
        comms_sections.remove_page_item(session, name, now=now)
    elif section == "channels":
        comms_sections.remove_channel(session, name)
    elif section == "external_contacts":
        found = contact_queries.find_contact(session, name)
        if found is not None:
            contacts.delete_contact(session, found)
    elif section == "checks":
        session.execute(delete(ServiceCheck).where(ServiceCheck.slug == name))
    elif section == "diagnostics":
        session.execute(delete(AllowedTarget).where(AllowedTarget.pattern == name))
    elif section == "users":
        auth.set_active(people.get_user(session, name), False)
    elif section == "teams":
        teams.delete_team(session, teams.get_team(session, name))
    elif section == "schedules":
        oncall.delete_schedule(session, oncall.get_schedule(session, name))
    elif section == "escalation_policies":
        policies.delete_policy(session, name)
    elif section == "services":
        teams.delete_service(session, teams.get_service(session, name))
    elif section == "integrations":
        integration_service.set_enabled(
            integration_service.get_integration(session, name), False, now=now
        )
    elif section == "routing_rules":
        routing_rules.delete_rule(session, routing_rules.get_rule(session, name))
    session.flush()


def _loc_of(field_path: object) -> Loc:
    if not isinstance(field_path, str) or not field_path:
        return ()
    return tuple(int(p) if is_number(p) else p for p in field_path.split("."))


def apply_config(
    session: Session,
    policy: Policy,
    loaded: LoadedConfig,
    *,
    actor: str,
    now: datetime,
    prune: bool = False,
) -> ApplyResult:
    """Check the file, then create, update (and with `prune` remove) what differs, in the
    caller's transaction. Raises ConfigError naming file, line and field; the caller rolls
    back (for a dry run, it rolls back on success too)."""
    problems = reference_problems(session, policy, loaded, prune=prune)
    if problems:
        raise ConfigError(problems)
    changes = plan(session, loaded, prune=prune)
    result = ApplyResult(changes)
    config = loaded.config
    writers: dict[str, Callable[[Any], object]] = {
        "users": lambda spec: _write_user(session, spec, now=now),
        "teams": lambda spec: teams.put_team(session, spec, now=now),
        "schedules": lambda spec: oncall.put_schedule(session, spec, now=now),
        "escalation_policies": lambda spec: policies.put_policy(
            session, policy, spec, now=now, check_references=False
        ),
        "services": lambda spec: teams.put_service(session, policy, spec, now=now, check=False),
        "integrations": lambda spec: _write_integration(
            session, spec, actor=actor, now=now, tokens=result.tokens
        ),
        "routing_rules": lambda spec: routing_rules.put_rule(session, spec, actor=actor, now=now),
        "external_contacts": lambda spec: _write_external_contact(session, spec, now=now),
        "checks": lambda spec: _write_check(session, spec, now=now),
        "diagnostics": lambda pattern: _write_allowed(session, pattern, now=now),
        "status_page": lambda item: comms_sections.write_page_item(
            session, item, actor=actor, now=now
        ),
        "channels": lambda spec: comms_sections.write_channel(session, spec, now=now),
    }
    removals = [c for c in changes if c.action == "remove"]
    # Removals first, last section first, so that nothing left names what goes.
    for change in sorted(removals, key=lambda c: -SECTIONS.index(c.section)):
        _remove(session, change.section, change.name, now=now)
    for change in changes:
        if change.action not in ("create", "update") or change.index is None:
            continue
        spec = config.items(change.section)[change.index]
        try:
            writers[change.section](spec)
        except HaetaeError as exc:
            where = (
                *config.item_loc(change.section, change.index),
                *_loc_of(exc.details.get("field")),
            )
            raise ConfigError([loaded.problem(where, exc.message)]) from None
    return result
