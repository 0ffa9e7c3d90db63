"""API shapes for integrations, alerts and routing rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from haetae.alerts.models import Alert
from haetae.db import Base
from haetae.inputs import Input
from haetae.policy.routing import Rule

IntegrationType = Literal["alertmanager", "grafana", "pagerduty", "generic", "changes"]
ALERTS_MAX_PAGE = 500  # GET /api/v1/alerts and `haetae alerts list`


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class IntegrationIn(Input):
    name: str = Field(min_length=1, max_length=100)
    type: IntegrationType


class IntegrationPatch(Input):
    enabled: bool


class IntegrationOut(_Out):
    id: int
    name: str
    type: str
    token_prefix: str
    created_by: str
    created_at: datetime
    rotated_at: datetime | None
    enabled: bool
    url: str


class IntegrationToken(IntegrationOut):
    token: str = Field(description="shown once: Haetae keeps only its hash")


class AlertOut(_Out):
    id: int
    integration_id: int
    integration: str
    dedup_key: str
    status: str
    summary: str
    details: str
    source: str | None
    sender_severity: str | None
    severity: str | None
    service: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    received_at: datetime
    last_received_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    receipts: int
    rule: str | None
    incident_id: str | None


class AlertDetail(AlertOut):
    raw: dict[str, Any]


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int = Field(description="matches, counted up to 10,000 (see total_capped)")
    total_capped: bool = Field(
        default=False, description="more than `total` match: show it as 10,000+"
    )
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next page; null on the last page"
    )
    limit: int
    offset: int


class RoutingRuleIn(Input):
    rule: Rule
    position: int = Field(default=100, ge=0, le=1_000_000, description="lower first")
    enabled: bool = True


class RoutingRuleOut(_Out):
    id: int
    name: str
    position: int
    enabled: bool
    rule: dict[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime


def columns_of(row: Base) -> dict[str, Any]:
    """A row's column values by name, for an output model to validate."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def alert_out(alert: Alert, integration: str, *, detail: bool = False) -> AlertOut:
    """An alert as the API and the CLI show it; `detail` adds the raw payload."""
    shape = AlertDetail if detail else AlertOut
    return shape.model_validate({**columns_of(alert), "integration": integration})
