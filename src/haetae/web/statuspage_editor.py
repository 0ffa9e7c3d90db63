"""The console's status page editor: /status-page/admin (components and their states, public
incidents and updates, maintenance)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
