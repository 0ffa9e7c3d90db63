"""The case library in the console: the /search page, and the incident page's "similar past
incidents" panel (an HTMX fragment) with its "mark as recurrence" buttons."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from haetae.cases import index, queries, service
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.web.console import Console, Refused, field, responder_post, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
KIND_LABELS = {
    "incident": N_("Incident"),
    "postmortem": N_("Post-mortem"),
    "note": N_("Note"),
    "decision": N_("Decision"),
}
REASON_LABELS = {
    "service": N_("Same service"),
    "category": N_("Same category"),
    "fingerprint": N_("Same alert fingerprint"),
    "label": N_("Shared alert label"),
    "tag": N_("Shared tag"),
    "text": N_("Words in common"),
}
_FILTERS = ("q", "category", "service", "tag", "severity", "status", "kind", "from", "to")


def segments(snippet: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The snippet cut into plain and matched pieces; the template escapes each and wraps the
    matched ones in <mark>, so no stored text is ever markup."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        if start > at:
            pieces.append((snippet[at:start], False))
        pieces.append((snippet[start:end], True))
        at = end
    if at < len(snippet):
        pieces.append((snippet[at:], False))
    return pieces


def _day(console: Console, value: str, *, end: bool) -> datetime | None:
    """A date from the form, as the start (or end) of that day in the policy's time zone."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise HaetaeError("INVALID_QUERY", console.gettext("Dates look like 2026-11-30.")) from exc
    moment = datetime.combine(day, time.min, tzinfo=console.policy.zone)
    return moment + timedelta(days=1, microseconds=-1) if end else moment


@router.get("/search")
def search_page(request: Request, console: Console = Depends(signed_in)) -> Response:
    given = {name: request.query_params.get(name, "").strip() for name in _FILTERS}
    cursor = request.query_params.get("cursor") or None
    page = None
    problem = None
    searched = any(given.values())
    if searched:
        try:
            query = queries.SearchQuery(
                q=given["q"],
                category=given["category"] or None,
                service=given["service"] or None,
                tag=given["tag"] or None,
                severity=[given["severity"]] if given["severity"] else [],
                status=[given["status"]] if given["status"] else [],
                kinds=[given["kind"]] if given["kind"] else [],
                since=_day(console, given["from"], end=False),
                until=_day(console, given["to"], end=True),
                limit=20,
                cursor=cursor,
            )
            with console.read() as session:
                page = queries.search(session, query)
        except HaetaeError as exc:
            problem = exc.message
    next_url = None
    if page and page.next_cursor:
        kept = "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "cursor")
        next_url = f"/search?{kept}&cursor={page.next_cursor}"
    return render(
        console,
        "search.html",
        status_code=422 if problem else 200,
        active="search",
        given=given,
        searched=searched,
        problem=problem,
        page=page,
        hits=[(hit, segments(hit.snippet, hit.highlights)) for hit in page.items] if page else [],
        next_url=next_url,
        kinds=index.KINDS,
        kind_labels=KIND_LABELS,
        max_chars=index.MAX_QUERY_CHARS,
    )


def _similar_panel(console: Console, incident_id: str, status: int = 200) -> Response:
    try:
        with console.read() as session:
            found = service.similar(session, incident_id)
    except HaetaeError as exc:
        if exc.code == "NOT_FOUND":
            raise Refused(404, exc.message) from None
        raise
    return render(
        console,
        "search_similar.html",
        status_code=status,
        incident_id=incident_id,
        similar=found,
        reason_labels=REASON_LABELS,
    )


@router.get("/incidents/{incident_id}/similar")
def similar_panel(incident_id: str, console: Console = Depends(signed_in)) -> Response:
    return _similar_panel(console, incident_id)


@router.post("/incidents/{incident_id}/recurrence")
def mark_recurrence(
    incident_id: str, posted: tuple[Console, FormData] = Depends(responder_post)
) -> Response:
    """Mark (`of`) or unmark (`clear`) from the similar panel: the panel again with HTMX, the
    incident page without."""
    console, form = posted
    try:
        with console.write() as session:
            if field(form, "clear"):
                service.unmark_recurrence(
                    session, incident_id, actor=console.actor, now=console.now()
                )
            else:
                service.mark_recurrence(
                    session,
                    incident_id,
                    of=field(form, "of"),
                    actor=console.actor,
                    now=console.now(),
                )
    except HaetaeError as exc:
        if exc.code == "NOT_FOUND":
            raise Refused(404, exc.message) from None
        raise Refused(exc.status, console.gettext(exc.message)) from None
    if console.htmx:
        return _similar_panel(console, incident_id)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
