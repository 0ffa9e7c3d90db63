"""Names of the values the code (not the policy) defines, marked for translation.

Translated where they are shown: the console, the timeline export.
"""

from __future__ import annotations

from haetae.i18n import N_
from haetae.incidents import lifecycle

STATUS_LABELS = {
    "triage": N_("Triage"),
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "closed": N_("Closed"),
    "canceled": N_("Canceled"),
}
# What the button that moves an incident to a status says.
MOVE_LABELS = {
    "investigating": N_("Start investigating"),
    "identified": N_("Cause identified"),
    "monitoring": N_("Fix in place, monitoring"),
    "resolved": N_("Resolve"),
    "closed": N_("Close"),
    "canceled": N_("Cancel (false alarm)"),
}
EVENT_LABELS = {
    "declared": N_("Declared"),
    "status_changed": N_("Status"),
    "severity_changed": N_("Severity"),
    "fields_changed": N_("Details changed"),
    "acknowledged": N_("Acknowledged"),
    "role_assigned": N_("Role"),
    "role_handed_over": N_("Hand-over"),
    "role_unassigned": N_("Role"),
    "status_update": N_("Status update"),
    "note": N_("Note"),
    "evidence": N_("Evidence"),
    "decision": N_("Decision"),
    "condition_checked": N_("Condition"),
    "resolution_override": N_("Override"),
    "postmortem_started": N_("Post-mortem started"),
    "postmortem_edited": N_("Post-mortem edited"),
    "postmortem_measure_added": N_("Post-mortem measure"),
    "postmortem_reviewers_added": N_("Post-mortem reviewers"),
    "postmortem_submitted": N_("Post-mortem submitted"),
    "postmortem_reviewed": N_("Post-mortem review"),
    "postmortem_published": N_("Post-mortem published"),
    "postmortem_meeting": N_("Post-mortem meeting"),
    "postmortem_rescheduled": N_("Post-mortem deadlines"),
    "recurrence_marked": N_("Recurrence"),
    "recurrence_unmarked": N_("Recurrence"),
    "action_item_created": N_("Action item added"),
    "action_item_edited": N_("Action item edited"),
    "action_item_assigned": N_("Action item assigned"),
    "action_item_moved": N_("Action item moved"),
    "postmortem_overdue": N_("Post-mortem overdue"),
    "action_item_overdue": N_("Action item overdue"),
    "checklist_item": N_("Checklist"),
    "role_reminder": N_("Role reminder"),
    "runbook_attached": N_("Runbook attached"),
    "runbook_detached": N_("Runbook detached"),
    "runbook_step": N_("Runbook step"),
    "runbook_accuracy": N_("Runbook accuracy"),
    "change_linked": N_("Suspected change"),
    "change_unlinked": N_("Change unlinked"),
    "manual_escalation": N_("Page now"),
    "comms_sent": N_("Sent to stakeholders"),
    "contact_acknowledged": N_("External contact acknowledged"),
    "diagnostic_result": N_("Diagnostic"),
    "analysis_started": N_("First analysis started"),
    "analysis_completed": N_("First analysis report"),
    "public_incident_opened": N_("Public incident opened"),
    "public_update_published": N_("Public update published"),
    "public_update_reminder": N_("Public update reminder"),
    "comms_approval_requested": N_("Approval requested"),
    "comms_approval_edited": N_("Message edited before approval"),
    "comms_approval_approved": N_("Message approved"),
    "comms_approval_rejected": N_("Message rejected"),
}
DECISION_KINDS = {"technical": N_("Technical"), "operational": N_("Operational")}
ACCOUNT_ROLES = {"viewer": N_("Viewer"), "responder": N_("Responder"), "admin": N_("Admin")}
SPECIAL_TARGETS = {"next_business_day": N_("next business day"), "next_release": N_("next release")}
assert set(STATUS_LABELS) == set(lifecycle.STATUSES)


# The follow-up board (seed 001 App. C), its action items and post-mortems.
COLUMN_LABELS = {
    "backlog": N_("Backlog"),
    "in_progress": N_("In Progress"),
    "review": N_("Review"),
    "done": N_("Done"),
}
LANE_LABELS = {
    "incident": N_("Incident"),
    "postmortem": N_("Post-mortem"),
    "action_items": N_("Incident Action Items"),
}
CLASS_LABELS = {
    "expedite": N_("Expedite"),
    "fixed_date": N_("Fixed Date"),
    "standard": N_("Standard"),
}
PRIORITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
# Seed 001 6.5's terms of a measure, in its order and words.
TERM_LABELS = {
    "short": N_("Short term (within a week)"),
    "mid": N_("Mid term (within a month)"),
    "long": N_("Long term (within a quarter)"),
}
PM_STATUS_LABELS = {
    "draft": N_("Draft"),
    "in_review": N_("In review"),
    "published": N_("Published"),
}
