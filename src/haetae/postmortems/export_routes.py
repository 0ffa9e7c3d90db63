"""The API's export routes: a post-mortem as Markdown or printable HTML, and an incident's
short report (seed 001 App. B) or incident report (seeds 003 §4.1, 004 step 5)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from haetae.deps import Context, viewer
from haetae.postmortems import export, reports

router = APIRouter()

_LANG = Query(default=None, description="en or ko (default: your locale)")


@router.get(
    "/postmortems/{incident_id}/export",
    tags=["postmortems"],
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
def export_postmortem(
    incident_id: str,
    ctx: Context = viewer,
    fmt: str = Query(default="markdown", alias="format", description="markdown or html"),
    lang: str | None = _LANG,
) -> Response:
    """The post-mortem as a Markdown file or a standalone printable HTML page (404 when the
    incident has none). The HTML carries its own Content-Security-Policy, allowing exactly
    its inline stylesheet."""
    with ctx.read() as session:
        download = export.export_postmortem(
            session,
            ctx.policy,
            incident_id,
            fmt=fmt,
            locale=lang or ctx.principal.locale,
            now=ctx.now(),
        )
    return Response(download.text, media_type=download.media_type, headers=download.headers)


@router.get(
    "/incidents/{incident_id}/report",
    tags=["incidents"],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}, "text/markdown": {}}}},
)
def incident_report(
    incident_id: str,
    ctx: Context = viewer,
    form: str = Query(default="short", description="short (seed 001 App. B) or full"),
    lang: str | None = _LANG,
) -> Response:
    """Any incident's report, with or without a post-mortem: the short form as text ready to
    paste into a chat, or the incident report as a Markdown file."""
    with ctx.read() as session:
        download = reports.export_report(
            session,
            ctx.policy,
            incident_id,
            form=form,
            locale=lang or ctx.principal.locale,
            now=ctx.now(),
        )
    return Response(download.text, media_type=download.media_type, headers=download.headers)
