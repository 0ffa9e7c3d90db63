"""The demo's twelve weeks of past incidents, so the Reports page has trends, distributions and
counts to draw: declared by hand or opened by an alert, acknowledged, worked and resolved (a few
canceled, a few recurrences) through the incident services with the clock moved back."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.alerts.integrations import Sender
from haetae.alerts.models import Alert
from haetae.alerts.pipeline import Job, apply_jobs
from haetae.alerts.senders import key_from, parse_alertmanager
from haetae.cases import service as cases
from haetae.incidents import activity, roles, transitions
from haetae.incidents import resolution as resolution_gate
from haetae.incidents import service as incidents
from haetae.incidents.roles import current_roles
from haetae.incidents.schemas import IncidentDeclare, StatusUpdateIn
from haetae.policy.routing import SENDER_SEVERITIES
from haetae.policy.schema import Policy

WEEKS = 12
# What went wrong, per service: (service, category index, title, alert name).
TROUBLES = [
    ("payments-api", 0, "결제 승인 지연 (Payment approvals slow)", "PaymentLatencyHigh"),
    ("payments-api", 5, "PG 응답 오류 증가 (PG errors rising)", "PgErrorRate"),
    ("checkout", 1, "장바구니 저장 실패 (Cart saves failing)", "CheckoutErrors"),
    ("checkout", 2, "배포 후 주문 오류 (Order errors after a deploy)", "OrderErrorRate"),
    ("search", 4, "검색 응답 지연 (Search latency above 2 s)", "SearchLatency"),
    ("web", 1, "웹 페이지 5xx (Web 5xx responses)", "WebErrors"),
    ("auth", 0, "로그인 실패 증가 (Logins failing)", "AuthFailures"),
    ("auth", 3, "비정상 로그인 시도 (Unusual sign-in attempts)", "SuspiciousLogins"),
]
# Severity weights from the most to the least severe: most incidents are minor.
SEVERITY_WEIGHTS = (1, 3, 5, 4)
PEOPLE = ("minji", "jun", "seoyeon", "hana")


@dataclass(frozen=True)
class Past:
    """One past incident's plan: when it began and how long each step took, in minutes."""

    at: datetime  # detected (declared, or its alert arrived)
    trouble: int
    severity: str
    by_alert: bool
    detect: float  # started -> detected
    ack: float  # detected -> acknowledged
    mitigate: float  # detected -> monitoring
    resolve: float  # detected -> resolved
    canceled: bool


def plan(policy: Policy, now: datetime, seed: int = 12) -> list[Past]:
    """The same history for the same `now`: four to six incidents a week, oldest first."""
    rng = random.Random(seed)
    ids = [s.id for s in policy.severities]
    weights = [SEVERITY_WEIGHTS[min(i, len(SEVERITY_WEIGHTS) - 1)] for i in range(len(ids))]
    plans: list[Past] = []
    for week in range(WEEKS, 0, -1):
        for _ in range(rng.randint(4, 6)):
            at = now - timedelta(weeks=week) + timedelta(minutes=rng.randint(0, 7 * 24 * 60))
            rank = rng.choices(range(len(ids)), weights=weights)[0]
            # Lower ranks are faster; later weeks a little faster (seed 004: shorten MTTD/MTTR).
            pace = (0.6 + 0.2 * rank) * (0.7 + 0.6 * week / WEEKS)
            mitigate = rng.lognormvariate(3.0, 0.6) * pace
            plans.append(
                Past(
                    at=at,
                    trouble=rng.randrange(len(TROUBLES)),
                    severity=ids[rank],
                    by_alert=rng.random() < 0.4,
                    detect=rng.lognormvariate(1.2, 0.8) * pace,
                    ack=rng.lognormvariate(1.0, 0.7) * pace,
                    mitigate=mitigate,
                    resolve=mitigate + rng.lognormvariate(2.5, 0.7) * pace,
                    canceled=rng.random() < 0.05,
                )
            )
    return sorted(plans, key=lambda p: p.at)


def seed_history(session: Session, policy: Policy, sender: Sender, now: datetime) -> list[str]:
    """The past incidents; returns their ids, oldest first. Their post-mortems are not asked
    for: the demo's post-mortem list and board show the recent ones written up in full."""
    quiet = policy.model_copy(
        update={"postmortem": policy.postmortem.model_copy(update={"required_severities": []})}
    )
    made: list[str] = []
    by_trouble: dict[int, str] = {}
    for n, past in enumerate(plan(policy, now)):
        incident_id = _open(session, quiet, sender, past, n)
        responder = PEOPLE[n % len(PEOPLE)]
        if past.canceled:
            transitions.transition(
                session,
                quiet,
                incident_id,
                to="canceled",
                reason="오탐 (false alarm)",
                actor=responder,
                now=past.at + _m(past.ack),
            )
            if past.by_alert:
                _alert(session, quiet, sender, past, n, status="resolved")
        else:
            _work(session, quiet, incident_id, past, responder)
            if past.by_alert:
                _alert(session, quiet, sender, past, n, status="resolved")
            earlier = by_trouble.get(past.trouble)
            # The same trouble again within a few weeks: the team marks it a recurrence.
            if earlier is not None and n % 6 == 0:
                cases.mark_recurrence(
                    session,
                    incident_id,
                    of=earlier,
                    actor=responder,
                    now=past.at + _m(past.resolve + 5),
                )
            by_trouble[past.trouble] = incident_id
        made.append(incident_id)
    return made


def _open(session: Session, policy: Policy, sender: Sender, past: Past, n: int) -> str:
    """Declared by hand, or opened by its alert through the ingest pipeline."""
    service, category, title, _ = TROUBLES[past.trouble]
    if past.by_alert:
        fingerprint = _alert(session, policy, sender, past, n, status="firing")
        opened = session.scalar(
            select(Alert.incident_id)
            .where(Alert.integration_id == sender.id, Alert.dedup_key == fingerprint)
            .order_by(Alert.id.desc())
            .limit(1)
        )
        if opened is not None:  # its severity is what the policy's routing made of the alert
            return opened
    declared = incidents.declare_incident(
        session,
        policy,
        IncidentDeclare(
            title=title,
            services=[service],
            category=_category(policy, category),
            environment="production",
            severity=past.severity,
            severity_reason="과거 기록 (from the team's records)",
            started_at=past.at - _m(past.detect),
        ),
        actor=PEOPLE[n % len(PEOPLE)],
        now=past.at,
    )
    return declared.id


def _alert(
    session: Session, policy: Policy, sender: Sender, past: Past, n: int, *, status: str
) -> str:
    """The alert that opened (or, resolved, closes) a past incident; returns its fingerprint."""
    service, _, title, alertname = TROUBLES[past.trouble]
    labels = {
        "alertname": alertname,
        "service": service,
        "severity": _sender_severity(policy, past.severity),
        "instance": f"{service}-{n}:8080",
    }
    started = past.at - _m(past.detect)
    ended = past.at + _m(past.resolve)
    body = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "status": status,
        "truncatedAlerts": 0,
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": title},
                "startsAt": _iso(started),
                "endsAt": _iso(ended) if status == "resolved" else "0001-01-01T00:00:00Z",
                "fingerprint": key_from(labels),
            }
        ],
    }
    at = ended if status == "resolved" else past.at
    delivery = parse_alertmanager(body, max_items=10)
    apply_jobs(session, policy, [Job(sender, delivery.events)], now=at)
    return key_from(labels)


def _work(session: Session, policy: Policy, incident_id: str, past: Past, who: str) -> None:
    """Acknowledged, an update, mitigated, the resolution conditions met, resolved."""
    transitions.acknowledge(session, incident_id, by=who, now=past.at + _m(past.ack))
    incident = incidents.get_incident(session, incident_id)
    sev = policy.severity(incident.severity)
    step = past.at + _m(past.ack + 1)
    for cond in sev.resolution_conditions if sev else []:
        if cond.kind == "roles_assigned":
            for role in cond.roles:
                if role not in current_roles(session, incident_id):
                    roles.assign_role(
                        session, policy, incident_id, role=role, assignee=who, actor=who, now=step
                    )
    if sev is None or any(c.kind == "update_posted" for c in sev.resolution_conditions):
        activity.post_update(
            session,
            policy,
            incident_id,
            StatusUpdateIn(situation=incident.title, progress="원인 분석 중 (investigating)"),
            author=who,
            now=past.at + _m(past.ack + 3),
        )
    transitions.transition(
        session,
        policy,
        incident_id,
        to="monitoring",
        reason="조치 완료, 관찰 중 (fix in place)",
        actor=who,
        now=past.at + _m(max(past.mitigate, past.ack + 4)),
    )
    done = past.at + _m(max(past.resolve, past.ack + 5))
    for cond in sev.resolution_conditions if sev else []:
        if cond.kind == "manual":
            resolution_gate.check_condition(
                session, policy, incident_id, cond.id, by=who, note="", now=done
            )
    transitions.transition(
        session,
        policy,
        incident_id,
        to="resolved",
        reason="복구 (recovered)",
        summary="복구 확인 (recovery confirmed)",
        actor=who,
        now=done,
    )


def _sender_severity(policy: Policy, severity: str) -> str:
    """The alert severity label a monitoring rule gives a trouble of this rank."""
    ids = [s.id for s in policy.severities]
    rank = ids.index(severity) if severity in ids else len(ids)
    return SENDER_SEVERITIES[min(rank, len(SENDER_SEVERITIES) - 1)]


def _category(policy: Policy, index: int) -> str | None:
    if not policy.categories:
        return None
    return policy.categories[min(index, len(policy.categories) - 1)].id


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)
