"""Approvals under /api/v1: messages waiting for approval, approve, edit or reject; and
follows (an incident or a service, the caller's list)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from haetae.comms import approvals, follows
from haetae.comms.approval_schemas import (
    ApprovalOut,
    ApproveIn,
    FollowOut,
    RejectIn,
    approval_out,
)
from haetae.comms.models import Follow
from haetae.deps import Context, responder, viewer
from haetae.inputs import RowId

router = APIRouter(tags=["communications"])


@router.get("/approvals", response_model=list[ApprovalOut])
def list_approvals(ctx: Context = viewer) -> list[ApprovalOut]:
    """Messages waiting for approval, oldest first."""
    with ctx.read() as session:
        return [approval_out(m) for m in approvals.pending(session)]


@router.post("/messages/{message_id}/approve", response_model=ApprovalOut)
def approve(message_id: RowId, body: ApproveIn, ctx: Context = responder) -> ApprovalOut:
    """Approve a waiting message (one of its approvers only), optionally with an edited
    subject or body, which is what is sent."""
    with ctx.write() as session:
        message = approvals.get_message(session, message_id, for_update=True)
        approvals.approve(
            session,
            ctx.policy,
            message,
            by=ctx.actor,
            now=ctx.now(),
            subject=body.subject,
            body=body.body,
            note=body.note,
        )
        return approval_out(message)


@router.post("/messages/{message_id}/reject", response_model=ApprovalOut)
def reject(message_id: RowId, body: RejectIn, ctx: Context = responder) -> ApprovalOut:
    """Reject a waiting message (one of its approvers only): it is never sent."""
    with ctx.write() as session:
        message = approvals.get_message(session, message_id, for_update=True)
        approvals.reject(session, message, by=ctx.actor, now=ctx.now(), note=body.note)
        return approval_out(message)


# Follows: a follower gets the incident's (or the service's incidents') update and
# resolution messages through their first contact method.


def _follow_out(row: Follow) -> FollowOut:
    return FollowOut(incident_id=row.incident_id, service=row.service, created_at=row.created_at)


@router.post("/incidents/{incident_id}/follow", status_code=201, response_model=FollowOut)
def follow_incident(incident_id: str, ctx: Context = viewer) -> FollowOut:
    with ctx.write() as session:
        user = follows.user_named(session, ctx.actor)
        row = follows.follow(session, user, incident_id=incident_id, now=ctx.now())
        return _follow_out(row)


@router.delete("/incidents/{incident_id}/follow", status_code=204)
def unfollow_incident(incident_id: str, ctx: Context = viewer) -> Response:
    with ctx.write() as session:
        user = follows.user_named(session, ctx.actor)
        follows.unfollow(session, user, incident_id=incident_id)
    return Response(status_code=204)


@router.post("/services/{slug}/follow", status_code=201, response_model=FollowOut)
def follow_service(slug: str, ctx: Context = viewer) -> FollowOut:
    with ctx.write() as session:
        user = follows.user_named(session, ctx.actor)
        row = follows.follow(session, user, service=slug, now=ctx.now())
        return _follow_out(row)


@router.delete("/services/{slug}/follow", status_code=204)
def unfollow_service(slug: str, ctx: Context = viewer) -> Response:
    with ctx.write() as session:
        user = follows.user_named(session, ctx.actor)
        follows.unfollow(session, user, service=slug)
    return Response(status_code=204)


@router.get("/follows", response_model=list[FollowOut])
def my_follows(ctx: Context = viewer) -> list[FollowOut]:
    """What the caller follows."""
    with ctx.read() as session:
        user = follows.user_named(session, ctx.actor)
        return [_follow_out(row) for row in follows.follows_of(session, user.id)]
