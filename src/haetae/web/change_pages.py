"""The console's change feed page: /changes (recent changes by service, kind and time)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
