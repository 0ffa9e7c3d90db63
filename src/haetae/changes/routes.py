"""The change feed under /api/v1: POST /changes (an integration token), listing, linking to
incidents."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["changes"])
