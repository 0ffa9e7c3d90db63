"""A kept review's data in words: seed 000's 지속적 개선 checklist as sections, each with
its sentences, tables and the questions people answer at the meeting, in the reader's
language. Markdown, HTML, CSV and the console page all show this one Document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from haetae import i18n
from haetae.i18n import N_
from haetae.labels import COLUMN_LABELS, PM_STATUS_LABELS, PRIORITY_LABELS
from haetae.policy.schema import Policy
from haetae.policy.terms import localized

DASH = "—"
TITLES = {"weekly": N_("Weekly incident review"), "monthly": N_("Monthly incident review")}
FIGURE_NAMES = {
    "mttd": N_("MTTD (detect)"),
    "mtta": N_("MTTA (acknowledge)"),
    "mttr": N_("MTTR (resolve)"),
    "communicate": N_("First update"),
    "mtbf": N_("MTBF"),
    "recurrence_rate": N_("Recurrence rate"),
}
SECTION_TITLES = {
    "statistics": N_("Incident statistics"),
    "compliance": N_("Response process"),
    "targets": N_("Targets against actual"),
    "trends": N_("Trend analysis"),
    "causes": N_("Top causes from post-mortems"),
    "policy": N_("Policy review"),
    "budget": N_("Budget and resources"),
    "actions": N_("Open and overdue action items"),
    "tools": N_("Tools and automation"),
    "team": N_("Team capability"),
    "benchmarking": N_("Benchmarking"),
}
# Seed 000's questions for the meeting: the report cannot answer them, people do.
PROMPTS = {
    "tools": [
        N_("Which alerts were missing, late or noisy, and which should be tuned?"),
        N_("Which manual steps of this week's responses could be automated?"),
    ],
    "team": [
        N_("Who needs training or a runbook walk-through after this week?"),
        N_("Was the on-call load fair, and did anyone carry too much?"),
    ],
    "policy": [
        N_("Do the severity definitions and targets still fit what happened?"),
        N_("Should escalation paths, update cadences or roles change?"),
    ],
    "benchmarking": [
        N_("How do these figures compare with last quarter and with the industry?"),
        N_("What did other teams or published post-mortems do better?"),
    ],
}
WEEKLY = ("statistics", "compliance", "targets", "actions", "tools", "team")
MONTHLY = (
    "statistics",
    "trends",
    "causes",
    "compliance",
    "targets",
    "policy",
    "budget",
    "actions",
    "benchmarking",
)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    id: str
    title: str
    lines: list[str] = field(default_factory=list)  # sentences, each a paragraph
    tables: list[Table] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # answered at the meeting


@dataclass
class Document:
    kind: str
    title: str
    period: str  # "2026-11-23 – 2026-11-29"
    subtitle: str  # the zone and when it was built
    locale: str
    sections: list[Section]


class _Words:
    """The reader's language, the policy's names and how figures are written."""

    def __init__(self, policy: Policy, locale: str) -> None:
        self.policy = policy
        self.locale = locale

    def t(self, message: str) -> str:
        return i18n.gettext_for(self.locale, message)

    def severity(self, severity_id: str) -> str:
        sev = self.policy.severity(severity_id)
        name = localized(sev.name, self.locale) if sev else severity_id
        return severity_id if name == severity_id else f"{severity_id} ({name})"

    def category(self, category_id: str | None) -> str:
        if not category_id:
            return self.t(N_("No category"))
        found = next((c for c in self.policy.categories if c.id == category_id), None)
        return localized(found.name, self.locale) if found else category_id

    def scope(self, scope: str) -> str:
        return self.t(N_("All")) if scope == "all" else self.severity(scope)

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return DASH
        total = max(round(seconds), 0)
        if total < 60:
            return self.t(N_("%(s)ds")) % {"s": total}
        minutes = total // 60
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        if days:
            return self.t(N_("%(d)dd %(h)dh")) % {"d": days, "h": hours}
        if hours:
            return self.t(N_("%(h)dh %(m)dm")) % {"h": hours, "m": mins}
        return self.t(N_("%(m)dm")) % {"m": mins}

    def stat(self, stat: dict[str, Any]) -> str:
        """mean · median · p90, so a long tail shows beside the mean."""
        if not stat.get("n"):
            return DASH
        return " · ".join(self.duration(stat.get(k)) for k in ("mean", "median", "p90"))

    def share(self, share: dict[str, Any]) -> str:
        if not share.get("n"):
            return DASH
        rate = share.get("rate")
        percent = "" if rate is None else f" ({rate * 100:.0f}%)"
        return f"{share['met']}/{share['n']}{percent}"

    def met(self, met: bool | None) -> str:
        if met is None:
            return DASH
        return self.t(N_("Met")) if met else self.t(N_("Missed"))

    def target_value(self, figure: str, value: float | None) -> str:
        if value is None:
            return DASH
        if figure == "recurrence_rate":
            return f"{value * 100:.1f}%"
        return self.duration(value)


def document(data: dict[str, Any], policy: Policy, *, locale: str, built_at: str = "") -> Document:
    """The report in `locale`'s words (English unless Korean)."""
    locale = i18n.supported(locale) or i18n.DEFAULT_LOCALE
    words = _Words(policy, locale)
    kind = str(data.get("kind", "weekly"))
    period = f"{data.get('period_start', '')} – {data.get('period_end', '')}"
    subtitle = words.t(N_("Times in %(zone)s. Drills are left out of every figure.")) % {
        "zone": data.get("timezone", policy.timezone)
    }
    if built_at:
        subtitle += " " + words.t(N_("Built %(at)s.")) % {"at": built_at}
    builders = {
        "statistics": _statistics,
        "compliance": _compliance,
        "targets": _targets,
        "trends": _trends,
        "causes": _causes,
        "policy": _policy,
        "budget": _budget,
        "actions": _actions,
    }
    sections = []
    for section_id in MONTHLY if kind == "monthly" else WEEKLY:
        section = Section(section_id, words.t(SECTION_TITLES[section_id]))
        if section_id in builders:
            builders[section_id](section, data, words)
        section.questions = [words.t(q) for q in PROMPTS.get(section_id, [])]
        sections.append(section)
    return Document(
        kind=kind,
        title=f"{words.t(TITLES.get(kind, TITLES['weekly']))} {period}",
        period=period,
        subtitle=subtitle,
        locale=locale,
        sections=sections,
    )


def _figure_row(words: _Words, label: str, figures: dict[str, Any]) -> list[str]:
    return [
        label,
        str(figures.get("count", 0)),
        words.stat(figures.get("mttd", {})),
        words.stat(figures.get("mtta", {})),
        words.stat(figures.get("mttr", {})),
    ]


def _statistics(section: Section, data: dict[str, Any], words: _Words) -> None:
    totals = data.get("totals", {})
    section.lines.append(
        words.t(
            N_(
                "%(count)d incidents (%(canceled)d canceled, counted apart; "
                "%(drills)d drills left out)."
            )
        )
        % {
            "count": totals.get("count", 0),
            "canceled": totals.get("canceled", 0),
            "drills": data.get("drills", 0),
        }
    )
    columns = [
        words.t(N_("Severity")),
        words.t(N_("Incident count")),
        words.t(N_("MTTD (mean · median · p90)")),
        words.t(N_("MTTA (mean · median · p90)")),
        words.t(N_("MTTR (mean · median · p90)")),
    ]
    rows = [
        _figure_row(words, words.severity(g["key"]), g["figures"])
        for g in data.get("by_severity", [])
    ]
    rows.append(_figure_row(words, words.t(N_("All")), totals))
    section.tables.append(Table(columns, rows))
    by_type = [
        [words.category(g["key"]), str(g["figures"].get("count", 0)),
         words.stat(g["figures"].get("mttr", {}))]
        for g in data.get("by_category", [])
        if g["figures"].get("count")
    ]  # fmt: skip
    if by_type:
        section.tables.append(
            Table(
                [
                    words.t(N_("Type")),
                    words.t(N_("Incident count")),
                    words.t(N_("MTTR (mean · median · p90)")),
                ],
                by_type,
            )
        )


def _compliance(section: Section, data: dict[str, Any], words: _Words) -> None:
    section.lines.append(
        words.t(
            N_(
                "Of the incidents measured: acknowledged within the response target, resolved "
                "within the recovery target, and status updates posted when the cadence asked."
            )
        )
    )
    columns = [
        words.t(N_("Severity")),
        words.t(N_("Response")),
        words.t(N_("Recovery")),
        words.t(N_("Updates on time")),
    ]
    groups = [(words.severity(g["key"]), g["figures"]) for g in data.get("by_severity", [])]
    groups.append((words.t(N_("All")), data.get("totals", {})))
    rows = [
        [
            label,
            words.share(figures.get("response", {})),
            words.share(figures.get("recovery", {})),
            words.share(figures.get("updates", {})),
        ]
        for label, figures in groups
    ]
    section.tables.append(Table(columns, rows))


def _targets(section: Section, data: dict[str, Any], words: _Words) -> None:
    columns = [
        words.t(N_("Scope")),
        words.t(N_("Figure")),
        words.t(N_("Target")),
        words.t(N_("Actual (mean)")),
        words.t(N_("Median")),
        words.t(N_("p90")),
        words.t(N_("Result")),
    ]
    rows = []
    for check in data.get("targets", []):
        figure = check.get("figure", "")
        rows.append(
            [
                words.scope(check.get("scope", "all")),
                words.t(FIGURE_NAMES[figure]) if figure in FIGURE_NAMES else figure,
                words.target_value(figure, check.get("target")),
                words.target_value(figure, check.get("actual")),
                words.target_value(figure, check.get("median")),
                words.target_value(figure, check.get("p90")),
                words.met(check.get("met")),
            ]
        )
    if rows:
        section.tables.append(Table(columns, rows))
    else:
        section.lines.append(words.t(N_("The policy sets no targets.")))


def _trends(section: Section, data: dict[str, Any], words: _Words) -> None:
    columns = [
        words.t(N_("Week")),
        words.t(N_("Incident count")),
        words.t(N_("MTTD (mean)")),
        words.t(N_("MTTR (mean)")),
        words.t(N_("Recovery")),
    ]
    rows = [
        [
            str(g["key"]),
            str(g["figures"].get("count", 0)),
            words.duration(g["figures"].get("mttd", {}).get("mean")),
            words.duration(g["figures"].get("mttr", {}).get("mean")),
            words.share(g["figures"].get("recovery", {})),
        ]
        for g in data.get("by_week", [])
    ]
    section.tables.append(Table(columns, rows))
    recurrence = data.get("recurrence", {})
    rate = recurrence.get("rate")
    section.lines.append(
        words.t(N_("Recurrences: %(marked)d marked, %(matched)d matched; rate %(rate)s."))
        % {
            "marked": recurrence.get("marked", 0),
            "matched": recurrence.get("matched", 0),
            "rate": DASH if rate is None else f"{rate * 100:.1f}%",
        }
    )


def _causes(section: Section, data: dict[str, Any], words: _Words) -> None:
    causes = data.get("causes", {})
    section.lines.append(
        words.t(N_("%(n)d post-mortems in review or published."))
        % {"n": causes.get("postmortems", 0)}
    )
    categories = causes.get("categories", [])
    if categories:
        section.tables.append(
            Table(
                [words.t(N_("Category")), words.t(N_("Post-mortems"))],
                [[words.category(c["category"]), str(c["count"])] for c in categories],
            )
        )
    items = causes.get("items", [])
    if items:
        section.tables.append(
            Table(
                [
                    words.t(N_("Incident")),
                    words.t(N_("Severity")),
                    words.t(N_("Category")),
                    words.t(N_("Post-mortem")),
                    words.t(N_("Root cause")),
                ],
                [
                    [
                        f"{i['incident_id']} {i['title']}",
                        words.severity(i["severity"]),
                        words.category(i.get("category")),
                        words.t(PM_STATUS_LABELS.get(i["status"], i["status"])),
                        i["root_cause"] or DASH,
                    ]
                    for i in items
                ],
            )
        )


def _policy(section: Section, data: dict[str, Any], words: _Words) -> None:
    checks = data.get("targets", [])
    missed = [c for c in checks if c.get("met") is False]
    if not missed:
        measured = any(c.get("met") is not None for c in checks)
        section.lines.append(
            words.t(N_("Every measured target was met this period."))
            if measured
            else words.t(N_("No target could be measured this period."))
        )
        return
    names = [
        f"{words.scope(c.get('scope', 'all'))} "
        f"{words.t(FIGURE_NAMES.get(c.get('figure', ''), c.get('figure', '')))}"
        for c in missed
    ]
    section.lines.append(
        words.t(N_("Targets missed this period: %(names)s.")) % {"names": ", ".join(names)}
    )


def _budget(section: Section, data: dict[str, Any], words: _Words) -> None:
    load = data.get("totals", {}).get("load", {})
    cost = load.get("cost")
    rows = [
        [words.t(N_("Pages sent")), str(load.get("pages", 0))],
        [words.t(N_("People paged")), str(load.get("people_paged", 0))],
        [words.t(N_("Pages out of hours")), str(load.get("pages_out_of_hours", 0))],
        [words.t(N_("Hours in incident roles")), f"{load.get('role_hours', 0):.1f}"],
        [
            words.t(N_("Responder cost")),
            DASH if cost is None else f"{cost:,.0f} {load.get('currency') or ''}".strip(),
        ],
    ]
    section.tables.append(Table([words.t(N_("Load")), words.t(N_("Value"))], rows))


def _actions(section: Section, data: dict[str, Any], words: _Words) -> None:
    actions = data.get("actions", {})
    section.lines.append(
        words.t(N_("%(open)d open, %(overdue)d overdue (as of %(day)s)."))
        % {
            "open": actions.get("open", 0),
            "overdue": actions.get("overdue", 0),
            "day": actions.get("as_of", ""),
        }
    )
    items = actions.get("items", [])
    if not items:
        return
    section.tables.append(
        Table(
            [
                words.t(N_("Item")),
                words.t(N_("Title")),
                words.t(N_("Owner")),
                words.t(N_("Due")),
                words.t(N_("Priority")),
                words.t(N_("Column")),
                words.t(N_("Overdue")),
            ],
            [
                [
                    i["code"],
                    i["title"],
                    i.get("owner") or DASH,
                    i.get("due_date") or DASH,
                    words.t(PRIORITY_LABELS.get(i["priority"], i["priority"])),
                    words.t(COLUMN_LABELS.get(i["column"], i["column"])),
                    words.t(N_("Overdue")) if i.get("overdue") else "",
                ]
                for i in items
            ],
        )
    )
