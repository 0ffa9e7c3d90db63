"""A drill's synthetic alerts, sent through the real ingest path: which are due, the
Alertmanager v4 webhook that carries them, the HTTP post to /ingest/alertmanager with the
drill integration's token, and the linking of the incident those alerts declare."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.alerts import integrations
from haetae.alerts.models import Integration
from haetae.drills import service
from haetae.drills.models import Drill
from haetae.incidents.models import Incident
from haetae.timeline import service as timeline

POST_TIMEOUT = 10.0


@dataclass
class Injection:
    """What one pass sends for one drill: the token exists only here, in memory."""

    drill_id: int
    drill_code: str
    token: str
    indexes: list[int]
    payload: dict[str, Any] = field(default_factory=dict)


def due_indexes(drill: Drill, now: datetime) -> list[int]:
    """The synthetic alerts due now and neither sent nor dropped."""
    if drill.status != "running" or drill.started_at is None:
        return []
    return [
        i
        for i, item in enumerate(drill.inject or [])
        if not item.get("sent_at")
        and not item.get("dropped")
        and now >= drill.started_at + timedelta(seconds=int(item.get("after_seconds") or 0))
    ]


def fingerprint(drill_code: str, index: int, labels: dict[str, str]) -> str:
    """Stable per drill and alert: a resend of the same injection updates the same alert."""
    text = json.dumps([drill_code, index, sorted(labels.items())], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def alertmanager_payload(
    drill_code: str, alerts: list[tuple[int, dict[str, Any]]], *, now: datetime
) -> dict[str, Any]:
    """Alertmanager's webhook payload (version 4) for the given (index, inject item) pairs."""
    body = []
    for index, item in alerts:
        labels = {str(k): str(v) for k, v in (item.get("labels") or {}).items()}
        labels.setdefault("drill", drill_code)
        body.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": dict(item.get("annotations") or {}),
                "startsAt": now.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": fingerprint(drill_code, index, labels),
            }
        )
    common = body[0]["labels"] if len(body) == 1 else {"drill": drill_code}
    return {
        "version": "4",
        "receiver": f"haetae-drill-{drill_code.lower()}",
        "status": "firing",
        "groupKey": f'{{}}:{{drill="{drill_code}"}}',
        "truncatedAlerts": 0,
        "groupLabels": {"drill": drill_code},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": body,
    }


def take_due(session: Session, drill: Drill, *, code: str, now: datetime) -> Injection | None:
    """Mark the drill's due alerts sent and give a fresh token to post them with (rotating
    the drill integration's token: only this pass knows it). The caller commits, then posts;
    a failed post gives them back (give_back). A second post of the same alerts is harmless:
    they carry the same fingerprints, so ingest updates the alerts it already has."""
    indexes = due_indexes(drill, now)
    if not indexes or drill.integration_id is None:
        return None
    integration = session.get(Integration, drill.integration_id)
    if integration is None or integration.disabled_at is not None:
        return None
    token = integrations.rotate_token(session, integration, now=now)
    items = [dict(item) for item in drill.inject]
    for i in indexes:
        items[i]["sent_at"] = now.isoformat()
    drill.inject = items
    drill.injected_at = drill.injected_at or now
    drill.updated_at = now
    payload = alertmanager_payload(code, [(i, items[i]) for i in indexes], now=now)
    return Injection(drill.id, code, token, indexes, payload)


def give_back(session: Session, injection: Injection, *, now: datetime) -> None:
    """A post that failed: its alerts are due again on the next pass."""
    drill = session.get(Drill, injection.drill_id, with_for_update=True)
    if drill is None or drill.status != "running":
        return
    items = [dict(item) for item in drill.inject]
    for i in injection.indexes:
        if i < len(items):
            items[i]["sent_at"] = None
    drill.inject = items
    if not any(item.get("sent_at") for item in items):
        drill.injected_at = None
    drill.updated_at = now


def post(public_url: str, injection: Injection, *, timeout: float = POST_TIMEOUT) -> int:
    """POST the payload to Haetae's own /ingest/alertmanager; the answer's status code."""
    url = integrations.webhook_url(public_url, "alertmanager")
    response = httpx.post(
        url,
        json=injection.payload,
        headers={"Authorization": f"Bearer {injection.token}"},
        timeout=timeout,
    )
    return response.status_code


# Linking the incident the alerts declare


def is_drill_integration(session: Session, integration_id: int) -> bool:
    """Whether the integration is a drill's own (its alerts declare drill incidents)."""
    found = session.scalar(select(Drill.id).where(Drill.integration_id == integration_id).limit(1))
    return found is not None


def link_declared(
    session: Session, integration_id: int, incident: Incident, *, actor: str, now: datetime
) -> Drill | None:
    """Called by the alert linkage for every incident an integration declares: when the
    integration is a drill's, the incident is a drill incident (drill=True) and, if the drill
    has none yet, becomes the drill's incident."""
    drill = session.scalars(select(Drill).where(Drill.integration_id == integration_id)).first()
    if drill is None:
        return None
    incident.drill = True
    code = service.code(drill)
    if drill.incident_id is None:
        drill.incident_id = incident.id
        drill.updated_at = now
    timeline.record(
        session,
        incident.id,
        kind="drill_started",
        actor=actor,
        at=now,
        summary=f"Drill {code} ({drill.kind}): declared from its synthetic alerts",
        drill=code,
        kind_of_drill=drill.kind,
    )
    return drill
