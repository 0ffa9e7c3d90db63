"""Every table, imported in one place for Alembic and the tests."""

from haetae.alerts.models import Alert, AlertGroup, Integration, RoutingRule
from haetae.auth.models import ApiKey, User
from haetae.escalation.models import Escalation, EscalationPolicy
from haetae.incidents.models import (
    ConditionCheck,
    Decision,
    Incident,
    IncidentCounter,
    Note,
    RoleAssignment,
    StatusUpdate,
)
from haetae.notify.models import ActionLink, EngineLease, Notification
from haetae.oncall.models import HandoffNote, Override, Rotation, Schedule
from haetae.people.models import ContactMethod, NotificationRule, Service, Team, TeamMember
from haetae.timeline.models import TimelineEvent
from haetae.worker.models import WorkerHeartbeat

__all__ = [
    "ActionLink",
    "Alert",
    "AlertGroup",
    "ApiKey",
    "ConditionCheck",
    "ContactMethod",
    "Decision",
    "EngineLease",
    "Escalation",
    "EscalationPolicy",
    "HandoffNote",
    "Incident",
    "IncidentCounter",
    "Integration",
    "Note",
    "Notification",
    "NotificationRule",
    "Override",
    "RoleAssignment",
    "Rotation",
    "RoutingRule",
    "Schedule",
    "Service",
    "StatusUpdate",
    "Team",
    "TeamMember",
    "TimelineEvent",
    "User",
    "WorkerHeartbeat",
]
