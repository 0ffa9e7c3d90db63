"""The incident lifecycle: which status may follow which."""

from __future__ import annotations

STATUSES = ("triage", "investigating", "identified", "monitoring", "resolved", "closed", "canceled")
ACTIVE = ("triage", "investigating", "identified", "monitoring")

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
