"""The console's drill pages: the drill list, a drill's page with its scorecard and items."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
