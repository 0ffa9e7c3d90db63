"""Communication templates under /api/v1: the loaded templates and a preview render."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.deps import Context  # noqa: F401  (the request's context, as every route takes)

router = APIRouter(tags=["communications"])
