"""External contacts and manual escalation under /api/v1: /external-contacts,
/incidents/{id}/escalate."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["contacts"])
