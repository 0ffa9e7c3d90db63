"""The post-mortem console pages: the list, one post-mortem's page and what it gathers, its
exports for the browser, and the incident page's Post-mortem panel. The forms the page posts
(writing, review and publication) are taken by postmortem_forms.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.incidents import service as incidents
from haetae.labels import (
    CLASS_LABELS,
    COLUMN_LABELS,
    PM_STATUS_LABELS,
    PRIORITY_LABELS,
    TERM_LABELS,
)
from haetae.policy.terms import localized
from haetae.postmortems import deadlines as deadline_rules
from haetae.postmortems import export, queries, reports, service
from haetae.postmortems.models import Postmortem
from haetae.postmortems.queries import PostmortemView
from haetae.postmortems.schemas import MAX_WHYS
from haetae.web.console import Console, Refused, signed_in
from haetae.web.forms import CODE_MESSAGES, Failure
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

# What each built-in section asks for when the policy gives no prompt of its own, so an empty
# section says what to write instead of being a blank box.
FACTS = N_("Drafted from the incident's record; it stays up to date as the record changes.")
PROMPTS = {
    "basic": FACTS,
    "summary": N_("What happened, to whom, and how it ended, in a few sentences."),
    "timeline": N_(
        "The key events are ticked already. Tick the others that tell the story, add a note "
        "where one helps, and add rows for what the timeline missed."
    ),
    "alerts": FACTS,
    "roles": FACTS,
    "decisions": FACTS,
    "updates": FACTS,
    "durations": FACTS,
    "impact": N_("Who and what was affected, where, and for how long."),
    "five_whys": N_(
        "Ask why the incident happened, then why that answer happened, until you reach a "
        "cause you can fix. Name conditions and systems, not people."
    ),
    "contributing_factors": N_("What made it more likely, larger or slower to fix? One per line."),
    "went_well": N_("What helped the response? One per line."),
    "went_wrong": N_("What slowed the response or made it worse? One per line."),
    "lucky": N_("What went right by chance and should not be counted on? One per line."),
    "measures": N_(
        "Short term within a week, mid term within a month, long term within a quarter. Each "
        "measure gets an owner and a due date and goes on the board as an action item."
    ),
    "action_items": N_(
        "Every measure is an action item on the board; move it there as work goes on."
    ),
    "lessons": N_("What will we do differently next time?"),
}
CUSTOM_PROMPT = N_("Write this section in your own words.")
LIST_SECTIONS = ("contributing_factors", "went_well", "went_wrong", "lucky")
TEXT_SECTIONS = ("summary", "impact", "lessons")
STATE_LABELS = {
    "met": N_("Met"),
    "overdue": N_("Overdue"),
    "due_soon": N_("Due soon"),
    "pending": N_("Pending"),
}
VERDICT_LABELS = {
    "approved": N_("Approved"),
    "changes_requested": N_("Changes requested"),
    "": N_("Waiting for a verdict"),
}
FIRST_WHY = N_("%(n)d. Why did the incident happen?")
NEXT_WHY = N_("%(n)d. Why did “%(previous)s” happen?")
BLANK_WHY = N_("%(n)d. Why did that happen?")
# Refusals of the post-mortem's verbs, in words a person can act on.
REFUSALS = {
    "POSTMORTEM_STATE": N_("The post-mortem is %(status)s now, so that step is not open to it."),
    "APPROVAL_REQUIRED": N_(
        "Publishing needs %(required)s approval(s) of the submitted post-mortem; it has "
        "%(approvals)s. Submit it for review and ask a reviewer to approve it."
    ),
    "FORBIDDEN": N_(
        "Only a reviewer the post-mortem lists, and not its author, can give a verdict."
    ),
    "UNKNOWN_USER": N_("There is no user %(user)s."),
    "POSTMORTEM_EXISTS": N_("This incident already has a post-mortem."),
}
# A status inside a sentence ("The post-mortem is published now").
STATUS_WORDS = {"draft": N_("a draft"), "in_review": N_("in review"), "published": N_("published")}
SAVED = N_("Saved.")
DONE = {
    "started": N_("Post-mortem started: the facts are drafted from the incident's record."),
    "measure": N_("Measure added: it is on the board as an action item."),
    "reviewers": N_("Reviewers added."),
    "submitted": N_("Submitted for review."),
    "approved": N_("Approved."),
    "changes_requested": N_("Changes requested: the post-mortem is a draft again."),
    "published": N_("Published."),
    "meeting": N_("Meeting saved."),
}


@dataclass(frozen=True)
class Why:
    number: int
    question: str
    answer: str


def refusal(console: Console, exc: HaetaeError) -> str:
    """A refusal of the post-mortem's verbs in words a person can act on."""
    if exc.code in REFUSALS:
        details = dict(exc.details)
        if "status" in details:
            details["status"] = console.gettext(STATUS_WORDS.get(details["status"], ""))
        try:
            return console.gettext(REFUSALS[exc.code]) % details
        except (KeyError, TypeError):
            return exc.message
    if exc.code in CODE_MESSAGES:
        return console.gettext(CODE_MESSAGES[exc.code])
    return exc.message


def minutes_text(console: Console, minutes: float | None) -> str:
    if minutes is None:
        return "—"
    total = max(round(minutes), 0)
    hours, mins = divmod(total, 60)
    if hours and mins:
        return console.gettext("%(h)dh %(m)dm") % {"h": hours, "m": mins}
    if hours:
        return console.gettext("%(h)dh") % {"h": hours}
    return console.gettext("%(m)dm") % {"m": mins}


def whys_of(console: Console, answers: list[str], slots: int) -> list[Why]:
    """Seed 001 6.4's chain: the first asks why the incident happened, each next one why the
    answer before it happened; `slots` blank ones follow to be filled."""
    chain = []
    for n, answer in enumerate(answers, start=1):
        if n == 1:
            question = console.gettext(FIRST_WHY) % {"n": n}
        else:
            previous = answers[n - 2].strip()
            question = console.gettext(NEXT_WHY) % {"n": n, "previous": previous}
        chain.append(Why(n, question, answer))
    for n in range(len(answers) + 1, min(len(answers) + slots, MAX_WHYS) + 1):
        if n == 1:
            question = console.gettext(FIRST_WHY) % {"n": n}
        elif n == len(answers) + 1:
            question = console.gettext(NEXT_WHY) % {"n": n, "previous": answers[-1].strip()}
        else:
            question = console.gettext(BLANK_WHY) % {"n": n}
        chain.append(Why(n, question, ""))
    return chain


def _usernames(session: Session) -> list[str]:
    return list(session.scalars(select(User.username).where(User.active).order_by(User.username)))


def missing_is_404(console: Console, exc: HaetaeError, incident_id: str) -> None:
    """A post-mortem that does not exist is the console's 404 page, not a refusal."""
    if exc.code == "NOT_FOUND":
        message = console.gettext("Incident %(id)s has no post-mortem.") % {"id": incident_id}
        raise Refused(404, message) from None


def page(
    console: Console,
    incident_id: str,
    *,
    failure: Failure | None = None,
    status: int = 200,
    notice: str = "",
    slots: int | None = None,
) -> Response:
    """One post-mortem's page, with a failed form's messages and what was typed when given
    (`slots`: how many blank whys to show)."""
    now = console.now()
    with console.read() as session:
        try:
            incidents.get_incident(session, incident_id)
        except HaetaeError:
            message = console.gettext("Incident %(id)s does not exist.") % {"id": incident_id}
            raise Refused(404, message) from None
        pm = queries.find(session, incident_id)
        if pm is None:
            return render(
                console,
                "postmortem/none.html",
                status_code=404,
                active="postmortems",
                incident_id=incident_id,
            )
        view = queries.view(session, console.policy, incident_id, now=now, locale=console.locale)
        short = reports.short_report(
            session, console.policy, incident_id, locale=console.locale, now=now
        )
        users = _usernames(session)
    return render(
        console,
        "postmortem/page.html",
        status_code=status,
        active="postmortems",
        failure=failure,
        notice=notice,
        **_context(console, view, users, short, slots),
    )


def _context(
    console: Console, view: PostmortemView, users: list[str], short: str, slots: int | None
) -> dict[str, Any]:
    t = console.gettext
    editable = console.can_write and view.status in service.EDITABLE_STATUSES
    if slots is None:
        slots = max(5 - len(view.whys), 1)
    listed = [r.reviewer for r in view.reviews]
    terms = [(term, t(TERM_LABELS[term])) for term in TERM_LABELS]
    return {
        "pm": view,
        "editable": editable,
        "users": users,
        "reviewer_choices": [u for u in users if u != view.author and u not in listed],
        "is_reviewer": console.actor in listed and console.actor != view.author,
        "short_report": short,
        "whys": whys_of(console, view.whys, slots),
        "slots": slots,
        "prompts": {s.id: s.prompt or t(PROMPTS.get(s.id, CUSTOM_PROMPT)) for s in view.sections},
        "section_ids": [s.id for s in view.sections],
        "list_sections": LIST_SECTIONS,
        "text_sections": TEXT_SECTIONS,
        "terms": terms,
        "measures_by_term": [
            (label, [m for m in view.measures if m.term == term]) for term, label in terms
        ]
        + [(t("Other"), [m for m in view.measures if m.term not in TERM_LABELS])],
        "words": {
            "status": {k: t(v) for k, v in PM_STATUS_LABELS.items()},
            "states": {k: t(v) for k, v in STATE_LABELS.items()},
            "verdicts": {k: t(v) for k, v in VERDICT_LABELS.items()},
            "priorities": {k: t(v) for k, v in PRIORITY_LABELS.items()},
            "columns": {k: t(v) for k, v in COLUMN_LABELS.items()},
            "classes": {k: t(v) for k, v in CLASS_LABELS.items()},
        },
        "durations": [
            (t("Time to detect"), minutes_text(console, view.durations.time_to_detect)),
            (t("Time to acknowledge"), minutes_text(console, view.durations.time_to_acknowledge)),
            (t("Time to mitigate"), minutes_text(console, view.durations.time_to_mitigate)),
            (t("Time to resolve"), minutes_text(console, view.durations.time_to_resolve)),
        ],
        "outage": minutes_text(console, view.basic.total_outage_minutes),
    }


# The list


@router.get("/postmortems")
def postmortem_list(
    console: Console = Depends(signed_in),
    status: str | None = Query(default=None, max_length=16),
    cursor: str | None = Query(default=None, max_length=200),
) -> Response:
    chosen = status if status in queries.STATUSES else None
    now = console.now()
    with console.read() as session:
        try:
            listed = queries.list_postmortems(session, status=chosen, cursor=cursor)
        except HaetaeError:  # a cursor from elsewhere: start again from the newest
            listed = queries.list_postmortems(session, status=chosen)
        ids = [item.incident_id for item in listed.items]
        rows = session.scalars(select(Postmortem).where(Postmortem.incident_id.in_(ids)))
        overdue: dict[str, list[str]] = {}
        for pm in rows:
            states = deadline_rules.states(
                console.policy, pm.deadlines or {}, queries.met_events(pm)
            )
            late = [s for s in states if s.state(now) == "overdue"]
            overdue[pm.incident_id] = [localized(s.deadline.name, console.locale) for s in late]
    return render(
        console,
        "postmortem/list.html",
        active="postmortems",
        items=listed.items,
        overdue=overdue,
        status=chosen,
        statuses=queries.STATUSES,
        words={k: console.gettext(v) for k, v in PM_STATUS_LABELS.items()},
        next_url=(
            f"/postmortems?cursor={listed.next_cursor}" + (f"&status={chosen}" if chosen else "")
            if listed.next_cursor
            else None
        ),
    )


# One post-mortem


@router.get("/postmortems/{incident_id}")
def postmortem_page(
    incident_id: str,
    console: Console = Depends(signed_in),
    done: str | None = Query(default=None, max_length=32),
    saved: str | None = Query(default=None, max_length=64),
    slots: int | None = Query(default=None, ge=1, le=MAX_WHYS),
) -> Response:
    notice = ""
    if done in DONE:
        notice = console.gettext(DONE[done])
    elif saved:
        notice = console.gettext(SAVED)
    return page(console, incident_id, notice=notice, slots=slots)


# Exports


@router.get("/postmortems/{incident_id}/export.{extension}")
def export_download(
    incident_id: str,
    extension: str,
    console: Console = Depends(signed_in),
    lang: str | None = Query(default=None, max_length=8),
) -> Response:
    """The API's exports for the console's signed-in session (the API takes bearer tokens
    only): Markdown or the printable HTML, which keeps its own Content-Security-Policy."""
    formats = {"md": "markdown", "html": "html"}
    if extension not in formats:
        raise Refused(404, console.gettext("No such export: use .md or .html."))
    with console.read() as session:
        try:
            download = export.export_postmortem(
                session,
                console.policy,
                incident_id,
                fmt=formats[extension],
                locale=lang or console.locale,
                now=console.now(),
            )
        except HaetaeError as exc:
            missing_is_404(console, exc, incident_id)
            raise Refused(exc.status, refusal(console, exc)) from None
    return Response(download.text, media_type=download.media_type, headers=download.headers)


# The incident page's panel


def incident_panel(session: Session, console: Console, incident_id: str) -> dict[str, Any]:
    """What the incident page's Post-mortem panel shows: the status and the deadlines, or
    nothing when there is none yet."""
    pm = queries.find(session, incident_id)
    if pm is None:
        return {"postmortem": None}
    now = console.now()
    states = deadline_rules.states(console.policy, pm.deadlines or {}, queries.met_events(pm))
    return {
        "postmortem": {
            "status": pm.status,
            "status_label": console.gettext(PM_STATUS_LABELS.get(pm.status, pm.status)),
            "author": pm.author,
            "deadlines": [
                {
                    "name": localized(s.deadline.name, console.locale),
                    "due": s.due,
                    "state": s.state(now),
                    "state_label": console.gettext(STATE_LABELS[s.state(now)]),
                }
                for s in states
            ],
        }
    }
