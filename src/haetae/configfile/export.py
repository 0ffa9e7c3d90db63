"""The current state in the config file's shape: what `haetae export` writes and what
`haetae apply` compares a file with."""

from __future__ import annotations

import io
from datetime import datetime, time
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.alerts.models import Integration, RoutingRule
from haetae.auth.models import User
from haetae.comms.models import CommsChannel
from haetae.configfile.schema import DEFAULT_PAGE_TITLE, SECTIONS
from haetae.contacts import queries as contacts
from haetae.contacts.models import ExternalContact
from haetae.diagnostics.models import AllowedTarget, ServiceCheck
from haetae.diagnostics.schemas import CheckDefinition
from haetae.escalation import policies
from haetae.escalation.models import EscalationPolicy
from haetae.notify import channels
from haetae.oncall import service as oncall
from haetae.oncall.models import Schedule
from haetae.oncall.schemas import ScheduleSpec
from haetae.people import service as people
from haetae.people import teams
from haetae.people.models import ContactMethod, Service
from haetae.people.schemas import ServiceSpec, TeamSpec
from haetae.policy.escalation import EscalationPolicySpec
from haetae.statuspage import components as status_components
from haetae.statuspage.models import StatusPageSettings

# {section: {name: the item as the file would say it, every field given}}
State = dict[str, dict[str, dict[str, Any]]]

_TYPE_OF_UNIT = {"days": "daily", "weeks": "weekly"}


def minutes_text(minutes: int) -> str:
    return f"{minutes}m"


def user_form(session: Session, user: User) -> dict[str, Any]:
    methods = people.contact_methods(session, user)
    rules = people.notification_rules(session, user)
    return {
        "username": user.username,
        "name": user.display_name or user.username,
        "email": user.email,
        "time_zone": user.time_zone,
        "locale": user.locale,
        "role": user.role,
        "active": user.active,
        "contact_methods": [
            {
                "name": m.name,
                "url": m.url,
                "enabled": m.enabled,
                "kind": channels.marked_kind(m.kind, m.url),
            }
            for m in methods
        ],
        "notification_rules": sorted(
            ({"contact": m.name, "after": minutes_text(r.delay_minutes)} for r, m in rules),
            key=rule_order,
        ),
    }


def rule_order(rule: dict[str, Any]) -> tuple[int, str]:
    return int(str(rule["after"]).rstrip("m") or 0), str(rule["contact"])


def team_form(spec: TeamSpec) -> dict[str, Any]:
    return spec.normalized().model_dump(mode="json")


def schedule_form(spec: ScheduleSpec) -> dict[str, Any]:
    """A schedule as stored: rotations by name, units and zones as the tables keep them."""
    rotations = []
    for rotation in sorted(spec.rotations, key=lambda r: r.name):
        unit = rotation.unit
        kind = _TYPE_OF_UNIT.get(unit, "custom")
        zone = rotation.time_zone
        rotations.append(
            rotation.model_copy(
                update={
                    "type": kind,
                    "shift_unit": unit if kind == "custom" else None,
                    "time_zone": None if zone == spec.time_zone else zone,
                }
            )
        )
    normal = spec.model_copy(update={"name": spec.name or spec.id, "rotations": rotations})
    return normal.model_dump(mode="json")


def policy_form(spec: EscalationPolicySpec) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def service_form(spec: ServiceSpec) -> dict[str, Any]:
    return spec.normalized().model_dump(mode="json")


def integration_form(row: Integration) -> dict[str, Any]:
    return {"name": row.name, "type": row.type, "enabled": row.disabled_at is None}


def routing_rule_form(row: RoutingRule) -> dict[str, Any]:
    return {"rule": row.definition, "position": row.position, "enabled": row.enabled}


def external_contact_form(contact: ExternalContact, methods: list[ContactMethod]) -> dict[str, Any]:
    return {
        "slug": contact.slug,
        "name": contact.name,
        "kind": contact.kind,
        "support_plan": contact.support_plan,
        "sla_tier": contact.sla_tier,
        "notes": contact.notes,
        "language": contact.language,
        "enabled": contact.enabled,
        "contact_methods": [
            {
                "name": m.name,
                "url": m.url,
                "enabled": m.enabled,
                "kind": channels.marked_kind(m.kind, m.url),
            }
            for m in methods
        ],
    }


def check_form(spec: CheckDefinition) -> dict[str, Any]:
    return spec.model_dump(mode="json")


def check_spec_of(row: ServiceCheck, service: str | None) -> CheckDefinition:
    return CheckDefinition.model_validate(
        {
            "id": row.slug,
            "name": row.name,
            "service": service,
            "watch": row.watch,
            "enabled": row.enabled,
            "check": row.spec,
        }
    )


def _response_tools_state(session: Session, sections: tuple[str, ...] | list[str]) -> State:
    """Issue 13's sections: external contacts, checks and the diagnostics allow-list."""
    state: State = {}
    if "external_contacts" in sections:
        found = contacts.list_contacts(session)
        methods = contacts.methods_of(session, [c.id for c in found])
        state["external_contacts"] = {
            c.slug: external_contact_form(c, methods.get(c.id, [])) for c in found
        }
    if "checks" in sections:
        rows = session.execute(
            select(ServiceCheck, Service.slug)
            .outerjoin(Service, Service.id == ServiceCheck.service_id)
            .order_by(ServiceCheck.slug)
        ).all()
        state["checks"] = {row.slug: check_form(check_spec_of(row, svc)) for row, svc in rows}
    if "diagnostics" in sections:
        patterns = session.scalars(select(AllowedTarget.pattern).order_by(AllowedTarget.id))
        state["diagnostics"] = {p: {"pattern": p} for p in patterns}
    return state


def page_settings_form(row: StatusPageSettings | None) -> dict[str, Any]:
    if row is None:  # never set up: what the file gets by default
        return {
            "enabled": True,
            "title": dict(DEFAULT_PAGE_TITLE),
            "host": None,
            "support_url": "",
        }
    return {
        "enabled": row.enabled,
        "title": dict(row.title),
        "host": row.host,
        "support_url": row.support_url,
    }


def _status_page_state(session: Session) -> dict[str, dict[str, Any]]:
    """Issue 14's status page: its settings, groups and components, in the page's order."""
    row = session.scalars(select(StatusPageSettings).order_by(StatusPageSettings.id)).first()
    state: dict[str, dict[str, Any]] = {"settings": page_settings_form(row)}
    groups = status_components.groups(session)
    slugs = {g.id: g.slug for g in groups}
    for position, group in enumerate(groups):
        state[f"group:{group.slug}"] = {
            "id": group.slug,
            "name": dict(group.name),
            "position": position,
        }
    for position, component in enumerate(status_components.components(session)):
        state[f"component:{component.slug}"] = {
            "id": component.slug,
            "name": dict(component.name),
            "description": dict(component.description or {}),
            "group": slugs.get(component.group_id) if component.group_id else None,
            "services": list(component.services or []),
            "visible": component.visible,
            "position": position,
        }
    return state


def _channels_state(session: Session) -> dict[str, dict[str, Any]]:
    channels = list(session.scalars(select(CommsChannel).order_by(CommsChannel.slug)))
    urls: dict[int, str] = {}
    if channels:
        for method in session.scalars(
            select(ContactMethod)
            .where(ContactMethod.comms_channel_id.in_([c.id for c in channels]))
            .order_by(ContactMethod.position, ContactMethod.id)
        ):
            assert method.comms_channel_id is not None
            urls.setdefault(method.comms_channel_id, method.url)
    return {
        c.slug: {
            "id": c.slug,
            "name": c.name,
            "purpose": c.purpose,
            "language": c.language,
            "url": urls.get(c.id),
            "members": list(c.members or []),
            "enabled": c.enabled,
        }
        for c in channels
    }


def current_state(session: Session, sections: tuple[str, ...] | list[str] = SECTIONS) -> State:
    state: State = {}
    if "users" in sections:
        users = session.scalars(select(User).order_by(User.username))
        state["users"] = {u.username: user_form(session, u) for u in users}
    if "teams" in sections:
        state["teams"] = {
            t.slug: team_form(teams.team_spec(session, t)) for t in teams.list_teams(session)
        }
    if "schedules" in sections:
        schedules = session.scalars(select(Schedule).order_by(Schedule.slug))
        state["schedules"] = {s.slug: schedule_form(oncall.spec_of(session, s)) for s in schedules}
    if "escalation_policies" in sections:
        rows = session.scalars(select(EscalationPolicy).order_by(EscalationPolicy.slug))
        state["escalation_policies"] = {r.slug: policy_form(policies.spec_of(r)) for r in rows}
    if "services" in sections:
        state["services"] = {
            s.slug: service_form(teams.service_spec(session, s))
            for s in teams.list_services(session)
        }
    if "integrations" in sections:
        rows_i = session.scalars(select(Integration).order_by(Integration.name))
        state["integrations"] = {r.name: integration_form(r) for r in rows_i}
    if "routing_rules" in sections:
        rows_r = session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
        state["routing_rules"] = {r.name: routing_rule_form(r) for r in rows_r}
    state.update(_response_tools_state(session, sections))
    if "status_page" in sections:
        state["status_page"] = _status_page_state(session)
    if "channels" in sections:
        state["channels"] = _channels_state(session)
    return state


# Writing it out.


def _tidy(item: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Leave out what the file would get anyway (None, empty lists, defaults)."""
    return {
        k: v
        for k, v in item.items()
        if v is not None and v != [] and v != {} and not (k in defaults and defaults[k] == v)
    }


def _wall_clock(value: datetime | time) -> str:
    """18:00 and 2026-01-05T09:00 as people write them; seconds only when there are some."""
    whole_minute = value.second == 0 and value.microsecond == 0
    return value.isoformat(timespec="minutes" if whole_minute else "auto")


def _quoted(text: str) -> str:
    # Unquoted, 18:00 is a number to YAML 1.1 readers and 2026-01-05T09:00 a timestamp.
    return DoubleQuotedScalarString(text)


def _tidy_schedule(item: dict[str, Any]) -> dict[str, Any]:
    spec = ScheduleSpec.model_validate(item)
    data = spec.model_dump(mode="json", exclude_defaults=True)
    for rotation, given in zip(data.get("rotations", []), spec.rotations, strict=True):
        # Wall-clock times as people write them: "2026-01-05T09:00", "18:00".
        rotation["handoff"] = _quoted(_wall_clock(given.handoff))
        for window, restriction in zip(
            rotation.get("restrictions", []), given.restrictions, strict=True
        ):
            window["start"] = _quoted(_wall_clock(restriction.start))
            window["end"] = _quoted(_wall_clock(restriction.end))
    head = {"id": spec.id, "name": spec.name, "time_zone": spec.time_zone}
    return {**head, **{k: v for k, v in data.items() if k not in head}}


def _tidy_policy(item: dict[str, Any]) -> dict[str, Any]:
    spec = EscalationPolicySpec.model_validate(item)
    data = spec.model_dump(mode="json", exclude_defaults=True)
    return {"id": spec.id, **{k: v for k, v in data.items() if k != "id"}}


_USER_DEFAULTS = {"locale": "en", "role": "responder", "active": True}
_CONTACT_DEFAULTS = {"enabled": True, "kind": None}
_TEAM_DEFAULTS = {"description": ""}
_SERVICE_DEFAULTS = {"description": ""}
_INTEGRATION_DEFAULTS = {"enabled": True}
_EXTERNAL_DEFAULTS = {
    "kind": "vendor",
    "support_plan": "",
    "sla_tier": "",
    "notes": "",
    "language": "en",
    "enabled": True,
}


_PAGE_DEFAULTS = {"enabled": True, "support_url": ""}
_COMPONENT_DEFAULTS = {"visible": True}
_CHANNEL_DEFAULTS = {"purpose": "", "language": "ko", "enabled": True}


def export_document(state: State) -> dict[str, Any]:
    document: dict[str, Any] = {"version": 1}
    users = []
    for item in state.get("users", {}).values():
        user = _tidy(
            {k: v for k, v in item.items() if k not in ("contact_methods", "notification_rules")},
            _USER_DEFAULTS,
        )
        # Always written, so that applying the export reproduces them exactly.
        user["contact_methods"] = [_tidy(c, _CONTACT_DEFAULTS) for c in item["contact_methods"]]
        user["notification_rules"] = item["notification_rules"]
        users.append(user)
    document["users"] = users
    document["teams"] = [_tidy(t, _TEAM_DEFAULTS) for t in state.get("teams", {}).values()]
    document["schedules"] = [_tidy_schedule(s) for s in state.get("schedules", {}).values()]
    document["escalation_policies"] = [
        _tidy_policy(p) for p in state.get("escalation_policies", {}).values()
    ]
    document["services"] = [_tidy(s, _SERVICE_DEFAULTS) for s in state.get("services", {}).values()]
    document["integrations"] = [
        _tidy(i, _INTEGRATION_DEFAULTS) for i in state.get("integrations", {}).values()
    ]
    document["routing_rules"] = list(state.get("routing_rules", {}).values())
    externals = []
    for item in state.get("external_contacts", {}).values():
        contact = _tidy(
            {k: v for k, v in item.items() if k != "contact_methods"}, _EXTERNAL_DEFAULTS
        )
        # Always written, so that applying the export reproduces them exactly.
        contact["contact_methods"] = [_tidy(c, _CONTACT_DEFAULTS) for c in item["contact_methods"]]
        externals.append(contact)
    document["external_contacts"] = externals
    document["checks"] = [_tidy_check(c) for c in state.get("checks", {}).values()]
    document["diagnostics"] = {"allow": list(state.get("diagnostics", {}))}
    page = state.get("status_page", {})
    # A page nobody has set up is left out, as the file that never named it.
    if page and (len(page) > 1 or page["settings"] != page_settings_form(None)):
        settings = _tidy(page["settings"], _PAGE_DEFAULTS)
        settings["groups"] = [
            {"id": g["id"], "name": g["name"]}
            for name, g in page.items()
            if name.startswith("group:")
        ]
        settings["components"] = [
            _tidy({k: v for k, v in c.items() if k != "position"}, _COMPONENT_DEFAULTS)
            for name, c in page.items()
            if name.startswith("component:")
        ]
        document["status_page"] = settings
    document["channels"] = [_tidy(c, _CHANNEL_DEFAULTS) for c in state.get("channels", {}).values()]
    return document


def _tidy_check(item: dict[str, Any]) -> dict[str, Any]:
    spec = CheckDefinition.model_validate(item)
    data = spec.model_dump(mode="json", exclude_defaults=True)
    # The check's kind is its discriminator: always written, as are id and name.
    data["check"] = {"kind": spec.check.kind, **data.get("check", {})}
    return {
        "id": spec.id,
        "name": spec.name,
        **{k: v for k, v in data.items() if k not in ("id", "name")},
    }


def _flow_short_lists(node: Any) -> Any:
    """Lists of plain values on one line (`members: [kim, lee]`), as people write them."""
    if isinstance(node, dict):
        return {k: _flow_short_lists(v) for k, v in node.items()}
    if isinstance(node, list):
        items = [_flow_short_lists(v) for v in node]
        if items and all(isinstance(v, str | int | float | bool) for v in items):
            seq = CommentedSeq(items)
            seq.fa.set_flow_style()
            return seq
        return items
    return node


def export_yaml(session: Session, *, now: datetime) -> str:
    """The whole configuration as a config file. It holds contact methods' URLs in full."""
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096
    out = io.StringIO()
    out.write(
        f"# Haetae configuration exported {now.strftime('%Y-%m-%d %H:%M UTC')}.\n"
        "# It holds contact methods' URLs with their secrets: keep it private.\n"
        "# Apply it with: haetae apply -f FILE\n"
    )
    yaml.dump(_flow_short_lists(export_document(current_state(session))), out)
    return out.getvalue()
