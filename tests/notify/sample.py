"""An incident built in memory (never stored) for the message tests, and the public URL
they render links with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from haetae.incidents.models import Incident

PUBLIC = "https://haetae.example.com/"
STARTED = datetime(2026, 11, 21, 5, 30, tzinfo=UTC)  # 14:30 in Seoul


def incident(**fields: object) -> Incident:
    """A P1 on matchmaking declared by minji at STARTED; `fields` change any column."""
    values: dict[str, object] = dict(
        id="INC-20261121-007",
        title="Matchmaking queue stuck",
        summary="Players wait forever in the lobby",
        status="investigating",
        severity="P1",
        services=["matchmaking", "game-server"],
        impact={"users": 5000, "regions": ["kr"]},
        business_impact="revenue",
        user_impact="all",
        category=None,
        declared_by="minji",
        declared_at=STARTED,
        started_at=STARTED,
        detected_at=STARTED,
        acknowledged_at=None,
        resolved_at=None,
        next_update_due=STARTED + timedelta(minutes=5),
    )
    values.update(fields)
    return Incident(**values)
