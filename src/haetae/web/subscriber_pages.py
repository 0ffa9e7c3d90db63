"""The console's status page subscribers page (masked addresses, export, delete)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
