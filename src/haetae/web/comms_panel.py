"""The incident page's Communications panel: messages to stakeholders from templates, their
delivery, follow."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from haetae.incidents.models import Incident
from haetae.web.console import Console

router = APIRouter(include_in_schema=False)


def gather(session: Session, console: Console, incident: Incident) -> dict[str, Any]:
    """What the panel shows, read in the incident page's transaction."""
    return {}
