"""The incident lifecycle: which status may follow which."""

from __future__ import annotations

from haetae.i18n import N_

STATUSES = ("triage", "investigating", "identified", "monitoring", "resolved", "closed", "canceled")
ACTIVE = ("triage", "investigating", "identified", "monitoring")
# The resolution summaries Haetae writes itself (from a page's action link, or when every
# alert of the incident resolved), kept in English and shown in the reader's language.
RESOLVED_FROM_LINK = N_("resolved from a page link")
RESOLVED_BY_ALERTS = N_("resolved when all of its alerts resolved")
AUTOMATIC_SUMMARIES = frozenset({RESOLVED_FROM_LINK, RESOLVED_BY_ALERTS})

ALLOWED: dict[str, frozenset[str]] = {
    "triage": frozenset({"investigating", "identified", "monitoring", "resolved", "canceled"}),
    "investigating": frozenset({"identified", "monitoring", "resolved", "canceled"}),
    "identified": frozenset({"investigating", "monitoring", "resolved", "canceled"}),
    # A regression during monitoring goes back to work.
    "monitoring": frozenset({"investigating", "identified", "resolved"}),
    # A resolved incident can be reopened until it is closed.
    "resolved": frozenset({"closed", "investigating"}),
    "closed": frozenset(),
    "canceled": frozenset(),
}


def can_move(current: str, to: str) -> bool:
    return to in ALLOWED.get(current, frozenset())
