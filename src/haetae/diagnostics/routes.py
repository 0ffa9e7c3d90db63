"""The diagnostics' API under /api/v1: checks, runs on demand, an incident's runs and first
analysis."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["diagnostics"])
