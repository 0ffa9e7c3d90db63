"""The console's drill pages: the drill list with its "New drill" form, and a drill's page with
its incident, Start / End / Kill switch, the scorecard and its improvement items (TI-NNN). The
forms they post are taken by drill_forms.py, whose routes this router carries."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from haetae.drills import scorecard, service
from haetae.errors import HaetaeError
from haetae.web import drill_forms
from haetae.web.console import Console, signed_in
from haetae.web.drill_views import drill_page, list_page, missing

router = APIRouter(include_in_schema=False)


@router.get("/drills")
def drills(console: Console = Depends(signed_in), done: str = "") -> Response:
    return list_page(console, done=done)


@router.get("/drills/{ref}")
def drill(ref: str, console: Console = Depends(signed_in), done: str = "") -> Response:
    return drill_page(console, ref, done=done)


@router.get("/drills/{ref}/scorecard.md")
def scorecard_markdown(ref: str, console: Console = Depends(signed_in)) -> Response:
    """Seed 001 8.3's table as a Markdown file, for the drill's report or wiki."""
    with console.read() as session:
        try:
            drill = service.get_drill(session, ref)
        except HaetaeError as exc:
            missing(console, exc, ref)
            raise
        card = scorecard.build(session, console.policy, drill)
    name = f"{card.drill.lower()}-scorecard.md"
    return Response(
        scorecard.markdown(card),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


router.include_router(drill_forms.router)
