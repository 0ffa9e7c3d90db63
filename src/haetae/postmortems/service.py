"""The verbs of a post-mortem: start (on demand or on resolve), edit, measures, review, publish
and the meeting. Plain functions taking a session; the caller owns the transaction. Every verb
records `postmortem_<verb>` on the incident's timeline and sets updated_at."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haetae.actions import service as actions
from haetae.actions.models import ActionItem
from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.incidents import service as incidents
from haetae.incidents.models import Incident
from haetae.policy.schema import Policy
from haetae.postmortems import deadlines, drafting
from haetae.postmortems.models import Postmortem, PostmortemReview
from haetae.postmortems.queries import find, get_postmortem
from haetae.postmortems.schemas import KeyEventIn, MeasureIn, PostmortemEdit
from haetae.postmortems.sections import custom_ids
from haetae.timeline import service as timeline
from haetae.timeline.models import TimelineEvent

# Seed 001 6.5: short-term within a week, mid-term within a month, long-term within a quarter.
TERM_DAYS = {"short": 7, "mid": 30, "long": 90}
EDITABLE_STATUSES = ("draft", "in_review")
LIST_FIELDS = ("contributing_factors", "went_well", "went_wrong", "lucky")
TEXT_FIELDS = ("title", "summary", "impact", "root_cause", "lessons")


def _record(
    session: Session,
    pm: Postmortem,
    verb: str,
    *,
    by: str,
    now: datetime,
    summary: str,
    **data: Any,
) -> None:
    pm.updated_at = now
    timeline.record(
        session,
        pm.incident_id,
        kind=f"postmortem_{verb}",
        actor=by,
        at=now,
        summary=summary,
        **data,
    )


def _check_user(session: Session, username: str, field: str) -> None:
    if session.scalar(select(User.id).where(User.username == username)) is None:
        raise HaetaeError("UNKNOWN_USER", f"No user '{username}'.", field=field, user=username)


def _editable(pm: Postmortem) -> None:
    if pm.status not in EDITABLE_STATUSES:
        raise HaetaeError(
            "POSTMORTEM_STATE",
            f"The post-mortem of {pm.incident_id} is {pm.status}; it can no longer change.",
            status=pm.status,
        )


# Starting


def start(
    session: Session, policy: Policy, incident_id: str, *, by: str, now: datetime
) -> Postmortem:
    """On demand, for any severity: 409 POSTMORTEM_EXISTS if it has one, 422 if canceled."""
    incident = incidents.get_incident(session, incident_id, for_update=True)
    if find(session, incident.id) is not None:
        raise HaetaeError("POSTMORTEM_EXISTS", f"{incident.id} already has a post-mortem.")
    if incident.status == "canceled":
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"{incident.id} was canceled (a false alarm): it needs no post-mortem.",
            field="incident_id",
        )
    return _start(session, policy, incident, by=by, now=now)


def _start(
    session: Session, policy: Policy, incident: Incident, *, by: str, now: datetime
) -> Postmortem:
    pm = drafting.draft(session, policy, incident, by=by, now=now)
    try:
        with session.begin_nested():  # a concurrent start loses on the unique constraint
            session.flush()
    except IntegrityError:
        raise HaetaeError(
            "POSTMORTEM_EXISTS", f"{incident.id} already has a post-mortem."
        ) from None
    _record(
        session,
        pm,
        "started",
        by=by,
        now=now,
        summary=f"Post-mortem started (author {pm.author})",
        author=pm.author,
        deadlines=pm.deadlines,
    )
    return pm


def start_if_required(
    session: Session, policy: Policy, incident: Incident, *, now: datetime
) -> Postmortem | None:
    """Called where an incident moves to resolved. Starts the post-mortem (by "system") when
    the severity is one of postmortem.required_severities and there is none yet. A post-mortem
    that is not published and whose deadlines count from before this resolution (it was
    started while the incident was still open, or the incident was reopened) has its deadlines
    counted again from this resolution, as the policy's deadlines are "after resolution".

    A drill's incident never starts one by itself: a drill is reviewed on its own scorecard
    (seed 001 8.3); people may still start a post-mortem for it on demand."""
    resolved = incident.resolved_at or now
    pm = find(session, incident.id, for_update=True)
    if pm is not None:
        if pm.status != "published" and pm.clock_start < resolved:
            pm.clock_start = resolved
            pm.deadlines = deadlines.schedule(policy, resolved)
            pm.reminded = {}
            _record(
                session,
                pm,
                "rescheduled",
                by="system",
                now=now,
                summary="Post-mortem deadlines now count from the resolution",
                deadlines=pm.deadlines,
            )
        return pm
    if incident.drill or incident.severity not in policy.postmortem.required_severities:
        return None
    return _start(session, policy, incident, by="system", now=now)


# Writing


def _key_events(session: Session, incident_id: str, picks: list[KeyEventIn]) -> list[dict]:
    """Picks of the incident's own timeline events and free rows, ordered by time."""
    ids = {p.event_id for p in picks if p.event_id is not None}
    found: dict[int, tuple[datetime, str]] = {}
    if ids:
        rows = session.execute(
            select(TimelineEvent.id, TimelineEvent.at, TimelineEvent.summary).where(
                TimelineEvent.incident_id == incident_id, TimelineEvent.id.in_(ids)
            )
        )
        found = {r.id: (r.at, r.summary) for r in rows}
    missing = sorted(ids - set(found))
    if missing:
        raise HaetaeError(
            "VALIDATION_ERROR",
            f"key_events: no event {', '.join(map(str, missing))} on {incident_id}'s timeline",
            field="key_events",
            event_ids=missing,
        )
    result: list[dict[str, Any]] = []
    for pick in picks:
        if pick.event_id is not None:
            at, summary = found[pick.event_id]
            text = pick.text or summary
        else:
            assert pick.at is not None and pick.text
            at, text = pick.at, pick.text
        result.append(
            {"event_id": pick.event_id, "at": at.isoformat(), "text": text, "note": pick.note}
        )
    result.sort(key=lambda e: datetime.fromisoformat(e["at"]))  # stable: ties keep given order
    return result


def edit(
    session: Session,
    policy: Policy,
    incident_id: str,
    changes: PostmortemEdit,
    *,
    by: str,
    now: datetime,
) -> Postmortem:
    """Change what people write, in draft or in review (409 POSTMORTEM_STATE once published).
    Only the fields given change; `custom` takes the ids of the policy's own sections."""
    pm = get_postmortem(session, incident_id, for_update=True)
    _editable(pm)
    given = changes.model_fields_set
    if "custom" in given and changes.custom is not None:
        allowed = custom_ids(policy)
        unknown = sorted(set(changes.custom) - set(allowed))
        if unknown:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"custom: {', '.join(unknown)} is not one of the policy's own sections "
                f"({', '.join(allowed) or 'it has none'})",
                field="custom",
            )
    if "author" in given and changes.author is not None:
        _check_user(session, changes.author, "author")
    changed: list[str] = []
    for name in TEXT_FIELDS:
        if name in given:
            setattr(pm, name, getattr(changes, name))
            changed.append(name)
    for name in LIST_FIELDS:
        if name in given:
            setattr(pm, name, list(getattr(changes, name)))
            changed.append(name)
    if "whys" in given and changes.whys is not None:
        pm.whys = list(changes.whys)
        changed.append("whys")
    if "key_events" in given and changes.key_events is not None:
        pm.key_events = _key_events(session, pm.incident_id, changes.key_events)
        changed.append("key_events")
    if "custom" in given and changes.custom is not None:
        pm.custom = {**(pm.custom or {}), **changes.custom}
        changed.append("custom")
    if "author" in given and changes.author is not None:
        pm.author = changes.author
        changed.append("author")
    if "meeting_at" in given:
        pm.meeting_at = changes.meeting_at
        changed.append("meeting_at")
    if changed:
        _record(
            session,
            pm,
            "edited",
            by=by,
            now=now,
            summary=f"Post-mortem edited: {', '.join(changed)}",
            fields=changed,
        )
    return pm


def add_measure(
    session: Session,
    policy: Policy,
    incident_id: str,
    measure: MeasureIn,
    *,
    by: str,
    now: datetime,
) -> ActionItem:
    """A measure becomes an action item (AI-NNN) linked to the incident and the post-mortem.
    Its due date defaults by term (short 7, mid 30, long 90 days after today in the policy's
    zone) and its class of service by the incident's severity. Moving or editing it later is
    the action items' business."""
    pm = get_postmortem(session, incident_id, for_update=True)
    _editable(pm)
    if measure.owner is not None:
        _check_user(session, measure.owner, "owner")
    incident = incidents.get_incident(session, pm.incident_id)
    due = measure.due_date or default_due(policy, measure.term, now)
    item = actions.create_item(
        session,
        policy,
        title=measure.title,
        by=by,
        now=now,
        incident_id=pm.incident_id,
        incident_severity=incident.severity,
        postmortem_id=pm.id,
        description=measure.description,
        owner=measure.owner,
        due_date=due,
        priority=measure.priority,
        class_of_service=measure.class_of_service,
        term=measure.term,
        tracker_url=str(measure.tracker_url) if measure.tracker_url else None,
    )
    _record(
        session,
        pm,
        "measure_added",
        by=by,
        now=now,
        summary=f"Measure {actions.code(item)} ({measure.term}-term): {measure.title}",
        item=actions.code(item),
        term=measure.term,
    )
    return item


def default_due(policy: Policy, term: str, now: datetime) -> date:
    return now.astimezone(policy.zone).date() + timedelta(days=TERM_DAYS[term])


# Review and publication


def _reviews(session: Session, pm: Postmortem) -> list[PostmortemReview]:
    return list(
        session.scalars(
            select(PostmortemReview)
            .where(PostmortemReview.postmortem_id == pm.id)
            .order_by(PostmortemReview.requested_at, PostmortemReview.id)
        )
    )


def _add_reviewers(
    session: Session, pm: Postmortem, reviewers: list[str], *, by: str, now: datetime
) -> list[str]:
    """The reviewers not already listed, added; the author cannot review their own."""
    listed = {r.reviewer for r in _reviews(session, pm)}
    added: list[str] = []
    for name in dict.fromkeys(reviewers):
        _check_user(session, name, "reviewers")
        if name == pm.author:
            raise HaetaeError(
                "VALIDATION_ERROR",
                f"{name} is the author and cannot review their own post-mortem.",
                field="reviewers",
            )
        if name in listed:
            continue
        session.add(
            PostmortemReview(
                postmortem_id=pm.id, reviewer=name, requested_by=by, requested_at=now, comment=""
            )
        )
        added.append(name)
    session.flush()
    return added


def add_reviewers(
    session: Session,
    policy: Policy,
    incident_id: str,
    reviewers: list[str],
    *,
    by: str,
    now: datetime,
) -> Postmortem:
    pm = get_postmortem(session, incident_id, for_update=True)
    _editable(pm)
    added = _add_reviewers(session, pm, reviewers, by=by, now=now)
    if added:
        _record(
            session,
            pm,
            "reviewers_added",
            by=by,
            now=now,
            summary=f"Reviewers asked: {', '.join(added)}",
            reviewers=added,
        )
    return pm


def submit(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    reviewers: list[str] | None = None,
    by: str,
    now: datetime,
) -> Postmortem:
    """Draft -> in review. Each submission is a new round: earlier verdicts are cleared, so
    the approvals that publish it are given to what was submitted. The first submission meets
    the draft deadline."""
    pm = get_postmortem(session, incident_id, for_update=True)
    if pm.status != "draft":
        raise HaetaeError(
            "POSTMORTEM_STATE",
            f"The post-mortem of {pm.incident_id} is {pm.status}; only a draft is submitted.",
            status=pm.status,
        )
    added = _add_reviewers(session, pm, reviewers or [], by=by, now=now)
    for review in _reviews(session, pm):
        review.verdict = None
        review.decided_at = None
    pm.status = "in_review"
    if pm.submitted_at is None:
        pm.submitted_at = now
    _record(
        session,
        pm,
        "submitted",
        by=by,
        now=now,
        summary="Post-mortem submitted for review",
        reviewers=[r.reviewer for r in _reviews(session, pm)],
        added=added,
    )
    return pm


def review(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    verdict: str,
    comment: str = "",
    by: str,
    now: datetime,
) -> Postmortem:
    """A listed reviewer's verdict (403 for anyone else, and for the author). Changes
    requested send it back to draft."""
    pm = get_postmortem(session, incident_id, for_update=True)
    if verdict not in ("approved", "changes_requested"):
        raise HaetaeError("VALIDATION_ERROR", "verdict must be approved or changes_requested")
    if by == pm.author:
        raise HaetaeError("FORBIDDEN", "The author cannot review their own post-mortem.")
    mine = next((r for r in _reviews(session, pm) if r.reviewer == by), None)
    if mine is None:
        raise HaetaeError("FORBIDDEN", f"{by} is not a reviewer of this post-mortem.")
    if pm.status != "in_review":
        raise HaetaeError(
            "POSTMORTEM_STATE",
            f"The post-mortem of {pm.incident_id} is {pm.status}; only one in review is reviewed.",
            status=pm.status,
        )
    mine.verdict = verdict
    mine.comment = comment
    mine.decided_at = now
    if verdict == "changes_requested":
        pm.status = "draft"
    words = "approved" if verdict == "approved" else "asked for changes"
    _record(
        session,
        pm,
        "reviewed",
        by=by,
        now=now,
        summary=f"Post-mortem {words} by {by}" + (f": {comment[:200]}" if comment else ""),
        verdict=verdict,
        comment=comment,
    )
    return pm


def publish(
    session: Session, policy: Policy, incident_id: str, *, by: str, now: datetime
) -> Postmortem:
    """In review -> published with postmortem.approvals_required approvals (409
    APPROVAL_REQUIRED short of them); with 0 required, a draft may be published directly."""
    pm = get_postmortem(session, incident_id, for_update=True)
    if pm.status == "published":
        raise HaetaeError(
            "POSTMORTEM_STATE", f"The post-mortem of {pm.incident_id} is already published."
        )
    required = policy.postmortem.approvals_required
    approvals = sum(1 for r in _reviews(session, pm) if r.verdict == "approved")
    if required and (pm.status != "in_review" or approvals < required):
        raise HaetaeError(
            "APPROVAL_REQUIRED",
            f"Publishing needs {required} approval(s) of the submitted post-mortem; "
            f"it has {approvals if pm.status == 'in_review' else 0}.",
            required=required,
            approvals=approvals if pm.status == "in_review" else 0,
        )
    pm.status = "published"
    pm.published_at = now
    pm.published_by = by
    _record(
        session,
        pm,
        "published",
        by=by,
        now=now,
        summary=f"Post-mortem published ({approvals} approval(s))",
        approvals=approvals,
    )
    return pm


def meeting(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    at: datetime | None,
    held: bool,
    by: str,
    now: datetime,
) -> Postmortem:
    """Schedule the post-mortem meeting, or record it as held (at `at`, else now): held meets
    the meeting deadline. Allowed in every state: the meeting may come after publication."""
    pm = get_postmortem(session, incident_id, for_update=True)
    if held:
        pm.meeting_held_at = at or now
        pm.meeting_at = pm.meeting_at or pm.meeting_held_at
        summary = "Post-mortem meeting held"
    else:
        assert at is not None
        pm.meeting_at = at
        summary = f"Post-mortem meeting scheduled for {at.isoformat()}"
    _record(
        session,
        pm,
        "meeting",
        by=by,
        now=now,
        summary=summary,
        meeting_at=pm.meeting_at.isoformat() if pm.meeting_at else None,
        held_at=pm.meeting_held_at.isoformat() if pm.meeting_held_at else None,
    )
    return pm
