"""The console's approvals page: /approvals (messages waiting, approve, edit or reject)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
