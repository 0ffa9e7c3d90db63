"""Action item and board routes under /api/v1: thin HTTP over actions.service and the readers."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from haetae.actions import board, queries, service
from haetae.actions.queries import ItemFilter
from haetae.actions.schemas import (
    ITEMS_MAX_PAGE,
    AssignIn,
    BoardOut,
    ClassName,
    ColumnName,
    ItemIn,
    ItemOut,
    ItemPage,
    ItemPatch,
    MoveIn,
)
from haetae.deps import Context, responder, viewer

router = APIRouter(tags=["action items"])
ItemRef = str


@router.get("/action-items", response_model=ItemPage)
def list_items(
    ctx: Context = viewer,
    column: ColumnName | None = Query(default=None),
    owner: str | None = Query(default=None, min_length=1, max_length=64),
    team: str | None = Query(default=None, min_length=1, max_length=64),
    service_slug: str | None = Query(default=None, alias="service", min_length=1, max_length=64),
    class_of_service: ClassName | None = Query(default=None, alias="class"),
    overdue: bool | None = Query(default=None),
    incident_id: str | None = Query(default=None, min_length=1, max_length=32),
    limit: int = Query(default=50, ge=1, le=ITEMS_MAX_PAGE),
    cursor: str | None = Query(default=None, max_length=20),
) -> ItemPage:
    """Items in AI number order; `next_cursor` gives the next page."""
    where = ItemFilter(
        column=column,
        owner=owner,
        team=team,
        service=service_slug,
        class_of_service=class_of_service,
        overdue=overdue,
        incident_id=incident_id,
    )
    with ctx.read() as session:
        return queries.item_page(
            session, ctx.policy, where, now=ctx.now(), limit=limit, cursor=cursor
        )


@router.post("/action-items", status_code=201, response_model=ItemOut)
def create(body: ItemIn, response: Response, ctx: Context = responder) -> ItemOut:
    with ctx.write() as session:
        item = service.add_item(
            session, ctx.policy, by=ctx.actor, now=ctx.now(), **body.model_dump()
        )
        out = queries.item_detail(session, ctx.policy, item, now=ctx.now())
    response.headers["Location"] = f"/api/v1/action-items/{out.code}"
    return out


@router.get("/action-items/{ref}", response_model=ItemOut)
def get_item(ref: ItemRef, ctx: Context = viewer) -> ItemOut:
    """`ref`: AI-007, or the item's id."""
    with ctx.read() as session:
        item = service.find_item(session, ref)
        return queries.item_detail(session, ctx.policy, item, now=ctx.now())


@router.patch("/action-items/{ref}", response_model=ItemOut)
def edit_item(ref: ItemRef, body: ItemPatch, ctx: Context = responder) -> ItemOut:
    changes = body.model_dump(exclude_unset=True)
    with ctx.write() as session:
        item = service.find_item(session, ref)
        service.edit(session, ctx.policy, item, by=ctx.actor, now=ctx.now(), **changes)
        return queries.item_detail(session, ctx.policy, item, now=ctx.now())


@router.post("/action-items/{ref}/move", response_model=ItemOut)
def move_item(ref: ItemRef, body: MoveIn, ctx: Context = responder) -> ItemOut:
    """409 WIP_LIMIT_REACHED past the column's limit, unless the item is Expedite."""
    with ctx.write() as session:
        item = service.find_item(session, ref)
        service.move(
            session,
            ctx.policy,
            item,
            column=body.column,
            before=body.before,
            after=body.after,
            by=ctx.actor,
            now=ctx.now(),
        )
        return queries.item_detail(session, ctx.policy, item, now=ctx.now())


@router.post("/action-items/{ref}/assign", response_model=ItemOut)
def assign_item(ref: ItemRef, body: AssignIn, ctx: Context = responder) -> ItemOut:
    with ctx.write() as session:
        item = service.find_item(session, ref)
        service.assign(session, ctx.policy, item, body.owner, by=ctx.actor, now=ctx.now())
        return queries.item_detail(session, ctx.policy, item, now=ctx.now())


@router.get("/board", response_model=BoardOut)
def get_board(
    ctx: Context = viewer,
    team: str | None = Query(default=None, min_length=1, max_length=64),
    service_slug: str | None = Query(default=None, alias="service", min_length=1, max_length=64),
    owner: str | None = Query(default=None, min_length=1, max_length=64),
    class_of_service: ClassName | None = Query(default=None, alias="class"),
) -> BoardOut:
    """The three lanes (Incident, Post-mortem, Incident Action Items) by column."""
    where = board.BoardFilter(
        team=team, service=service_slug, owner=owner, class_of_service=class_of_service
    )
    with ctx.read() as session:
        out = board.read_board(session, ctx.policy, where, now=ctx.now())
    # Serialized straight from the model built by the reader: thousands of cards are not
    # validated a second time on the way out.
    return Response(out.model_dump_json(), media_type="application/json")  # type: ignore[return-value]
