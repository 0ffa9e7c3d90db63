"""The alert rows of one ingest batch: the open alerts it reads, what each event changes in
them, and writing them back (one INSERT for the new alerts, shared UPDATEs for repeats).

Which group and incident a new alert belongs to is alerts/linkage.py's part; this side only
notes which incidents' alerts were acknowledged or resolved, for the linkage to follow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from haetae.alerts.integrations import Sender
from haetae.alerts.models import Alert
from haetae.alerts.rawsql import RawSQL
from haetae.alerts.senders import AlertEvent, content_digest

_KEY_CHUNK = 500  # keys per IN (...) query, well under every database's parameter limit


@dataclass(slots=True)
class Outcome:
    dedup_key: str
    outcome: str  # created, updated, acknowledged, resolved, ignored
    status: str | None = None
    alert_id: int | None = None
    incident_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "dedup_key": self.dedup_key,
            "status": self.status,
            "outcome": self.outcome,
            "incident_id": self.incident_id,
        }


@dataclass(slots=True)
class OpenAlert:
    """An open alert as the batch sees it, and what the batch changed in it."""

    id: int | None
    incident_id: str | None
    group_id: int | None
    status: str
    content_hash: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    receipts: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass(slots=True)
class NewAlert:
    """An alert the batch opens, with the event and sender that opened it."""

    alert: OpenAlert
    event: AlertEvent
    sender: Sender


class AlertRows:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.sql = RawSQL(session, cast(Table, Alert.__table__))
        self.opened: dict[tuple[int, str], OpenAlert] = {}
        self.touched: list[OpenAlert] = []  # every alert this batch read or made
        self.new: list[NewAlert] = []
        # Incidents whose alerts this batch acknowledged or resolved, and by whom.
        self.acknowledged: dict[str, str] = {}
        self.resolved: dict[str, str] = {}

    # Reading what is open

    def load_open(self, deliveries: Iterable[tuple[Sender, list[AlertEvent]]]) -> None:
        """The open alerts that the deliveries' keys name, in as few queries as the keys allow."""
        wanted: dict[int, set[str]] = defaultdict(set)
        for sender, events in deliveries:
            wanted[sender.id].update(e.dedup_key for e in events)
        for integration_id, keys in wanted.items():
            ordered = sorted(keys)
            for start in range(0, len(ordered), _KEY_CHUNK):
                chunk = ordered[start : start + _KEY_CHUNK]
                rows = self.sql.execute(
                    "SELECT id, open_key, incident_id, group_id, status, content_hash "
                    "FROM alerts WHERE integration_id = {} AND open_key IN ({})",
                    [integration_id, *chunk],
                    expand=len(chunk),
                )
                for alert_id, key, incident_id, group_id, status, digest in rows:
                    current = OpenAlert(alert_id, incident_id, group_id, status, digest)
                    self.opened[(integration_id, key)] = current
                    self.touched.append(current)

    # One event

    def apply(self, sender: Sender, event: AlertEvent) -> Outcome:
        key = (sender.id, event.dedup_key)
        current = self.opened.get(key)
        if event.action == "trigger":
            if current is None:
                current = self._open_new(sender, event)
                self.opened[key] = current
                return self._note(current, event, "created")
            digest = content_digest(event)
            if digest != current.content_hash:
                current.values |= _content(event) | {"content_hash": digest}
                current.content_hash = digest
            current.values["last_received_at"] = self.now
            current.receipts += 1
            return self._note(current, event, "updated")
        if current is None or current.status == "resolved":
            return Outcome(event.dedup_key, "ignored")
        actor = f"integration:{sender.name}"
        if event.action == "acknowledge":
            if current.status == "firing":
                current.status = "acknowledged"
                current.values |= {"status": "acknowledged", "acknowledged_at": self.now}
                if current.incident_id:
                    self.acknowledged[current.incident_id] = actor
            return self._note(current, event, "acknowledged")
        current.status = "resolved"
        current.values |= {
            "status": "resolved",
            "open_key": None,
            "resolved_at": self.now,
            "ends_at": event.ends_at or self.now,
            "last_received_at": self.now,
            **({"raw": event.raw} if event.raw and event.summary else {}),
        }
        current.receipts += 1
        if current.incident_id:
            self.resolved[current.incident_id] = actor
        del self.opened[key]  # a later trigger in this batch opens a new alert
        return self._note(current, event, "resolved")

    def _note(self, current: OpenAlert, event: AlertEvent, outcome: str) -> Outcome:
        result = Outcome(event.dedup_key, outcome, current.status)
        current.outcomes.append(result)
        return result

    def _open_new(self, sender: Sender, event: AlertEvent) -> OpenAlert:
        current = OpenAlert(None, None, None, "firing", receipts=1)
        current.values = {
            "integration_id": sender.id,
            "dedup_key": event.dedup_key,
            "open_key": event.dedup_key,
            "status": "firing",
            "received_at": self.now,
            "last_received_at": self.now,
            "content_hash": content_digest(event),
            **_content(event),
        }
        self.new.append(NewAlert(current, event, sender))
        self.touched.append(current)
        return current

    # Writing alerts

    def insert_new(self) -> None:
        """One INSERT for the batch's new alerts, once the linkage has filed each of them."""
        if not self.new:
            return
        rows = [
            {**_ALERT_DEFAULTS, **new.alert.values, "receipts": new.alert.receipts}
            for new in self.new
        ]
        self.session.flush()
        ids = self.session.scalars(
            insert(Alert).returning(Alert.id, sort_by_parameter_order=True), rows
        ).all()
        for new, alert_id in zip(self.new, ids, strict=True):
            current = new.alert
            current.id = alert_id
            current.values.clear()
            current.receipts = 0
            # Acknowledged or resolved later in this same batch: its incident follows.
            if current.incident_id and current.status != "firing":
                effects = self.acknowledged if current.status == "acknowledged" else self.resolved
                effects[current.incident_id] = f"integration:{new.sender.name}"

    def write_updates(self) -> None:
        # Alerts given the same values share one statement: a storm of repeats (the same
        # receipt time, one more receipt each) is one UPDATE ... WHERE id IN (...). Alerts
        # whose content changed carry their own payload: one executemany per column set.
        alike: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        changed: dict[tuple[str, ...], list[list[Any]]] = defaultdict(list)
        for current in self.touched:
            if current.id is None or not (current.values or current.receipts):
                continue
            columns = tuple(sorted(current.values))
            values = [current.values[c] for c in columns]
            if "raw" in current.values:
                changed[columns].append([current.receipts, *values, current.id])
            else:
                alike[(current.receipts, columns, tuple(values))].append(current.id)
        for (receipts, columns, values), ids in alike.items():
            assignments = "".join(f", {column} = {{}}" for column in columns)
            for start in range(0, len(ids), _KEY_CHUNK):
                chunk = ids[start : start + _KEY_CHUNK]
                self.sql.execute(
                    f"UPDATE alerts SET receipts = receipts + {{}}{assignments} WHERE id IN ({{}})",
                    [receipts, *self.sql.bind(columns, values), *chunk],
                    expand=len(chunk),
                )
        for columns, rows in changed.items():
            assignments = "".join(f", {column} = {{}}" for column in columns)
            self.sql.executemany(
                f"UPDATE alerts SET receipts = receipts + {{}}{assignments} WHERE id = {{}}",
                ("receipts", *columns, "id"),
                rows,
            )
        for current in self.touched:
            for outcome in current.outcomes:
                outcome.alert_id = current.id
                outcome.incident_id = current.incident_id


_ALERT_DEFAULTS: dict[str, Any] = {
    "rule": None,
    "service": None,
    "severity": None,
    "group_id": None,
    "incident_id": None,
    "acknowledged_at": None,
    "resolved_at": None,
}


def _content(event: AlertEvent) -> dict[str, Any]:
    """The columns a trigger (new or repeated) sets from what the sender sent."""
    return {
        "summary": (event.summary or event.dedup_key)[:1024],
        "details": event.details,
        "source": event.source[:255] if event.source else None,
        "sender_severity": event.sender_severity[:64] if event.sender_severity else None,
        "labels": event.labels,
        "annotations": event.annotations,
        "generator_url": event.generator_url[:2048] if event.generator_url else None,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "raw": event.raw,
    }
