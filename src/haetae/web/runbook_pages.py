"""The console's runbook library: /runbooks (every loaded runbook, its problems) and
/runbooks/{id}."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
