"""The case library's routes under /api/v1: search, similar incidents, recurrence marks."""

from __future__ import annotations

from fastapi import APIRouter, Query

from haetae.cases import index, queries, service
from haetae.cases.schemas import RecurrenceIn, RecurrenceOut, SearchPage, SimilarIncident
from haetae.deps import Context, responder, viewer
from haetae.inputs import Timestamp

router = APIRouter(tags=["search"])


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@router.get("/search", response_model=SearchPage)
def search(
    ctx: Context = viewer,
    q: str = Query(default="", description="words that must all occur (Korean or English)"),
    category: str | None = Query(default=None),
    service_name: str | None = Query(default=None, alias="service"),
    tag: str | None = Query(default=None),
    severity: list[str] | None = Query(default=None, description="repeat or comma-separate"),
    status: list[str] | None = Query(default=None, description="repeat or comma-separate"),
    kind: list[str] | None = Query(
        default=None, description=f"where the words occur: {', '.join(index.KINDS)}"
    ),
    since: Timestamp | None = Query(default=None, alias="from", description="declared at/after"),
    until: Timestamp | None = Query(default=None, alias="to", description="declared at/before"),
    limit: int = Query(default=20, ge=1, le=queries.MAX_LIMIT),
    cursor: str | None = Query(default=None, max_length=400),
) -> SearchPage:
    query = queries.SearchQuery(
        q=q,
        category=category,
        service=service_name,
        tag=tag,
        severity=_split(severity),
        status=_split(status),
        kinds=_split(kind),
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    with ctx.read() as session:
        return queries.search(session, query)


@router.get("/incidents/{incident_id}/similar", response_model=list[SimilarIncident])
def similar(
    incident_id: str, ctx: Context = viewer, limit: int = Query(default=5, ge=1, le=20)
) -> list[SimilarIncident]:
    with ctx.read() as session:
        return service.similar(session, incident_id, limit=limit)


@router.post("/incidents/{incident_id}/recurrence", response_model=RecurrenceOut)
def mark_recurrence(
    incident_id: str, body: RecurrenceIn, ctx: Context = responder
) -> RecurrenceOut:
    with ctx.write() as session:
        return service.mark_recurrence(
            session, incident_id, of=body.of, actor=ctx.actor, now=ctx.now()
        )


@router.delete("/incidents/{incident_id}/recurrence", response_model=RecurrenceOut)
def unmark_recurrence(incident_id: str, ctx: Context = responder) -> RecurrenceOut:
    with ctx.write() as session:
        return service.unmark_recurrence(session, incident_id, actor=ctx.actor, now=ctx.now())
