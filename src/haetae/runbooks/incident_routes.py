"""Runbooks on an incident, under /api/v1/incidents/{id}/runbooks: attach, steps, accuracy."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.deps import Context  # noqa: F401  (the request's context, as every route takes)

router = APIRouter(tags=["runbooks"])
