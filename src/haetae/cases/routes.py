"""The API's cases routes (filled in by issue 11)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
