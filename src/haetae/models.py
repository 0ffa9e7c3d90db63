"""Every table, imported in one place for Alembic and the tests."""

from haetae.actions.models import ActionItem, ActionItemCounter
from haetae.alerts.models import Alert, AlertGroup, Integration, RoutingRule
from haetae.auth.models import ApiKey, User
from haetae.cases.index import SearchDocument
from haetae.changes.models import Change, IncidentChange
from haetae.checklists.models import ChecklistProgress, RoleReminderSent
from haetae.comms.models import CommsChannel, CommsMessage, Follow
from haetae.contacts.models import ExternalContact
from haetae.diagnostics.models import (
    AllowedTarget,
    CertificateWarning,
    DiagnosticRun,
    IncidentAnalysis,
    ServiceCheck,
)
from haetae.drills.models import Drill, DrillCounter
from haetae.escalation.models import Escalation, EscalationPolicy
from haetae.incidents.models import (
    ConditionCheck,
    Decision,
    Incident,
    IncidentCounter,
    IncidentService,
    IncidentTag,
    Note,
    RoleAssignment,
    StatusUpdate,
)
from haetae.metrics.facts import MetricFact
from haetae.notify.models import ActionLink, EngineLease, Notification
from haetae.oncall.models import HandoffNote, Override, Rotation, Schedule
from haetae.people.models import ContactMethod, NotificationRule, Service, Team, TeamMember
from haetae.postmortems.models import Postmortem, PostmortemReview
from haetae.reviews.models import ReviewReport
from haetae.runbooks.models import IncidentIntake, IncidentRunbook, RunbookStep
from haetae.statuspage.fanout_models import StatusFanout
from haetae.statuspage.models import (
    Component,
    ComponentGroup,
    ComponentState,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
    Subscriber,
)
from haetae.timeline.models import TimelineEvent
from haetae.worker.models import WorkerHeartbeat

__all__ = [
    "ActionItem",
    "ActionItemCounter",
    "ActionLink",
    "Alert",
    "AlertGroup",
    "AllowedTarget",
    "ApiKey",
    "CertificateWarning",
    "Change",
    "ChecklistProgress",
    "CommsChannel",
    "CommsMessage",
    "Component",
    "ComponentGroup",
    "ComponentState",
    "ConditionCheck",
    "ContactMethod",
    "Decision",
    "DiagnosticRun",
    "Drill",
    "DrillCounter",
    "EngineLease",
    "Escalation",
    "EscalationPolicy",
    "ExternalContact",
    "Follow",
    "HandoffNote",
    "Incident",
    "IncidentAnalysis",
    "IncidentChange",
    "IncidentCounter",
    "IncidentIntake",
    "IncidentRunbook",
    "IncidentService",
    "IncidentTag",
    "Integration",
    "Maintenance",
    "MetricFact",
    "Note",
    "Notification",
    "NotificationRule",
    "Override",
    "Postmortem",
    "PostmortemReview",
    "PublicIncident",
    "PublicUpdate",
    "ReviewReport",
    "RoleAssignment",
    "RoleReminderSent",
    "Rotation",
    "RoutingRule",
    "RunbookStep",
    "Schedule",
    "SearchDocument",
    "Service",
    "ServiceCheck",
    "StatusFanout",
    "StatusPageSettings",
    "StatusUpdate",
    "Subscriber",
    "Team",
    "TeamMember",
    "TimelineEvent",
    "User",
    "WorkerHeartbeat",
]
