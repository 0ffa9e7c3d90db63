"""Post-mortem exports: the post-mortem as Markdown or as printable HTML with its print
stylesheet and the Content-Security-Policy that allows exactly that stylesheet.

Every text people typed is data (docs/security.md, "Exports"): the Markdown escapes it as the
timeline export does, so a table cannot be broken and no HTML or link is made of it; the HTML
is autoescaped and carries a Content-Security-Policy that allows nothing but its own <style>.
The wording both share with the incident reports (reports.py) is in wording.py.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

from markupsafe import Markup
from sqlalchemy.orm import Session

from haetae import i18n
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents.export import Download
from haetae.policy.schema import Policy
from haetae.postmortems import queries
from haetae.postmortems.queries import PostmortemView
from haetae.postmortems.wording import (
    HTML,
    MARKDOWN,
    by_term,
    chosen_locale,
    full_time,
    impact_of,
    item_row,
    render,
    span,
    when,
    zone_name,
)

Format = Literal["markdown", "html"]
FORMATS: tuple[Format, ...] = ("markdown", "html")

# Sections that start a new printed page: the long tables.
MAJOR_SECTIONS = frozenset({"timeline", "five_whys", "measures"})


@cache
def print_stylesheet() -> str:
    """The printable HTML's one stylesheet, inlined so a saved file keeps its look."""
    return (resources.files("haetae.postmortems") / "templates" / "print.css").read_text("utf-8")


@cache
def style_hash() -> str:
    """The CSP source that allows exactly the inlined stylesheet: 'sha256-<base64>'."""
    digest = hashlib.sha256(print_stylesheet().encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def content_security_policy() -> str:
    """The printable HTML's own policy: its inline <style> by hash, and nothing else at all
    (no script, no image, no form, no framing)."""
    return (
        f"default-src 'none'; style-src {style_hash()}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )


# The post-mortem


def _whys(whys: list[str], locale: str) -> list[tuple[str, str]]:
    """Seed 001 6.4: the first question asks why the incident happened, each next one asks why
    the previous answer happened."""
    rows: list[tuple[str, str]] = []
    for index, answer in enumerate(whys, start=1):
        if index == 1:
            question = i18n.gettext_for(locale, N_("%(n)d. Why did the incident happen?"))
            question %= {"n": index}
        else:
            question = i18n.gettext_for(locale, N_("%(n)d. Why did “%(previous)s” happen?"))
            question %= {"n": index, "previous": whys[index - 2].strip()}
        rows.append((question, answer))
    return rows


def postmortem_context(view: PostmortemView, policy: Policy, *, locale: str) -> dict[str, Any]:
    """Everything the Markdown and the HTML show, in the policy's order and zone and the
    reader's language; texts as people typed them (each template escapes them its way)."""

    def t(message: str) -> str:
        return i18n.gettext_for(locale, message)

    basic = view.basic
    day = basic.occurred.astimezone(policy.zone).date()
    severity = basic.severity + (
        f" ({basic.severity_name})" if basic.severity_name != basic.severity else ""
    )
    impact = view.impact.strip() or basic.impact_text.strip() or impact_of(basic.impact, locale)
    basic_rows = [
        (t(N_("Incident ID")), basic.incident_id),
        (t(N_("Incident title")), view.title),
        (t(N_("Occurred at")), full_time(policy, basic.occurred)),
        (t(N_("Detected at")), full_time(policy, basic.detected_at)),
        (t(N_("Recovered at")), full_time(policy, basic.recovered)),
        (t(N_("Total outage")), span(basic.total_outage_minutes, locale)),
        (t(N_("Incident severity")), severity),
        (t(N_("Impact scope")), impact or "-"),
        ("Incident Commander", basic.ic or "-"),
        (t(N_("Written by")), view.author),
        (t(N_("Written on")), view.started_at.astimezone(policy.zone).date().isoformat()),
    ]
    measured = view.durations
    duration_rows = [
        (t(N_("Time to detect")), span(measured.time_to_detect, locale)),
        (t(N_("Time to acknowledge")), span(measured.time_to_acknowledge, locale)),
        (t(N_("Time to mitigate")), span(measured.time_to_mitigate, locale)),
        (t(N_("Time to resolve")), span(measured.time_to_resolve, locale)),
        (t(N_("Recovery target")), full_time(policy, measured.recovery_due)),
        (
            t(N_("Minutes past the recovery target")),
            "-" if measured.minutes_past_target is None else str(measured.minutes_past_target),
        ),
    ]
    items = [(m.term, item_row(m, locale)) for m in view.measures]
    sections = [
        {"id": s.id, "title": s.title, "major": s.id in MAJOR_SECTIONS, "builtin": s.builtin}
        for s in view.sections
    ]
    return {
        "locale": locale,
        "incident_id": view.incident_id,
        "title": view.title,
        "status": view.status,
        "sections": sections,
        "basic": basic_rows,
        "summary": view.summary,
        "impact": impact,
        "zone": zone_name(policy, basic.occurred),
        "timeline": [(when(policy, e.at, day=day), e.text, e.note) for e in view.key_events],
        "alerts": [
            (
                a.name,
                a.fingerprint,
                when(policy, a.first_seen, day=day),
                when(policy, a.last_seen, day=day),
                a.status,
            )
            for a in view.alerts
        ],
        "roles": [
            (
                r.role_name,
                r.assignee,
                when(policy, r.since, day=day),
                when(policy, r.until, day=day),
            )
            for r in view.roles
        ],
        "decisions": [
            (when(policy, d.at, day=day), d.decision, d.reason, d.decided_by)
            for d in view.decisions
        ],
        "updates": [
            (when(policy, u.at, day=day), u.situation, u.progress, u.author) for u in view.updates
        ],
        "durations": duration_rows,
        "whys": _whys(view.whys, locale),
        "root_cause": view.root_cause,
        "contributing_factors": view.contributing_factors,
        "went_well": view.went_well,
        "went_wrong": view.went_wrong,
        "lucky": view.lucky,
        "lessons": view.lessons,
        "custom": view.custom,
        "terms": by_term(items, locale),
        "action_items": [row for _, row in items],
    }


def postmortem_markdown(view: PostmortemView, policy: Policy, *, locale: str) -> str:
    return render("postmortem.md", **postmortem_context(view, policy, locale=locale))


def postmortem_html(view: PostmortemView, policy: Policy, *, locale: str) -> str:
    return render(
        "postmortem.html",
        # Our own file, not typed text; inserted as it is so its hash matches the CSP.
        stylesheet=Markup(print_stylesheet()),
        # A saved file keeps the policy in a <meta>, where frame-ancestors has no effect.
        meta_csp=content_security_policy().replace("; frame-ancestors 'none'", ""),
        **postmortem_context(view, policy, locale=locale),
    )


def export_postmortem(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    fmt: str,
    locale: str,
    now: datetime,
) -> Download:
    """The post-mortem as a file (NOT_FOUND when the incident has none)."""
    if fmt not in FORMATS:
        raise HaetaeError("VALIDATION_ERROR", f"format must be one of {', '.join(FORMATS)}")
    locale = chosen_locale(locale)
    view = queries.view(session, policy, incident_id, now=now, locale=locale)
    if fmt == "html":
        return Download(
            postmortem_html(view, policy, locale=locale),
            HTML,
            f"{incident_id}-postmortem.html",
            {"Content-Security-Policy": content_security_policy()},
        )
    return Download(
        postmortem_markdown(view, policy, locale=locale), MARKDOWN, f"{incident_id}-postmortem.md"
    )
