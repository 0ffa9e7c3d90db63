"""Turning posted form fields into service input, and refusals into messages for the form."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents.schemas import ConditionOut
from haetae.web.console import Console

# Field names as a person reads them on the forms.
FIELD_LABELS = {
    "title": N_("Title"),
    "summary": N_("Summary"),
    "services": N_("Services"),
    "category": N_("Category"),
    "tags": N_("Tags"),
    "environment": N_("Environment"),
    "impact.users": N_("Users affected"),
    "impact.regions": N_("Regions"),
    "impact.features": N_("Features"),
    "business_impact": N_("Business impact"),
    "user_impact": N_("User impact"),
    "severity": N_("Severity"),
    "severity_reason": N_("Reason for the severity"),
    "situation": N_("Situation"),
    "impact": N_("Impact"),
    "progress": N_("Progress"),
    "eta": N_("ETA"),
    "next_update_at": N_("Next update"),
    "body": N_("Text"),
    "url": N_("Link"),
    "decision": N_("Decision"),
    "alternatives": N_("Alternatives"),
    "reason": N_("Reason"),
    "kind": N_("Kind"),
    "assignee": N_("Assignee"),
    "affected_version": N_("Affected version"),
}
# Refusals a person can act on get their own words; the rest show the service's message.
CODE_MESSAGES = {
    "SEVERITY_REQUIRED": N_(
        "Pick both a business impact and a user impact, or choose a severity and give a reason."
    ),
    "INVALID_TRANSITION": N_("The incident cannot move to that status from where it is now."),
    "RESOLUTION_CONDITIONS_UNMET": N_("These resolution conditions are not met yet:"),
    "DRILL_NOT_PUBLIC": N_("A drill's incident never appears on the status page."),
    "NOT_READY": N_(
        "The database cannot take changes right now, so nothing was saved. "
        "Try again in a few seconds."
    ),
}
# The schemas' own rules that span fields, as their English message, in a person's words.
RULE_MESSAGES = {
    "severity_reason is required when severity is set explicitly": N_(
        "A severity chosen explicitly needs a reason."
    ),
}


@dataclass
class Failure:
    """A refused form: which panel, what to say, and what the person typed (to keep it)."""

    panel: str
    messages: list[str]
    values: dict[str, str]
    status: int = 422
    unmet: list[ConditionOut] = field(default_factory=list)


def split_list(value: str) -> list[str]:
    """Comma or newline separated text as a list, blanks dropped."""
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def split_lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def local_time(console: Console, value: str, *, name: str) -> datetime | None:
    """A datetime-local input, read in the policy's zone and stored as UTC."""
    if not value:
        return None
    try:
        naive = datetime.strptime(value, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise HaetaeError(
            "VALIDATION_ERROR", f"{name}: '{value}' is not a date and time.", field=name
        ) from None
    return naive.replace(tzinfo=console.policy.zone).astimezone(UTC)


def validation_messages(console: Console, exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        label = console.gettext(FIELD_LABELS[where]) if where in FIELD_LABELS else where
        if error["type"] in ("missing", "string_too_short"):
            text = console.gettext("%(field)s is required.") % {"field": label}
        else:
            reason = str(error["msg"]).removeprefix("Value error, ")
            if reason in RULE_MESSAGES:
                text = console.gettext(RULE_MESSAGES[reason])
            else:
                text = f"{label}: {reason}" if label else reason
        messages.append(text)
    return messages


def refusal_messages(console: Console, exc: HaetaeError) -> list[str]:
    if exc.code in CODE_MESSAGES:
        return [console.gettext(CODE_MESSAGES[exc.code])]
    return [exc.message]


def failure_from(console: Console, panel: str, values: dict[str, Any], exc: Exception) -> Failure:
    clean = {k: v for k, v in values.items() if isinstance(v, str)}
    if isinstance(exc, ValidationError):
        return Failure(panel, validation_messages(console, exc), clean, 422)
    assert isinstance(exc, HaetaeError)
    unmet = [
        ConditionOut(id=u["id"], text=u["text"], kind=u["kind"], met=False)
        for u in exc.details.get("unmet", [])
    ]
    return Failure(panel, refusal_messages(console, exc), clean, exc.status, unmet)
