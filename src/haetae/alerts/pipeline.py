"""Applying deliveries of alerts to the database, in one transaction per batch.

For each event: a trigger updates the open alert with the same key or opens a new one;
an acknowledge or resolve changes the open alert, or is ignored when there is none. New
alerts are routed; the first alert of a group declares its incident (or reopens the
group's recently resolved one), later ones attach. Incidents whose alerts have all
resolved move on as their rule says.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from haetae.alerts.integrations import Sender
from haetae.alerts.models import Alert, AlertGroup, RoutingRule
from haetae.alerts.rawsql import RawSQL
from haetae.alerts.routing import Routed, route
from haetae.alerts.senders import AlertEvent, content_digest
from haetae.incidents import lifecycle, resolution, transitions
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.policy.routing import Rule
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline

_KEY_CHUNK = 500  # keys per IN (...) query, well under every database's parameter limit


@dataclass(slots=True)
class Job:
    """One accepted request: its integration and its events, in the order sent."""

    sender: Sender
    events: list[AlertEvent]
    truncated: int = 0


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
class _Open:
    """An open alert as the batch sees it, and what the batch changed in it."""

    id: int | None
    incident_id: str | None
    group_id: int | None
    status: str
    content_hash: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    receipts: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


def apply_jobs(
    session: Session, policy: Policy, jobs: list[Job], *, now: datetime
) -> list[list[Outcome]]:
    return _Batch(session, policy, now).run(jobs)


class _Batch:
    def __init__(self, session: Session, policy: Policy, now: datetime) -> None:
        self.session = session
        self.policy = policy
        self.now = now
        self._rules: list[Rule] | None = None
        self.sql = RawSQL(session, cast(Table, Alert.__table__))
        self.opened: dict[tuple[int, str], _Open] = {}
        self.touched: list[_Open] = []  # every alert this batch read or made
        self.groups: dict[str, AlertGroup] = {}
        self.new: list[tuple[_Open, AlertEvent, Sender]] = []
        self.acknowledged: dict[str, str] = {}  # incident -> actor
        self.resolved_incidents: dict[str, str] = {}  # incident -> actor

    def run(self, jobs: list[Job]) -> list[list[Outcome]]:
        self._load_open(jobs)
        results = []
        for job in jobs:
            results.append([self._event(job.sender, event) for event in job.events])
        self._insert_new()
        self._write_updates()
        self._incident_effects()
        return results

    # Reading what is open

    def _load_open(self, jobs: list[Job]) -> None:
        wanted: dict[int, set[str]] = defaultdict(set)
        for job in jobs:
            wanted[job.sender.id].update(e.dedup_key for e in job.events)
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
                    current = _Open(alert_id, incident_id, group_id, status, digest)
                    self.opened[(integration_id, key)] = current
                    self.touched.append(current)

    # One event

    def _event(self, sender: Sender, event: AlertEvent) -> Outcome:
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
            self.resolved_incidents[current.incident_id] = actor
        del self.opened[key]  # a later trigger in this batch opens a new alert
        return self._note(current, event, "resolved")

    def _note(self, current: _Open, event: AlertEvent, outcome: str) -> Outcome:
        result = Outcome(event.dedup_key, outcome, current.status)
        current.outcomes.append(result)
        return result

    def _open_new(self, sender: Sender, event: AlertEvent) -> _Open:
        current = _Open(None, None, None, "firing", receipts=1)
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
        self.new.append((current, event, sender))
        self.touched.append(current)
        return current

    # Writing alerts

    def _insert_new(self) -> None:
        if not self.new:
            return
        for current, event, sender in self.new:
            routed = route(self.rules, self.policy.routing.default, self.policy, event, sender)
            current.values |= {
                "rule": routed.rule.name,
                "service": routed.service,
                "severity": routed.severity,
            }
            if routed.rule.action != "record":
                self._link(current, event, sender, routed)
        rows = [
            {**_ALERT_DEFAULTS, **current.values, "receipts": current.receipts}
            for current, _, _ in self.new
        ]
        self.session.flush()
        ids = self.session.scalars(
            insert(Alert).returning(Alert.id, sort_by_parameter_order=True), rows
        ).all()
        for (current, _, sender), alert_id in zip(self.new, ids, strict=True):
            current.id = alert_id
            current.values.clear()
            current.receipts = 0
            # Acknowledged or resolved later in this same batch: its incident follows.
            if current.incident_id and current.status != "firing":
                effects = (
                    self.acknowledged
                    if current.status == "acknowledged"
                    else (self.resolved_incidents)
                )
                effects[current.incident_id] = f"integration:{sender.name}"
        self._record_new_on_timelines()

    def _write_updates(self) -> None:
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

    # Groups and incidents

    @property
    def rules(self) -> list[Rule]:
        if self._rules is None:
            stored = self.session.scalars(
                select(RoutingRule.definition)
                .where(RoutingRule.enabled.is_(True))
                .order_by(RoutingRule.position, RoutingRule.id)
            )
            self._rules = [Rule.model_validate(d) for d in stored] + list(self.policy.routing.rules)
        return self._rules

    def _link(self, current: _Open, event: AlertEvent, sender: Sender, routed: Routed) -> None:
        group = (
            self.groups.get(routed.group_key)
            or self.session.scalars(
                select(AlertGroup).where(AlertGroup.group_key == routed.group_key)
            ).first()
        )
        rule = routed.rule
        incident = None
        if group is not None and group.incident_id is not None:
            incident = self.session.get(Incident, group.incident_id)
        if incident is not None and incident.status in lifecycle.ACTIVE:
            if incident.status == "monitoring":
                self._move(incident.id, f"alert fired again: {event.summary}", sender)
        elif incident is not None and self._reopenable(incident, group):
            self._move(
                incident.id, f"alert fired again within the flap window: {event.summary}", sender
            )
        elif rule.action == "declare":
            incident = self._declare(event, sender, routed)
        else:
            incident = None  # attach: only to an open incident of the group
        if group is None:
            group = AlertGroup(
                group_key=routed.group_key,
                description=routed.group_description,
                rule=rule.name,
                integration_id=sender.id,
                created_at=self.now,
            )
            self.session.add(group)
        group.incident_id = incident.id if incident is not None else group.incident_id
        group.on_resolve = rule.on_resolve
        group.flap_window_seconds = int(rule.flap.total_seconds())
        group.updated_at = self.now
        self.session.flush()
        self.groups[routed.group_key] = group
        current.group_id = group.id
        current.incident_id = incident.id if incident is not None else None
        current.values |= {"group_id": group.id, "incident_id": current.incident_id}

    def _reopenable(self, incident: Incident, group: AlertGroup | None) -> bool:
        if incident.status != "resolved" or incident.resolved_at is None or group is None:
            return False
        return (self.now - incident.resolved_at).total_seconds() <= group.flap_window_seconds

    def _declare(self, event: AlertEvent, sender: Sender, routed: Routed) -> Incident:
        received = self.now
        started = min(event.starts_at, received) if event.starts_at else received
        title = (event.summary or event.dedup_key).strip()[:300] or event.dedup_key[:300]
        environment = event.labels.get("env") or event.labels.get("environment")
        data = IncidentDeclare(
            title=title,
            summary=event.details[:20_000],
            services=[routed.service] if routed.service else [],
            category=routed.rule.category,
            tags=[f"alert:{sender.name}"],
            environment=environment[:64] if environment else None,
            severity=routed.severity,
            severity_reason=f"routing rule {routed.rule.name}"
            + (f", sender severity {event.sender_severity}" if event.sender_severity else ""),
            started_at=started,
            detected_at=received,
        )
        return declare_incident(
            self.session, self.policy, data, actor=f"integration:{sender.name}", now=self.now
        )

    def _move(self, incident_id: str, reason: str, sender: Sender) -> None:
        """Back to work: an alert of a monitoring or just-resolved incident fired again."""
        transitions.transition(
            self.session,
            self.policy,
            incident_id,
            to="investigating",
            reason=reason[:500],
            actor=f"integration:{sender.name}",
            now=self.now,
            acknowledges=False,
        )

    def _record_new_on_timelines(self) -> None:
        by_incident: dict[str, list[tuple[_Open, AlertEvent, Sender]]] = defaultdict(list)
        for entry in self.new:
            if entry[0].incident_id:
                by_incident[entry[0].incident_id].append(entry)
        for incident_id, entries in by_incident.items():
            first = entries[0]
            names = ", ".join(e.summary for _, e, _ in entries[:5])
            more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            timeline.record(
                self.session,
                incident_id,
                kind="alerts_attached",
                actor=f"integration:{first[2].name}",
                at=self.now,
                summary=f"{len(entries)} alert(s) from {first[2].name}: {names}{more}",
                alerts=[c.id for c, _, _ in entries],
                dedup_keys=[e.dedup_key for _, e, _ in entries],
            )

    def _incident_effects(self) -> None:
        for incident_id, actor in self.acknowledged.items():
            transitions.acknowledge(self.session, incident_id, by=actor, now=self.now)
        for incident_id, actor in self.resolved_incidents.items():
            self._maybe_settle(incident_id, actor)

    def _maybe_settle(self, incident_id: str, actor: str) -> None:
        still_open = self.session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.incident_id == incident_id, Alert.open_key.is_not(None))
        )
        if still_open:
            return
        incident = self.session.get(Incident, incident_id)
        if incident is None or incident.status not in lifecycle.ACTIVE:
            return
        on_resolve = self.session.scalar(
            select(AlertGroup.on_resolve)
            .where(AlertGroup.incident_id == incident_id)
            .order_by(AlertGroup.updated_at.desc())
        )
        if on_resolve in (None, "nothing"):
            return
        if on_resolve == "resolved":
            unmet = [
                c.text
                for c in resolution.conditions(self.session, self.policy, incident)
                if not c.met
            ]
            if not unmet:
                self._settle(incident_id, "resolved", actor)
                return
            timeline.record(
                self.session,
                incident_id,
                kind="auto_resolve_waiting",
                actor=actor,
                at=self.now,
                summary="All alerts resolved; resolving waits for: " + "; ".join(unmet),
                unmet=unmet,
            )
        if incident.status != "monitoring":
            self._settle(incident_id, "monitoring", actor)

    def _settle(self, incident_id: str, to: str, actor: str) -> None:
        transitions.transition(
            self.session,
            self.policy,
            incident_id,
            to=to,
            reason="all alerts resolved",
            actor=actor,
            now=self.now,
            acknowledges=False,  # an automatic move is nobody's acknowledgement
        )


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
