"""The console's review reports: the kept weekly and monthly reviews, listed and read."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
