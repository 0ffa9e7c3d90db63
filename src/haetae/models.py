"""Every table, imported in one place for Alembic and the tests."""

from haetae.alerts.models import Alert, AlertGroup, Integration, RoutingRule
from haetae.auth.models import ApiKey, User
from haetae.incidents.models import (
    ConditionCheck,
    Decision,
    Incident,
    IncidentCounter,
    Note,
    RoleAssignment,
    StatusUpdate,
)
from haetae.timeline.models import TimelineEvent

__all__ = [
    "Alert",
    "AlertGroup",
    "ApiKey",
    "ConditionCheck",
    "Decision",
    "Incident",
    "IncidentCounter",
    "Integration",
    "Note",
    "RoleAssignment",
    "RoutingRule",
    "StatusUpdate",
    "TimelineEvent",
    "User",
]
