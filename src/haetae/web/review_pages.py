"""The console's review reports: the kept weekly and monthly reviews, listed and read, and
downloaded as Markdown, HTML or CSV."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.inputs import INT32_MAX, is_number
from haetae.reviews import render as files
from haetae.reviews import service
from haetae.reviews.document import TITLES
from haetae.web.console import Console, Refused, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"weekly": N_("Weekly"), "monthly": N_("Monthly")}
NO_REPORT = N_("There is no such review report.")


def _report_id(value: str, console: Console) -> int:
    if not is_number(value) or int(value) > INT32_MAX or int(value) < 1:
        raise Refused(404, console.gettext(NO_REPORT))
    return int(value)


@router.get("/reviews")
def review_list(
    console: Console = Depends(signed_in),
    kind: str | None = Query(default=None, max_length=16),
    cursor: str | None = Query(default=None, max_length=20),
) -> Response:
    chosen = kind if kind in KIND_LABELS else None
    with console.read() as session:
        try:
            listed = service.list_reports(session, kind=chosen, cursor=cursor)
        except HaetaeError:  # a cursor from elsewhere: start again from the newest
            listed = service.list_reports(session, kind=chosen)
    next_url = None
    if listed.next_cursor:
        next_url = f"/reviews?cursor={listed.next_cursor}" + (f"&kind={chosen}" if chosen else "")
    return render(
        console,
        "reviews.html",
        active="reviews",
        items=listed.items,
        kind=chosen,
        kinds=[(k, console.gettext(label)) for k, label in KIND_LABELS.items()],
        words={k: console.gettext(label) for k, label in KIND_LABELS.items()},
        next_url=next_url,
    )


@router.get("/reviews/{report_id}")
def review_page(report_id: str, console: Console = Depends(signed_in)) -> Response:
    number = _report_id(report_id, console)
    with console.read() as session:
        try:
            report = service.get(session, number)
        except HaetaeError:
            raise Refused(404, console.gettext(NO_REPORT)) from None
        doc = service.as_document(console.policy, report, locale=console.locale)
        summary = service.summary(report)
    return render(
        console,
        "reviews_page.html",
        active="reviews",
        doc=doc,
        report=summary,
        kind_label=console.gettext(TITLES.get(summary.kind, TITLES["weekly"])),
        formats=files.FORMATS,
    )


@router.get("/reviews/{report_id}/export.{extension}")
def review_export(
    report_id: str,
    extension: str,
    console: Console = Depends(signed_in),
    lang: str | None = Query(default=None, max_length=8),
) -> Response:
    """The API's downloads for the console's signed-in session (the API takes bearer tokens
    only)."""
    number = _report_id(report_id, console)
    if extension not in files.FORMATS:
        raise Refused(404, console.gettext(NO_REPORT))
    with console.read() as session:
        try:
            report = service.get(session, number)
        except HaetaeError:
            raise Refused(404, console.gettext(NO_REPORT)) from None
        text = service.as_text(console.policy, report, fmt=extension, locale=lang or console.locale)
        name = service.filename(report, extension)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if extension == "html":
        headers["Content-Security-Policy"] = files.content_security_policy()
    return Response(text, media_type=files.MEDIA_TYPES[extension], headers=headers)
