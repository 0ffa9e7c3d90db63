"""The console's drill pages: the drill list with its "New drill" form, and a drill's page with
its incident, Start / End / Kill switch, the scorecard and its improvement items (TI-NNN). The
forms they post are taken by drill_forms.py, whose routes this router carries."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from haetae.web import drill_forms
from haetae.web.console import Console, signed_in
from haetae.web.drill_views import drill_page, list_page

router = APIRouter(include_in_schema=False)


@router.get("/drills")
def drills(console: Console = Depends(signed_in), done: str = "") -> Response:
    return list_page(console, done=done)


@router.get("/drills/{ref}")
def drill(ref: str, console: Console = Depends(signed_in), done: str = "") -> Response:
    return drill_page(console, ref, done=done)


router.include_router(drill_forms.router)
