"""The drills' API under /api/v1: /drills (schedule, start, kill switch, scorecard, items)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from haetae.actions.service import code as item_code
from haetae.deps import Context, responder, viewer
from haetae.drills import scorecard, service
from haetae.drills.schemas import (
    DRILL_STATUSES,
    DrillIn,
    DrillItemIn,
    DrillItemOut,
    DrillOut,
    DrillPage,
    EndIn,
    ScorecardIn,
    ScorecardOut,
)
from haetae.errors import HaetaeError

router = APIRouter(tags=["drills"])


@router.get("/drills", response_model=DrillPage)
def list_drills(
    ctx: Context = viewer,
    status: str | None = Query(default=None, max_length=16),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> DrillPage:
    """Newest first."""
    if status is not None and status not in DRILL_STATUSES:
        raise HaetaeError("VALIDATION_ERROR", f"status must be one of {', '.join(DRILL_STATUSES)}")
    with ctx.read() as session:
        rows, total = service.list_drills(session, status=status, limit=limit, offset=offset)
        return DrillPage(drills=[service.drill_out(d) for d in rows], total=total)


@router.post("/drills", status_code=201, response_model=DrillOut)
def create(body: DrillIn, response: Response, ctx: Context = responder) -> DrillOut:
    """Scheduled (or started later by hand); a chaos experiment needs seed 001 8.2's template."""
    with ctx.write() as session:
        drill = service.create_drill(session, ctx.policy, body, by=ctx.actor, now=ctx.now())
        out = service.drill_out(drill)
    response.headers["Location"] = f"/api/v1/drills/{out.code}"
    return out


@router.get("/drills/{ref}", response_model=DrillOut)
def get(ref: str, ctx: Context = viewer) -> DrillOut:
    """`ref`: DR-001, or its number."""
    with ctx.read() as session:
        return service.drill_out(service.get_drill(session, ref))


@router.post("/drills/{ref}/start", response_model=DrillOut)
def start(ref: str, ctx: Context = responder) -> DrillOut:
    """Start now. Synthetic alerts are sent by the worker's next pass (drills/jobs.py)."""
    with ctx.write() as session:
        drill = service.get_drill(session, ref, for_update=True)
        service.start_drill(session, ctx.policy, drill, by=ctx.actor, now=ctx.now())
        return service.drill_out(drill)


def _end(request: Request, ref: str, reason: str, note: str, ctx: Context) -> DrillOut:
    with ctx.write() as session:
        drill = service.get_drill(session, ref, for_update=True)
        service.end_drill(
            session, ctx.policy, drill, by=ctx.actor, now=ctx.now(), reason=reason, note=note
        )
        out = service.drill_out(drill)
    # The drill's integration is disabled: this process refuses its token from now on (other
    # processes within the token cache's few seconds).
    request.app.state.tokens.forget()
    return out


@router.post("/drills/{ref}/end", response_model=DrillOut)
def end(
    request: Request, ref: str, body: EndIn | None = None, ctx: Context = responder
) -> DrillOut:
    """An ordinary end (end_reason completed); a scheduled drill is canceled."""
    return _end(request, ref, "completed", body.note if body else "", ctx)


@router.post("/drills/{ref}/kill", response_model=DrillOut)
def kill(
    request: Request, ref: str, body: EndIn | None = None, ctx: Context = responder
) -> DrillOut:
    """The kill switch: ends the drill and everything it started, at once."""
    return _end(request, ref, "kill_switch", body.note if body else "", ctx)


@router.get("/drills/{ref}/scorecard", response_model=ScorecardOut)
def get_scorecard(
    ref: str, ctx: Context = viewer, format: str = Query(default="json", pattern="^(json|md)$")
) -> ScorecardOut:
    """Seed 001 8.3's scorecard; `?format=md` gives its Markdown table."""
    with ctx.read() as session:
        card = scorecard.build(session, ctx.policy, service.get_drill(session, ref))
    if format == "md":
        return Response(  # type: ignore[return-value]
            scorecard.markdown(card), media_type="text/markdown; charset=utf-8"
        )
    return card


@router.put("/drills/{ref}/scorecard", response_model=ScorecardOut)
def put_scorecard(ref: str, body: ScorecardIn, ctx: Context = responder) -> ScorecardOut:
    """What people judge: communication, runbook accuracy, participants, assessment."""
    with ctx.write() as session:
        drill = service.get_drill(session, ref, for_update=True)
        scorecard.update(session, drill, body, now=ctx.now())
        return scorecard.build(session, ctx.policy, drill)


@router.get("/drills/{ref}/items", response_model=list[DrillItemOut])
def list_items(ref: str, ctx: Context = viewer) -> list[DrillItemOut]:
    with ctx.read() as session:
        return scorecard.drill_items(session, service.get_drill(session, ref))


@router.post("/drills/{ref}/items", status_code=201, response_model=DrillItemOut)
def add_item(
    ref: str, body: DrillItemIn, response: Response, ctx: Context = responder
) -> DrillItemOut:
    """An improvement item (TI-NNN) on the follow-up board."""
    with ctx.write() as session:
        drill = service.get_drill(session, ref)
        item = scorecard.add_item(session, ctx.policy, drill, body, by=ctx.actor, now=ctx.now())
        out = DrillItemOut(
            code=item_code(item),
            title=item.title,
            owner=item.owner,
            due_date=item.due_date,
            column=item.column,
            priority=item.priority,
        )
    response.headers["Location"] = f"/api/v1/action-items/{out.code}"
    return out
