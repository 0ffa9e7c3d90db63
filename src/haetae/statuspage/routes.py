"""The status page's admin API under /api/v1/status-page: components, public incidents,
maintenance."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["status page"])
