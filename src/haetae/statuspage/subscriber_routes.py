"""Status page subscribers: the public subscribe, confirm and unsubscribe endpoints and the
admin API."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.deps import Context  # noqa: F401  (the request's context, as every route takes)

router = APIRouter(tags=["status page"])

# Mounted at the root (no /api/v1): what a reader's browser or mail client calls.
public = APIRouter(include_in_schema=False)
