"""The runbook library's API under /api/v1: /runbooks (the loaded runbooks, one runbook)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["runbooks"])
