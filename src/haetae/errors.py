"""The error envelope and the stable list of error codes."""

from __future__ import annotations

from typing import Any

# Stable codes: clients switch on these. Add new ones; never rename.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "INVALID_JSON": (400, "The request body is not valid JSON."),
    "UNAUTHORIZED": (401, "Missing or invalid credentials."),
    "FORBIDDEN": (403, "Your role does not allow this."),
    "WRONG_INTEGRATION_TYPE": (
        403,
        "The integration's token is for another kind of sender: a `changes` integration posts "
        "to /api/v1/changes only, an alert integration to the ingest paths only.",
    ),
    "NOT_FOUND": (404, "No such resource."),
    "METHOD_NOT_ALLOWED": (405, "Method not allowed."),
    "INVALID_TRANSITION": (409, "The incident cannot move to that status from its current one."),
    "RESOLUTION_CONDITIONS_UNMET": (409, "The policy's resolution conditions are not met."),
    "CONFLICT": (409, "The resource already exists or changed meanwhile."),
    "WIP_LIMIT_REACHED": (
        409,
        "The board's column is at its WIP limit; only Expedite items move past it.",
    ),
    "POSTMORTEM_EXISTS": (409, "The incident already has a post-mortem."),
    "POSTMORTEM_STATE": (409, "The post-mortem cannot do that in its current state."),
    "APPROVAL_REQUIRED": (409, "The post-mortem needs the policy's approvals to be published."),
    "PAYLOAD_TOO_LARGE": (413, "The request body is larger than MAX_REQUEST_BODY_BYTES."),
    "BATCH_TOO_LARGE": (413, "The payload has more alerts than INGEST_MAX_BATCH_ITEMS."),
    "VALIDATION_ERROR": (422, "The request is not valid."),
    "SOME_ALERTS_REFUSED": (
        422,
        "Some alerts of the batch were refused (details.refused); the others were stored "
        "(details.accepted).",
    ),
    "UNKNOWN_SEVERITY": (422, "The severity is not defined by the policy."),
    "UNKNOWN_IMPACT": (422, "The impact level is not defined by the policy's matrix."),
    "SEVERITY_REQUIRED": (422, "Give a severity, or both business_impact and user_impact."),
    "UNKNOWN_ROLE": (422, "The role is not defined by the policy."),
    "UNKNOWN_CONDITION": (422, "The resolution condition is not defined for this severity."),
    "UNKNOWN_USER": (422, "No user has that username."),
    "UNKNOWN_TEAM": (422, "No team has that slug."),
    "INVALID_QUERY": (422, "The search query or filter is not valid."),
    "INVALID_RECURRENCE": (
        422,
        "An incident can only be a recurrence of another, existing, earlier incident "
        "(details.reason: self, unknown or later).",
    ),
    "DRILL_NOT_FOUND": (404, "No drill has that number (DR-001 or 1)."),
    "DRILL_STATE": (
        409,
        "The drill cannot do that in its current status (scheduled, running, ended, canceled).",
    ),
    "DRILL_NOT_PUBLIC": (
        422,
        "A drill incident never reaches the status page or outside stakeholders.",
    ),
    "RUNBOOK_NOT_FOUND": (404, "No runbook has that id (in the library, or on the incident)."),
    "RUNBOOK_STEP_NOT_FOUND": (404, "The runbook has no step with that id."),
    "RUNBOOK_ALREADY_ATTACHED": (409, "That runbook is already attached to the incident."),
    "INCIDENT_NOT_OPEN": (
        409,
        "The incident is closed or canceled; its runbooks no longer change.",
    ),
    "RUNBOOK_STEP_HAS_NO_CHECK": (422, "The runbook step has no check to run."),
    "CHECK_NOT_FOUND": (422, "No configured check has that id."),
    "ESCALATION_TARGET_NOT_FOUND": (
        404,
        "No user, team, schedule or external contact has that name (details.field says which).",
    ),
    "ESCALATION_TARGET_UNREACHABLE": (
        422,
        "The escalation target has nobody to page now, or no enabled contact method.",
    ),
    "ESCALATION_INCIDENT_CLOSED": (409, "The incident is resolved, closed or canceled."),
    "UNKNOWN_CHECKLIST": (
        404,
        "The policy has no checklist with that id for the incident's severity.",
    ),
    "UNKNOWN_CHECKLIST_ITEM": (404, "The checklist has no item with that id."),
    "TARGET_NOT_ALLOWED": (
        422,
        "The check's target is not on the diagnostics allow-list an admin configures.",
    ),
    "RATE_LIMITED": (429, "Too many requests; retry after the Retry-After header's seconds."),
    "INTERNAL_ERROR": (
        500,
        "Something went wrong on our side; the request id finds it in the logs.",
    ),
    # Communication templates (comms/templates.py).
    "UNKNOWN_TEMPLATE": (404, "No communication template has that kind."),
    "TEMPLATE_ERROR": (
        422,
        "The communication template is broken or reached outside its sandbox (file:line).",
    ),
    "UPDATE_FIELDS_REQUIRED": (
        422,
        "The severity's policy asks this status update for more fields (details.fields).",
    ),
    # Messages to stakeholders (comms/service.py).
    "UNKNOWN_CHANNEL": (422, "No enabled stakeholder channel has that slug (details.channels)."),
    "NO_CHANNELS": (
        422,
        "No route of the policy sends this kind of message about the incident to an existing "
        "channel, and none was named.",
    ),
    "MESSAGE_NOT_FOUND": (404, "No message to stakeholders has that id."),
    # Approval-gated messages (comms/approvals.py).
    "NOT_AN_APPROVER": (403, "Only the message's approvers may approve or reject it."),
    "MESSAGE_NOT_PENDING": (409, "The message is not waiting for approval (decided or sent)."),
    "NOT_READY": (503, "A dependency is unavailable."),
}


class HaetaeError(Exception):
    """A refusal with a stable code; routes turn it into the error envelope."""

    def __init__(self, code: str, message: str | None = None, **details: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code}")
        self.code = code
        self.status = ERROR_CODES[code][0]
        self.message = message or ERROR_CODES[code][1]
        self.details = details
        super().__init__(f"{code}: {self.message}")


def envelope(code: str, message: str, request_id: str | None, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details:
        body["details"] = details
    return {"error": body}


def error_answer(
    exc: HaetaeError, request_id: str | None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers of the answer to a refusal."""
    headers = {}
    if "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    return exc.status, envelope(exc.code, exc.message, request_id, **exc.details), headers
