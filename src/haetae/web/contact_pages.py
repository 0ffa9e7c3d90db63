"""The console's external contacts page: /external-contacts (support plans, SLA tiers, how to
reach them)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
