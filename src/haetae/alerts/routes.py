"""Integrations, alerts and routing rules under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from haetae.alerts import integrations as svc
from haetae.alerts import queries, routing_rules
from haetae.alerts.models import Integration, RoutingRule
from haetae.alerts.queries import AlertFilter
from haetae.alerts.schemas import (
    ALERTS_MAX_PAGE,
    AlertDetail,
    AlertOut,
    AlertPage,
    IntegrationIn,
    IntegrationOut,
    IntegrationPatch,
    IntegrationToken,
    RoutingRuleIn,
    RoutingRuleOut,
    columns_of,
)
from haetae.deps import Context, admin, viewer
from haetae.errors import HaetaeError
from haetae.inputs import RowId, Timestamp

router = APIRouter(tags=["alerts"])


def integration_out(request: Request, row: Integration, token: str | None = None) -> IntegrationOut:
    # The request's address when PUBLIC_URL is unset: the caller reached Haetae there.
    base = request.app.state.settings.base_url_for(request.base_url)
    return svc.integration_view(row, base, token)


@router.get("/integrations", response_model=list[IntegrationOut])
def list_integrations(request: Request, ctx: Context = admin) -> list[IntegrationOut]:
    with ctx.read() as session:
        return [integration_out(request, row) for row in svc.list_integrations(session)]


@router.post("/integrations", status_code=201, response_model=IntegrationToken)
def create_integration(
    body: IntegrationIn, request: Request, ctx: Context = admin
) -> IntegrationOut:
    """Make an integration. The answer holds its token: the only time it is shown."""
    with ctx.write() as session:
        row, token = svc.create_integration(
            session, name=body.name, type=body.type, actor=ctx.actor, now=ctx.now()
        )
        return integration_out(request, row, token)


@router.get("/integrations/{integration_id}", response_model=IntegrationOut)
def get_integration(
    integration_id: RowId, request: Request, ctx: Context = admin
) -> IntegrationOut:
    with ctx.read() as session:
        return integration_out(request, svc.get_integration(session, integration_id))


@router.post("/integrations/{integration_id}/rotate", response_model=IntegrationToken)
def rotate_integration(
    integration_id: RowId, request: Request, ctx: Context = admin
) -> IntegrationOut:
    """A new token. The old one stops working (within 5 s in other worker processes)."""
    with ctx.write() as session:
        row = svc.get_integration(session, integration_id)
        token = svc.rotate_token(session, row, now=ctx.now())
        out = integration_out(request, row, token)
    request.app.state.tokens.forget()
    return out


@router.patch("/integrations/{integration_id}", response_model=IntegrationOut)
def patch_integration(
    integration_id: RowId, body: IntegrationPatch, request: Request, ctx: Context = admin
) -> IntegrationOut:
    with ctx.write() as session:
        row = svc.get_integration(session, integration_id)
        svc.set_enabled(row, body.enabled, now=ctx.now())
        out = integration_out(request, row)
    request.app.state.tokens.forget()
    return out


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    ctx: Context = viewer,
    incident_id: str | None = Query(default=None, max_length=32),
    integration: str | None = Query(default=None, max_length=100, description="name"),
    status: str | None = Query(default=None, pattern="^(firing|acknowledged|resolved)$"),
    open: bool | None = Query(default=None, description="firing or acknowledged"),
    severity: str | None = Query(default=None, max_length=32, description="routed severity"),
    fingerprint: str | None = Query(
        default=None, max_length=255, description="the sender's fingerprint or dedup key"
    ),
    since: Timestamp | None = Query(default=None, description="received at or after (ISO 8601)"),
    limit: int = Query(default=50, ge=1, le=ALERTS_MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
    cursor: str | None = Query(
        default=None, max_length=200, description="a page's next_cursor: the page after it"
    ),
) -> AlertPage:
    """Alerts, newest first. `total` counts up to 10,000 (`total_capped` past it);
    `next_cursor` reads the next page from where this one ended, however deep."""
    where = AlertFilter(
        incident_id=incident_id or None,
        integration_name=integration or None,
        statuses=[status] if status else None,
        open=open,
        severity=severity or None,
        fingerprint=fingerprint or None,
        since=since,
    )
    with ctx.read() as session:
        return queries.alert_page(session, where, limit=limit, offset=offset, cursor=cursor)


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: RowId, ctx: Context = viewer) -> AlertOut:
    """One alert, with its raw payload as the sender sent it."""
    with ctx.read() as session:
        return queries.alert_detail(session, alert_id)


# Routing rules managed through the API, tried before the policy file's.


def rule_out(row: RoutingRule) -> RoutingRuleOut:
    return RoutingRuleOut.model_validate({**columns_of(row), "rule": row.definition})


@router.get("/routing-rules", response_model=list[RoutingRuleOut])
def list_rules(ctx: Context = viewer) -> list[RoutingRuleOut]:
    """API-managed rules in the order they are tried (before the policy file's rules)."""
    with ctx.read() as session:
        return [rule_out(row) for row in routing_rules.list_rules(session)]


@router.post("/routing-rules", status_code=201, response_model=RoutingRuleOut)
def create_rule(body: RoutingRuleIn, ctx: Context = admin) -> RoutingRuleOut:
    routing_rules.check_rule(ctx.policy, body)
    with ctx.write() as session:
        row = routing_rules.create_rule(session, body, actor=ctx.actor, now=ctx.now())
        return rule_out(row)


@router.put("/routing-rules/{name}", response_model=RoutingRuleOut)
def replace_rule(name: str, body: RoutingRuleIn, ctx: Context = admin) -> RoutingRuleOut:
    if body.rule.name != name:
        raise HaetaeError("VALIDATION_ERROR", "rule.name must match the path", field="rule.name")
    routing_rules.check_rule(ctx.policy, body)
    with ctx.write() as session:
        row = routing_rules.get_rule(session, name)
        return rule_out(routing_rules.update_rule(session, row, body, now=ctx.now()))


@router.delete("/routing-rules/{name}", status_code=204)
def delete_rule(name: str, ctx: Context = admin) -> None:
    with ctx.write() as session:
        routing_rules.delete_rule(session, routing_rules.get_rule(session, name))
