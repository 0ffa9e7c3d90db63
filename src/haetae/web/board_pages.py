"""The follow-up board page (/board): lanes by column, filters, and moving action item cards by
drag and drop (board.js) or with plain per-card forms that work without JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from haetae.actions import board as boards
from haetae.actions import service
from haetae.actions.schemas import BoardOut
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.people import teams
from haetae.web.console import Console, field, responder_post, safe_next, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

COLUMN_LABELS = {
    "backlog": N_("Backlog"),
    "in_progress": N_("In Progress"),
    "review": N_("Review"),
    "done": N_("Done"),
}
LANE_LABELS = {
    "incident": N_("Incident"),
    "postmortem": N_("Post-mortem"),
    "action_items": N_("Incident Action Items"),
}
CLASS_LABELS = {
    "expedite": N_("Expedite"),
    "fixed_date": N_("Fixed Date"),
    "standard": N_("Standard"),
}
PRIORITY_LABELS = {"high": N_("High"), "medium": N_("Medium"), "low": N_("Low")}
PM_STATUS_LABELS = {
    "draft": N_("Draft"),
    "in_review": N_("In review"),
    "published": N_("Published"),
}
MOVE_TO = N_("Move to %(column)s")
WIP_REFUSAL = N_(
    "%(column)s is at its WIP limit (%(count)s of %(limit)s); only Expedite items move past it."
)


def _filters(
    team: str | None, service_slug: str | None, owner: str | None, cls: str | None
) -> boards.BoardFilter:
    return boards.BoardFilter(
        team=team or None,
        service=service_slug or None,
        owner=owner or None,
        class_of_service=cls if cls in CLASS_LABELS else None,
    )


def refusal_text(console: Console, exc: HaetaeError) -> str:
    if exc.code == "WIP_LIMIT_REACHED":
        column = str(exc.details.get("column", ""))
        return console.gettext(WIP_REFUSAL) % {
            "column": console.gettext(COLUMN_LABELS.get(column, column)),
            "count": exc.details.get("count"),
            "limit": exc.details.get("limit"),
        }
    return exc.message


def _page(
    console: Console,
    where: boards.BoardFilter,
    *,
    message: str | None = None,
    status: int = 200,
) -> Response:
    with console.read() as session:
        try:
            out = boards.read_board(session, console.policy, where, now=console.now())
        except HaetaeError as exc:  # an unknown team: show the board unfiltered, and say so
            message = exc.message
            where = boards.BoardFilter()
            out = boards.read_board(session, console.policy, where, now=console.now())
        team_slugs = [t.slug for t in teams.list_teams(session)]
        service_slugs = [s.slug for s in teams.list_services(session)]
    return render(
        console,
        "board.html",
        status_code=status,
        active="board",
        board=out,
        filters=where,
        teams=team_slugs,
        services=service_slugs,
        message=message,
        words=_words(console, out),
    )


def _words(console: Console, out: BoardOut) -> dict[str, object]:
    """Translated once per page, not once per card: the board holds thousands of cards."""
    t = console.gettext
    columns = {c: t(COLUMN_LABELS[c]) for c in out.columns}
    return {
        "columns": columns,
        "lanes": {k: t(v) for k, v in LANE_LABELS.items()},
        "classes": {k: t(v) for k, v in CLASS_LABELS.items()},
        "priorities": {k: t(v) for k, v in PRIORITY_LABELS.items()},
        "pm_status": {k: t(v) for k, v in PM_STATUS_LABELS.items()},
        "move_to": {c: t(MOVE_TO) % {"column": name} for c, name in columns.items()},
        "overdue": t("Overdue"),
        "due": t("Due"),
        "unassigned": t("Unassigned"),
        "wip": t("WIP limit"),
    }


@router.get("/board")
def board_page(
    console: Console = Depends(signed_in),
    team: str | None = Query(default=None, max_length=64),
    service_slug: str | None = Query(default=None, alias="service", max_length=64),
    owner: str | None = Query(default=None, max_length=64),
    cls: str | None = Query(default=None, alias="class", max_length=16),
) -> Response:
    return _page(console, _filters(team, service_slug, owner, cls))


@router.post("/board/items/{ref}/move")
def move_card(ref: str, posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    """From board.js (Accept: application/json): JSON either way, 409 at a WIP limit. From the
    plain form: back to the board, or the board with the refusal (409)."""
    console, form = posted
    wants_json = "application/json" in console.request.headers.get("accept", "")
    back = safe_next(field(form, "next") or "/board")
    try:
        with console.write() as session:
            item = service.find_item(session, ref)
            service.move(
                session,
                console.policy,
                item,
                column=field(form, "column"),
                before=field(form, "before") or None,
                after=field(form, "after") or None,
                by=console.actor,
                now=console.now(),
            )
            moved = {"code": service.code(item), "column": item.column}
    except HaetaeError as exc:
        text = refusal_text(console, exc)
        if wants_json:
            return JSONResponse(
                {"error": {"code": exc.code, "message": text}}, status_code=exc.status
            )
        return _page(console, boards.BoardFilter(), message=text, status=exc.status)
    if wants_json:
        return JSONResponse(moved)
    return RedirectResponse(back if back.startswith("/board") else "/board", status_code=303)

