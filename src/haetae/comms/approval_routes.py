"""Approvals under /api/v1: messages waiting for approval, approve, edit or reject."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.deps import Context  # noqa: F401  (the request's context, as every route takes)

router = APIRouter(tags=["communications"])
