"""Role checklists on an incident, under /api/v1/incidents/{id}/checklists."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["checklists"])
