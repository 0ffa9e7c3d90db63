"""The console's Reports page: charts, tables and CSV of the metrics API's figures."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
