"""The first analysis report in words, in the reader's language (English or Korean), from the
report's stored data; the API, the CLI and the incident page all show it this way."""

from __future__ import annotations

from typing import Any

from haetae.i18n import N_, gettext_for
from haetae.policy.schema import Policy
from haetae.policy.terms import localized

# Seed 002 2.1's report sections, in its order.
HEADINGS = {
    "title": N_("Initial analysis report"),
    "severity": N_("Severity assessment"),
    "components": N_("Affected components"),
    "findings": N_("Findings"),
    "next_actions": N_("Suggested next actions"),
}
ASSESSMENTS = {
    "outage": N_("Every check of %(down)s fails: the component is down, as in an outage."),
    "degraded": N_("Some checks fail or warn: the service is degraded."),
    "healthy": N_("Every check passes: the cause may lie outside what is checked."),
    "inconclusive": N_("No check has answered yet: nothing to conclude from the checks."),
}
STATES = {
    "down": N_("down"),
    "degraded": N_("degraded"),
    "healthy": N_("healthy"),
    "unknown": N_("unknown"),
    "unchecked": N_("no checks"),
}
STATUSES = {
    "queued": N_("queued"),
    "running": N_("running"),
    "ok": N_("ok"),
    "warning": N_("warning"),
    "failed": N_("failed"),
    "error": N_("error"),
    "timeout": N_("timed out"),
    "refused": N_("refused (not allowed)"),
    "no_answer": N_("no answer within the timeout"),
}


def status_label(status: str, locale: str) -> str:
    return gettext_for(locale, STATUSES.get(status, status))


def render(report: dict[str, Any], policy: Policy, locale: str) -> dict[str, Any]:
    """The report's sections as text in `locale`: headings, the severity assessment, each
    component, finding and next action."""

    def _(message: str) -> str:
        return gettext_for(locale, message)

    severity = report.get("severity") or {}
    level = str(severity.get("level", ""))
    defined = policy.severity(level)
    level_name = f"{level} ({localized(defined.name, locale)})" if defined else level
    counts = severity.get("counts") or {}
    assessment = ASSESSMENTS.get(str(severity.get("assessment")), ASSESSMENTS["inconclusive"])
    summary = _(N_("Declared %(level)s. %(checks)s of %(total)s checks failing.")) % {
        "level": level_name,
        "checks": counts.get("failing", 0),
        "total": counts.get("total", 0),
    }
    roles = {role.id: localized(role.name, locale) for role in policy.roles}
    return {
        "headings": {key: _(text) for key, text in HEADINGS.items()},
        "severity": {
            "level": level,
            "summary": summary,
            "assessment": _(assessment) % {"down": ", ".join(severity.get("down") or [])},
        },
        "components": [
            {
                "service": c.get("service"),
                "name": c.get("name"),
                "state": c.get("state"),
                "state_label": _(STATES.get(str(c.get("state")), str(c.get("state")))),
                "checks": [
                    {**check, "status_label": status_label(str(check.get("status")), locale)}
                    for check in c.get("checks") or []
                ],
            }
            for c in report.get("components") or []
        ],
        "findings": [
            {
                **f,
                "status_label": status_label(str(f.get("status")), locale),
                "latency": _latency(f.get("latency_ms")),
            }
            for f in report.get("findings") or []
        ],
        "next_actions": [
            {
                "runbook": localized(a.get("runbook_title") or "", locale),
                "step": localized(a.get("title") or "", locale),
                "owner": a.get("owner"),
                "owner_label": roles.get(a.get("owner") or "", a.get("owner") or "-"),
                "command": a.get("command"),
            }
            for a in report.get("next_actions") or []
        ],
    }


def _latency(ms: Any) -> str:
    if not isinstance(ms, int | float):
        return "-"
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def as_text(rendered: dict[str, Any]) -> list[str]:
    """The rendered report as plain lines (the CLI's output)."""
    h = rendered["headings"]
    lines = [f"== {h['title']} ==", f"{h['severity']}:"]
    lines += [f"  {rendered['severity']['summary']}", f"  {rendered['severity']['assessment']}"]
    lines.append(f"{h['components']}:")
    for c in rendered["components"]:
        checks = ", ".join(f"{k['name']}: {k['status_label']}" for k in c["checks"])
        lines.append(f"  {c['name']} [{c['state_label']}]" + (f"  {checks}" if checks else ""))
    lines.append(f"{h['findings']}:")
    for f in rendered["findings"]:
        lines.append(f"  #{f['run_id']} {f['name']}: {f['status_label']}, {f['latency']}")
        if f.get("summary"):
            lines.append(f"      {f['summary']}")
    lines.append(f"{h['next_actions']}:")
    for a in rendered["next_actions"]:
        lines.append(f"  [{a['runbook']}] {a['step']} ({a['owner_label']})")
        if a.get("command"):
            lines.append(f"      $ {a['command']}")
    return lines
