"""The follow-up board page (/board): lanes by column, filters, and moving action item cards by
drag and drop (board.js) or with plain per-card forms that work without JavaScript."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from haetae.actions import board as boards
from haetae.actions import service
from haetae.actions.schemas import BoardOut, Card
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.labels import (
    CLASS_LABELS,
    COLUMN_LABELS,
    LANE_LABELS,
    PM_STATUS_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
)
from haetae.people import teams
from haetae.web.console import Console, field, responder_post, safe_next, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

MOVE_TO = N_("Move to %(column)s")
SHOW_ALL = N_("Show all %(count)s")
# Cards a column shows before "Show all": a board of thousands of backlog items stays quick to
# load and to read; the column's count is always the whole count, and the filters narrow it.
CARDS_SHOWN = 100
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
    expand: str | None = None,
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
        cards=_cards(console, out, expand),
        words=_words(console, out),
    )


def _words(console: Console, out: BoardOut) -> dict[str, dict[str, str]]:
    """The lane, column and class names the page's frame shows."""
    t = console.gettext
    return {
        "columns": {c: t(COLUMN_LABELS[c]) for c in out.columns},
        "lanes": {k: t(v) for k, v in LANE_LABELS.items()},
        "classes": {k: t(v) for k, v in CLASS_LABELS.items()},
    }


def _cards(console: Console, out: BoardOut, expand: str | None) -> dict[str, dict[str, Markup]]:
    """Each lane's columns as ready HTML: the first CARDS_SHOWN cards of a column, all of them
    for the column named by `expand` ("lane.column"). The board holds thousands of cards: built
    here with the words translated once, they take a fraction of the time a template loop
    takes."""
    writer = CardWriter(console, out)
    more = console.gettext(SHOW_ALL)
    cards: dict[str, dict[str, Markup]] = {}
    for lane in out.lanes:
        cards[lane.id] = {}
        for column in lane.columns:
            shown = column.cards
            html = ""
            if f"{lane.id}.{column.id}" != expand and len(shown) > CARDS_SHOWN:
                href = escape(
                    f"{console.request.url.path}?{_expand_query(console, lane.id, column.id)}"
                )
                label = escape(more % {"count": len(shown)})
                html = f'<li class="bcard-more"><a href="{href}">{label}</a></li>'
                shown = shown[:CARDS_SHOWN]
            body = "".join(writer.card(card, column.id) for card in shown)
            cards[lane.id][column.id] = Markup(body + html)
    return cards


def _expand_query(console: Console, lane: str, column: str) -> str:
    """The page's own filters, plus expand=lane.column."""
    params = [(k, v) for k, v in console.request.query_params.multi_items() if k != "expand"]
    params.append(("expand", f"{lane}.{column}"))
    return urlencode(params)


class CardWriter:
    """One card's HTML (escaped here), with the page's words looked up once."""

    def __init__(self, console: Console, out: BoardOut) -> None:
        t = console.gettext
        self.columns = out.columns
        self.can_move = console.can_write
        # The colours of the templates' severity_class(): by rank in the policy.
        self.severities = {
            s.id: f"sev sev-{min(i, 4)}" for i, s in enumerate(console.policy.severities)
        }
        self.statuses = {k: t(v) for k, v in STATUS_LABELS.items()}
        self.pm_status = {k: t(v) for k, v in PM_STATUS_LABELS.items()}
        self.classes = {k: t(v) for k, v in CLASS_LABELS.items()}
        self.priorities = {k: t(v) for k, v in PRIORITY_LABELS.items()}
        self.moves = {c: escape(t(MOVE_TO) % {"column": t(COLUMN_LABELS[c])}) for c in out.columns}
        self.unassigned, self.due, self.overdue = t("Unassigned"), t("Due"), t("Overdue")

    def card(self, card: Card, column: str) -> str:
        code = escape(card.code)
        cls = escape(card.class_of_service)
        top = (
            f'<a class="bcard-code" href="{escape(card.url)}">{code}</a>'
            if card.url
            else f'<span class="bcard-code">{code}</span>'
        )
        if card.severity:
            css = self.severities.get(card.severity, "sev sev-4")
            top += f' <span class="{css}">{escape(card.severity)}</span>'
        name = self.classes.get(card.class_of_service, card.class_of_service)
        top += f' <span class="cos cos-{cls}">{escape(name)}</span>'
        if card.priority:
            prio = escape(card.priority)
            label = self.priorities.get(card.priority, card.priority)
            top += f' <span class="prio prio-{prio}">{escape(label)}</span>'
        meta = f'<span class="owner">{escape(card.owner or self.unassigned)}</span>'
        if card.status:
            names = self.statuses if card.kind == "incident" else self.pm_status
            meta += f"<span>{escape(names.get(card.status, card.status))}</span>"
        if card.due_date:
            meta += f'<span class="due">{escape(self.due)} {card.due_date}</span>'
        if card.overdue:
            meta += f'<strong class="overdue-mark">{escape(self.overdue)}</strong>'
        buttons = ""
        if self.can_move and card.kind == "action_item":
            action = f"/board/items/{code}/move"
            buttons = (
                '<div class="bcard-moves">'
                + "".join(
                    f'<button form="board-move" formaction="{action}" name="column" '
                    f'value="{c}"{" hidden" if c == column else ""}>{self.moves[c]}</button>'
                    for c in self.columns
                )
                + "</div>"
            )
        late = " overdue" if card.overdue else ""
        return (
            f'<li class="bcard cls-{cls}{late}" data-code="{code}" data-class="{cls}">'
            f'<div class="bcard-top">{top}</div>'
            f'<div class="bcard-title">{escape(card.title)}</div>'
            f'<div class="bcard-meta">{meta}</div>{buttons}</li>'
        )


@router.get("/board")
def board_page(
    console: Console = Depends(signed_in),
    team: str | None = Query(default=None, max_length=64),
    service_slug: str | None = Query(default=None, alias="service", max_length=64),
    owner: str | None = Query(default=None, max_length=64),
    cls: str | None = Query(default=None, alias="class", max_length=16),
    expand: str | None = Query(default=None, max_length=40),
) -> Response:
    return _page(console, _filters(team, service_slug, owner, cls), expand=expand)


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
