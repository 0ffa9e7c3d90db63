"""The drills' API under /api/v1: /drills (schedule, start, kill switch, scorecard, items)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["drills"])
