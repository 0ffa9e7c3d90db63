"""The Jinja2 environment of the console: translations, time display and labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from haetae import i18n
from haetae.i18n import N_
from haetae.incidents import lifecycle
from haetae.labels import (
    ACCOUNT_ROLES,
    DECISION_KINDS,
    EVENT_LABELS,
    MOVE_LABELS,
    SPECIAL_TARGETS,
    STATUS_LABELS,
)
from haetae.policy.schema import Policy, Target
from haetae.policy.terms import Text, localized
from haetae.web.console import CSRF_FIELD, Console
from haetae.web.forms import FIELD_LABELS


def _translate(context: Context, message: str) -> str:
    return i18n.gettext_for(context["locale"], message)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translate(context, message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.ngettext_for(context["locale"], singular, plural, n)


@pass_context
def _loc(context: Context, text: Text | None) -> str:
    """A policy label (plain or {locale: text}) in the page's language."""
    return "" if text is None else localized(text, context["locale"])


@pass_context
def _when(context: Context, value: datetime | str | None) -> str:
    """A UTC time in the policy's zone with the zone's abbreviation: 2026-11-21 14:30 KST."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    policy: Policy = context["policy"]
    return value.astimezone(policy.zone).strftime("%Y-%m-%d %H:%M %Z")


@pass_context
def _local_input(context: Context, value: datetime | None) -> str:
    """The value of a datetime-local input, in the policy's zone."""
    if value is None:
        return ""
    policy: Policy = context["policy"]
    return value.astimezone(policy.zone).strftime("%Y-%m-%dT%H:%M")


def span(context: Context, delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days and hours:
        return _translate(context, N_("%(d)dd %(h)dh")) % {"d": days, "h": hours}
    if days:
        return _translate(context, N_("%(d)dd")) % {"d": days}
    if hours and mins:
        return _translate(context, N_("%(h)dh %(m)dm")) % {"h": hours, "m": mins}
    if hours:
        return _translate(context, N_("%(h)dh")) % {"h": hours}
    return _translate(context, N_("%(m)dm")) % {"m": mins}


@pass_context
def _age(context: Context, since: datetime | None) -> str:
    """How long ago, measured against the request's clock so tests can move time."""
    if since is None:
        return "—"
    return span(context, context["now"] - since)


@pass_context
def _relative(context: Context, at: datetime | None) -> str:
    """'in 12m' or '3m ago' next to a due time."""
    if at is None:
        return ""
    now: datetime = context["now"]
    if at >= now:
        return _translate(context, N_("in %(span)s")) % {"span": span(context, at - now)}
    return _translate(context, N_("%(span)s ago")) % {"span": span(context, now - at)}


@pass_context
def _target(context: Context, target: Target | None) -> str:
    """A policy time target in words: '15m', '1h', 'next business day'."""
    if target is None:
        return "—"
    if target.duration is not None:
        return span(context, target.duration)
    return _translate(context, SPECIAL_TARGETS.get(target.value, target.value))


@pass_context
def _label(context: Context, table: str, key: str) -> str:
    labels = {
        "status": STATUS_LABELS,
        "move": MOVE_LABELS,
        "event": EVENT_LABELS,
        "decision": DECISION_KINDS,
        "account": ACCOUNT_ROLES,
    }[table]
    return _translate(context, labels[key]) if key in labels else key


@pass_context
def _severity_class(context: Context, severity_id: str) -> str:
    """Colour by rank in the policy, so any scheme (P1-P4, Sev0-3 ...) gets the same scale."""
    policy: Policy = context["policy"]
    ids = [s.id for s in policy.severities]
    rank = ids.index(severity_id) if severity_id in ids else len(ids)
    return f"sev sev-{min(rank, 4)}"


@pass_context
def _role_name(context: Context, role_id: str) -> str:
    role = context["policy"].role(role_id)
    return localized(role.name, context["locale"]) if role else role_id


@pass_context
def _severity_name(context: Context, severity_id: str) -> str:
    sev = context["policy"].severity(severity_id)
    return localized(sev.name, context["locale"]) if sev else severity_id


@pass_context
def _changes(context: Context, changes: Any) -> list[tuple[str, str, str, str]]:
    """A `fields_changed` entry as (field, label, before, after) in the page's language,
    in the order of the edit form."""
    if not isinstance(changes, dict):
        return []
    order = list(FIELD_LABELS)
    rows = []
    for name in sorted(changes, key=lambda n: order.index(n) if n in order else len(order)):
        change = changes[name] if isinstance(changes[name], dict) else {}
        rows.append(
            (
                name,
                _translate(context, FIELD_LABELS[name]) if name in FIELD_LABELS else name,
                _changed_value(context, name, change.get("from")),
                _changed_value(context, name, change.get("to")),
            )
        )
    return rows


def _changed_value(context: Context, name: str, value: Any) -> str:
    policy: Policy = context["policy"]
    locale: str = context["locale"]
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    matrix = policy.impact_matrix
    if name in ("business_impact", "user_impact") and matrix:
        levels = matrix.business_impact if name == "business_impact" else matrix.user_impact
        level = next((lv for lv in levels if lv.id == value), None)
        return localized(level.name, locale) if level else str(value)
    if name == "category":
        category = next((c for c in policy.categories if c.id == value), None)
        return localized(category.name, locale) if category else str(value)
    if name == "impact" and isinstance(value, dict):
        parts = []
        if value.get("users") is not None:
            parts.append(_translate(context, N_("%(n)s users")) % {"n": value["users"]})
        for key in ("regions", "features"):
            if value.get(key):
                parts.append(", ".join(str(v) for v in value[key]))
        if value.get("users_description"):
            parts.append(str(value["users_description"]))
        return " · ".join(parts) or "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("haetae.web", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Callables that read the locale from the template context: one shared environment,
    # safe across threads, instead of installing a catalog per request.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        loc=_loc,
        when=_when,
        local_input=_local_input,
        age=_age,
        relative=_relative,
        target=_target,
    )
    env.globals.update(
        label=_label,
        severity_class=_severity_class,
        role_name=_role_name,
        changes=_changes,
        severity_name=_severity_name,
        languages=i18n.LANGUAGE_NAMES,
        csrf_field=CSRF_FIELD,
        statuses=lifecycle.STATUSES,
    )
    return env


RETRY_UNAVAILABLE_SECONDS = 5


def render(
    console: Console,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **data: Any,
) -> HTMLResponse:
    """A page or fragment in the caller's language; every template gets the same basics."""
    request = console.request
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    now = console.now()
    context = {
        "console": console,
        "locale": console.locale,
        "policy": console.policy,
        "zone_name": f"{console.policy.timezone} ({now.astimezone(console.policy.zone):%Z})",
        "now": now,
        "here": here,
        "active": "",
        "failure": None,
        **data,
    }
    html = environment().get_template(template).render(context)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    # Pages show who is signed in and a CSRF token: never from a shared cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, Accept-Language"
    if status_code == 503 and "retry-after" not in response.headers:
        # A form refused because the database cannot take writes: worth sending again soon.
        response.headers["Retry-After"] = str(RETRY_UNAVAILABLE_SECONDS)
    return response
