"""The review reports' API under /api/v1: /reviews (the kept weekly and monthly reports), one
report as JSON or as a Markdown, HTML or CSV file, and building one now."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from haetae.deps import Context, responder, viewer
from haetae.inputs import RowId
from haetae.reviews import render, service
from haetae.reviews.schemas import ReviewBuild, ReviewOut, ReviewPage

router = APIRouter(prefix="/reviews", tags=["reviews"])


@router.get("", response_model=ReviewPage)
def list_reviews(
    ctx: Context = viewer,
    kind: str | None = Query(default=None, description="weekly or monthly"),
    limit: int = Query(default=50, ge=1, le=service.MAX_PAGE),
    cursor: str | None = Query(default=None, max_length=20),
) -> ReviewPage:
    """The kept reports, newest period first."""
    with ctx.read() as session:
        return service.list_reports(session, kind=kind, limit=limit, cursor=cursor)


@router.post("", status_code=201, response_model=ReviewOut)
def build_review(body: ReviewBuild, response: Response, ctx: Context = responder) -> ReviewOut:
    """Build the report of a period that has ended (default: the last full one) and keep it;
    the one kept already is answered (200) unless `rebuild` asks for today's figures."""
    now = ctx.now()
    with ctx.write() as session:
        period = service.period_for(ctx.policy, body.kind, body.period, now=now)
        report, built = service.build_report(
            session, ctx.policy, period, by=ctx.actor, now=now, rebuild=body.rebuild
        )
        session.flush()
        result = service.out(ctx.policy, report, locale=ctx.principal.locale)
    response.status_code = 201 if built and not body.rebuild else 200
    response.headers["Location"] = f"/api/v1/reviews/{result.id}"
    return result


@router.get(
    "/{report_id}",
    response_model=ReviewOut,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}, "text/csv": {}}}},
)
def get_review(
    report_id: RowId,
    ctx: Context = viewer,
    fmt: str | None = Query(default=None, alias="format", description="md, html or csv"),
    lang: str | None = Query(default=None, description="en or ko (default: your locale)"),
) -> ReviewOut | Response:
    """A kept report as JSON (its data and its Markdown), or with `format` as a file to
    download (the HTML carries its own Content-Security-Policy)."""
    locale = lang or ctx.principal.locale
    with ctx.read() as session:
        report = service.get(session, report_id)
        if fmt is None:
            return service.out(ctx.policy, report, locale=locale)
        text = service.as_text(ctx.policy, report, fmt=fmt, locale=locale)
        name = service.filename(report, fmt)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "html":
        headers["Content-Security-Policy"] = render.content_security_policy()
    return Response(text, media_type=render.MEDIA_TYPES[fmt], headers=headers)
