"""The communications API under /api/v1: channels, messages to stakeholders, follows."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["communications"])
