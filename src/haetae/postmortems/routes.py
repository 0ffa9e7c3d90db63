"""Post-mortem routes under /api/v1/postmortems: thin HTTP over postmortems.service, each
post-mortem addressed by its incident's ID."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from haetae.actions.service import code
from haetae.deps import Context, responder, viewer
from haetae.postmortems import queries, service
from haetae.postmortems.queries import MeasureRow, PostmortemPage, PostmortemView
from haetae.postmortems.schemas import (
    MeasureIn,
    MeetingIn,
    PostmortemEdit,
    PostmortemStart,
    ReviewersIn,
    ReviewIn,
    SubmitIn,
)

router = APIRouter(prefix="/postmortems", tags=["postmortems"])


def _view(session: Session, ctx: Context, incident_id: str) -> PostmortemView:
    session.flush()
    return queries.view(
        session, ctx.policy, incident_id, now=ctx.now(), locale=ctx.principal.locale
    )


@router.get("", response_model=PostmortemPage)
def list_postmortems(
    ctx: Context = viewer,
    status: str | None = Query(default=None, description="draft, in_review or published"),
    limit: int = Query(default=50, ge=1, le=queries.MAX_PAGE),
    cursor: str | None = Query(default=None, max_length=200),
) -> PostmortemPage:
    with ctx.read() as session:
        return queries.list_postmortems(session, status=status, limit=limit, cursor=cursor)


@router.post("", status_code=201, response_model=PostmortemView)
def start(body: PostmortemStart, response: Response, ctx: Context = responder) -> PostmortemView:
    with ctx.write() as session:
        pm = service.start(session, ctx.policy, body.incident_id, by=ctx.actor, now=ctx.now())
        result = _view(session, ctx, pm.incident_id)
    response.headers["Location"] = f"/api/v1/postmortems/{result.incident_id}"
    return result


@router.get("/{incident_id}", response_model=PostmortemView)
def get_postmortem(incident_id: str, ctx: Context = viewer) -> PostmortemView:
    with ctx.read() as session:
        return _view(session, ctx, incident_id)


@router.patch("/{incident_id}", response_model=PostmortemView)
def edit(incident_id: str, body: PostmortemEdit, ctx: Context = responder) -> PostmortemView:
    with ctx.write() as session:
        service.edit(session, ctx.policy, incident_id, body, by=ctx.actor, now=ctx.now())
        return _view(session, ctx, incident_id)


@router.post("/{incident_id}/measures", status_code=201, response_model=MeasureRow)
def add_measure(incident_id: str, body: MeasureIn, ctx: Context = responder) -> MeasureRow:
    with ctx.write() as session:
        item = service.add_measure(
            session, ctx.policy, incident_id, body, by=ctx.actor, now=ctx.now()
        )
        session.flush()
        return next(m for m in _view(session, ctx, incident_id).measures if m.code == code(item))


@router.post("/{incident_id}/reviewers", response_model=PostmortemView)
def add_reviewers(incident_id: str, body: ReviewersIn, ctx: Context = responder) -> PostmortemView:
    with ctx.write() as session:
        service.add_reviewers(
            session, ctx.policy, incident_id, body.reviewers, by=ctx.actor, now=ctx.now()
        )
        return _view(session, ctx, incident_id)


@router.post("/{incident_id}/submit", response_model=PostmortemView)
def submit(
    incident_id: str, body: SubmitIn | None = None, ctx: Context = responder
) -> PostmortemView:
    with ctx.write() as session:
        service.submit(
            session,
            ctx.policy,
            incident_id,
            reviewers=body.reviewers if body else None,
            by=ctx.actor,
            now=ctx.now(),
        )
        return _view(session, ctx, incident_id)


@router.post("/{incident_id}/reviews", response_model=PostmortemView)
def review(incident_id: str, body: ReviewIn, ctx: Context = responder) -> PostmortemView:
    with ctx.write() as session:
        service.review(
            session,
            ctx.policy,
            incident_id,
            verdict=body.verdict,
            comment=body.comment,
            by=ctx.actor,
            now=ctx.now(),
        )
        return _view(session, ctx, incident_id)


@router.post("/{incident_id}/publish", response_model=PostmortemView)
def publish(incident_id: str, ctx: Context = responder) -> PostmortemView:
    with ctx.write() as session:
        service.publish(session, ctx.policy, incident_id, by=ctx.actor, now=ctx.now())
        return _view(session, ctx, incident_id)


@router.post("/{incident_id}/meeting", response_model=PostmortemView)
def meeting(incident_id: str, body: MeetingIn, ctx: Context = responder) -> PostmortemView:
    with ctx.write() as session:
        service.meeting(
            session,
            ctx.policy,
            incident_id,
            at=body.at,
            held=body.held,
            by=ctx.actor,
            now=ctx.now(),
        )
        return _view(session, ctx, incident_id)
