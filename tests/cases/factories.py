"""Small factories for the case library's tests: incidents through the API, post-mortems and
alerts as rows (their own services are other parts of issue 11)."""

from __future__ import annotations

from typing import Any

import httpx

from haetae.alerts.models import Alert, Integration
from haetae.clock import utcnow
from haetae.db import Database
from haetae.postmortems.models import Postmortem
from tests.api.helpers import declare, move


def incident(api: httpx.Client, title: str, **fields: Any) -> str:
    fields.setdefault("severity", "P3")
    fields.setdefault("severity_reason", "test")
    return str(declare(api, title=title, **fields)["id"])


def resolve(api: httpx.Client, incident_id: str, summary: str) -> None:
    """Checks the policy's manual conditions, then resolves with the summary."""
    for condition in api.get(f"/api/v1/incidents/{incident_id}/conditions").json():
        if condition["kind"] == "manual":
            checked = api.post(
                f"/api/v1/incidents/{incident_id}/conditions/{condition['id']}", json={}
            )
            assert checked.status_code == 200, checked.text
    response = move(api, incident_id, "resolved", summary=summary)
    assert response.status_code == 200, response.text


def postmortem(db: Database, incident_id: str, **fields: Any) -> int:
    now = utcnow()
    values: dict[str, Any] = {
        "incident_id": incident_id,
        "status": "draft",
        "title": f"Post-mortem {incident_id}",
        "author": "alice",
        "started_by": "alice",
        "started_at": now,
        "updated_at": now,
        "clock_start": now,
        "summary": "",
        "impact": "",
        "key_events": [],
        "whys": [],
        "root_cause": "",
        "contributing_factors": [],
        "went_well": [],
        "went_wrong": [],
        "lucky": [],
        "lessons": "",
        "custom": {},
        "deadlines": {},
        "reminded": {},
    }
    values.update(fields)
    with db.session() as session:
        row = Postmortem(**values)
        session.add(row)
        session.flush()
        return row.id


def alert(db: Database, incident_id: str, fingerprint: str, **labels: str) -> None:
    now = utcnow()
    with db.session() as session:
        integration = session.query(Integration).filter_by(name="case-tests").one_or_none()
        if integration is None:
            integration = Integration(
                name="case-tests",
                type="generic",
                token_hash=fingerprint.ljust(64, "0")[:64],
                token_prefix="hk_test",
                created_by="test",
                created_at=now,
            )
            session.add(integration)
            session.flush()
        session.add(
            Alert(
                integration_id=integration.id,
                dedup_key=fingerprint,
                open_key=None,
                status="resolved",
                summary=fingerprint,
                labels=labels,
                annotations={},
                received_at=now,
                last_received_at=now,
                incident_id=incident_id,
                raw={},
            )
        )
