"""The review reports' API under /api/v1: /reviews (the kept weekly and monthly reports)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reviews"])
