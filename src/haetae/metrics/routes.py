"""The metrics API under /api/v1: /metrics (figures, targets, breakdowns and trends)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["metrics"])
