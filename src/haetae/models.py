"""Every table, imported in one place for Alembic and the tests."""

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
    "ApiKey",
    "ConditionCheck",
    "Decision",
    "Incident",
    "IncidentCounter",
    "Note",
    "RoleAssignment",
    "StatusUpdate",
    "TimelineEvent",
    "User",
]
