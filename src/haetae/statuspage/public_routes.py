"""The public status page, without authentication: /status (HTML), /api/v2/*.json in the hosted
status page API's shape, and the Atom and RSS feeds; mounted at the root by app.py."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.deps import Context  # noqa: F401  (the request's context, as every route takes)

router = APIRouter(tags=["status page (public)"])
