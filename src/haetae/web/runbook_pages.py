"""The console's runbook library: /runbooks (every loaded runbook, its problems) and
/runbooks/{id}."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from markdown_it import MarkdownIt
from markupsafe import Markup

from haetae.i18n import N_
from haetae.runbooks import library
from haetae.web.console import Console, Refused, signed_in
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

KIND_LABELS = {"runbook": N_("Runbook"), "template": N_("Scenario template")}
NOT_FOUND = N_("No runbook has the id %(id)s.")


@cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML off: a runbook's Markdown can format text, never inject markup
    # or script (markdown-it also refuses javascript: and data: links).
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown(text: str) -> Markup:
    """A runbook's Markdown body as safe HTML."""
    # Safe to mark: with html off, markdown-it escapes every character of the input.
    return Markup(_markdown().render(text))


@router.get("/runbooks")
def runbooks(console: Console = Depends(signed_in)) -> Response:
    with console.read() as session:
        found = library.current(console.settings, console.policy, session)
    return render(
        console,
        "runbooks/list.html",
        active="runbooks",
        library=found,
        kinds=KIND_LABELS,
    )


@router.get("/runbooks/{runbook_id}")
def runbook(runbook_id: str, console: Console = Depends(signed_in)) -> Response:
    loaded = library.current(console.settings, console.policy).get(runbook_id)
    if loaded is None:
        raise Refused(404, console.gettext(NOT_FOUND) % {"id": runbook_id})
    return render(
        console,
        "runbooks/page.html",
        active="runbooks",
        loaded=loaded,
        runbook=loaded.runbook,
        path=library.relative_path(loaded),
        body=markdown(loaded.runbook.body),
        kinds=KIND_LABELS,
    )
