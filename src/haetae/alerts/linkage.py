"""Incident linkage for an ingest batch: routing each new alert, filing it under its group and
the group's incident (declared, reopened, brought back to work or only attached), noting the
attached alerts on the incidents' timelines, and moving incidents whose alerts were
acknowledged or all resolved as their rule says.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haetae.alerts.alert_rows import NewAlert, OpenAlert
from haetae.alerts.integrations import Sender
from haetae.alerts.models import Alert, AlertGroup, RoutingRule
from haetae.alerts.routing import Routed, route
from haetae.alerts.senders import AlertEvent
from haetae.drills import injection as drills
from haetae.incidents import lifecycle, resolution, transitions
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentDeclare
from haetae.incidents.service import declare_incident
from haetae.policy.routing import Rule
from haetae.policy.schema import Policy
from haetae.timeline import service as timeline


class IncidentLinkage:
    def __init__(self, session: Session, policy: Policy, now: datetime) -> None:
        self.session = session
        self.policy = policy
        self.now = now
        self._rules: list[Rule] | None = None
        self.groups: dict[str, AlertGroup] = {}

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

    # Filing a new alert

    def file(self, new: NewAlert) -> None:
        """Route a new alert and, unless its rule only records it, file it under its group and
        the group's incident."""
        current, event, sender = new.alert, new.event, new.sender
        routed = route(self.rules, self.policy.routing.default, self.policy, event, sender)
        current.values |= {
            "rule": routed.rule.name,
            "service": routed.service,
            "severity": routed.severity,
        }
        if routed.rule.action != "record":
            self._link(current, event, sender, routed)

    def _link(self, current: OpenAlert, event: AlertEvent, sender: Sender, routed: Routed) -> None:
        group = (
            self.groups.get(routed.group_key)
            or self.session.scalars(
                select(AlertGroup).where(AlertGroup.group_key == routed.group_key)
            ).first()
        )
        incident = self._incident_for(group, event, sender, routed)
        group = self._keep_group(group, incident, sender, routed)
        current.group_id = group.id
        current.incident_id = incident.id if incident is not None else None
        current.values |= {"group_id": group.id, "incident_id": current.incident_id}

    def _incident_for(
        self, group: AlertGroup | None, event: AlertEvent, sender: Sender, routed: Routed
    ) -> Incident | None:
        """The group's incident while it is open (back to work if it was monitoring), or
        reopened within the flap window; else a new one when the rule declares, none when it
        only attaches."""
        incident = None
        if group is not None and group.incident_id is not None:
            incident = self.session.get(Incident, group.incident_id)
        if incident is not None and incident.status in lifecycle.ACTIVE:
            if incident.status == "monitoring":
                self._move(incident.id, f"alert fired again: {event.summary}", sender)
            return incident
        if incident is not None and self._reopenable(incident, group):
            self._move(
                incident.id, f"alert fired again within the flap window: {event.summary}", sender
            )
            return incident
        if routed.rule.action == "declare":
            return self._declare(event, sender, routed)
        return None  # attach: only to an open incident of the group

    def _keep_group(
        self, group: AlertGroup | None, incident: Incident | None, sender: Sender, routed: Routed
    ) -> AlertGroup:
        """The group, made on its first alert, pointing at its incident and carrying its
        rule's settings for what the alerts resolving does."""
        rule = routed.rule
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
        return group

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
        actor = f"integration:{sender.name}"
        incident = declare_incident(
            self.session,
            self.policy,
            data,
            actor=actor,
            now=self.now,
            drill=drills.is_drill_integration(self.session, sender.id),
        )
        # A drill's own integration declares drill incidents (marked, kept out of metrics).
        drills.link_declared(self.session, sender.id, incident, actor=actor, now=self.now)
        return incident

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

    # After the alerts are written

    def record_attached(self, new: list[NewAlert]) -> None:
        """One timeline entry per incident for the new alerts filed under it."""
        by_incident: dict[str, list[NewAlert]] = defaultdict(list)
        for entry in new:
            if entry.alert.incident_id:
                by_incident[entry.alert.incident_id].append(entry)
        for incident_id, entries in by_incident.items():
            sender = entries[0].sender
            names = ", ".join(e.event.summary for e in entries[:5])
            more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
            timeline.record(
                self.session,
                incident_id,
                kind="alerts_attached",
                actor=f"integration:{sender.name}",
                at=self.now,
                summary=f"{len(entries)} alert(s) from {sender.name}: {names}{more}",
                alerts=[e.alert.id for e in entries],
                dedup_keys=[e.event.dedup_key for e in entries],
            )

    def follow(self, *, acknowledged: dict[str, str], resolved: dict[str, str]) -> None:
        """Incidents follow their alerts: acknowledged with them, and moved on as their rule
        says once every alert of theirs has resolved (incident -> actor in each)."""
        for incident_id, actor in acknowledged.items():
            transitions.acknowledge(self.session, incident_id, by=actor, now=self.now)
        for incident_id, actor in resolved.items():
            self._settle_if_all_resolved(incident_id, actor)

    def _settle_if_all_resolved(self, incident_id: str, actor: str) -> None:
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
            unmet = [c.text for c in resolution.unmet(self.session, self.policy, incident)]
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
            summary=lifecycle.RESOLVED_BY_ALERTS if to == "resolved" else None,
            actor=actor,
            now=self.now,
            acknowledges=False,  # an automatic move is nobody's acknowledgement
        )
