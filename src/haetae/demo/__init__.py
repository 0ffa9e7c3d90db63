"""Demo data for `haetae demo`: people, a key, twelve weeks of past incidents for the Reports
page, incidents in several states, post-mortems in each of their states, a follow-up board with
cards in every lane and column, a finished game day with its scorecard, and on the burning
incident a matched runbook half done, its first analysis, checklists under way and the
suspected release from the change feed (demo/response.py), and a status page with its
public incident and a maintenance window (demo/statuspage.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haetae.alerts.integrations import Sender, create_integration
from haetae.alerts.pipeline import Job, apply_jobs
from haetae.alerts.senders import key_from, parse_alertmanager
from haetae.auth import keys
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.clock import utcnow
from haetae.configfile.apply import apply_config
from haetae.configfile.schema import parse_config
from haetae.db import Database
from haetae.demo.drill import seed_drills
from haetae.demo.followup import category, seed_followup
from haetae.demo.history import seed_history
from haetae.demo.response import seed_response
from haetae.demo.statuspage import seed_statuspage
from haetae.incidents import activity, roles, transitions
from haetae.incidents import service as incidents
from haetae.incidents.schemas import DecisionIn, IncidentDeclare, NoteIn, StatusUpdateIn
from haetae.policy.schema import Policy

DEMO_PASSWORD = "haetae-demo"


def seed_demo(db: Database, policy: Policy) -> list[str]:
    """Seed once; returns the lines to print (empty when the data was already there)."""
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return []
        now = utcnow()
        auth.create_user(
            session,
            username="admin",
            password=DEMO_PASSWORD,
            role="admin",
            display_name="Admin",
            now=now,
        )
        auth.create_user(
            session,
            username="minji",
            password=DEMO_PASSWORD,
            role="responder",
            display_name="Kim Minji",
            locale="ko",
            now=now,
        )
        auth.create_user(
            session,
            username="viewer",
            password=DEMO_PASSWORD,
            role="viewer",
            display_name="Read Only",
            now=now,
        )
        _, key = keys.create_api_key(session, name="demo", role="admin", now=now)
        _demo_org(session, policy, now)
        integration, token = create_integration(
            session, name="demo-alertmanager", type="alertmanager", actor="demo", now=now
        )
        sender = Sender(integration.id, integration.name, integration.type)
        seed_history(session, policy, sender, now)
        if policy.impact_matrix is not None:
            _demo_incidents(session, policy, now)
            seed_followup(session, policy, now)
        seed_drills(session, policy, now)
        _demo_alerts(session, policy, sender, now)
    return [
        f"log in as admin / {DEMO_PASSWORD} (or minji, viewer with the same password)",
        f"admin API key (shown once): {key}",
        f"Alertmanager integration 'demo-alertmanager' token (shown once): {token}",
    ]


def _demo_org(session: Session, policy: Policy, now: datetime) -> None:
    """People, teams, the on-call schedule and services, applied as config as code."""
    text = resources.files("haetae").joinpath("demo_org.yaml").read_text(encoding="utf-8")
    apply_config(session, policy, parse_config(text, "demo_org.yaml"), actor="demo", now=now)


def _demo_alerts(session: Session, policy: Policy, sender: Sender, now: datetime) -> None:
    """A small storm the Alertmanager integration sent just now, through the real pipeline."""
    started = (now - timedelta(minutes=12)).isoformat().replace("+00:00", "Z")

    def alert(instance: str, summary: str) -> dict[str, object]:
        labels = {
            "alertname": "HighErrorRate",
            "service": "checkout-api",
            "severity": "critical",
            "instance": instance,
            "team": "결제팀",
        }
        return {
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": summary, "description": "5xx ratio above 5% for 5m"},
            "startsAt": started,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": key_from(labels),
        }

    body = {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate", service="checkout-api"}',
        "status": "firing",
        "truncatedAlerts": 0,
        "alerts": [
            alert(f"checkout-{i}:8080", f"checkout-{i}: 5xx 비율 급증 (error rate spike)")
            for i in range(1, 4)
        ],
    }
    delivery = parse_alertmanager(body, max_items=1000)
    apply_jobs(session, policy, [Job(sender, delivery.events)], now=now)


def _demo_incidents(session: Session, policy: Policy, now: datetime) -> None:
    assert policy.impact_matrix is not None
    business = [lv.id for lv in policy.impact_matrix.business_impact]
    users = [lv.id for lv in policy.impact_matrix.user_impact]
    t0 = now - timedelta(minutes=40)
    payments = incidents.declare_incident(
        session,
        policy,
        IncidentDeclare(
            title="Payments API returning 502",
            summary="Checkout fails for all users.",
            services=["payments-api", "checkout"],
            category=category(policy, 0),
            tags=["payment", "db-pool"],
            environment="production",
            business_impact=business[0],
            user_impact=users[-1],
        ),
        actor="minji",
        now=t0,
    )
    roles.assign_role(
        session,
        policy,
        payments.id,
        role=policy.roles[0].id,
        assignee="minji",
        actor="minji",
        now=t0 + timedelta(minutes=2),
    )
    transitions.transition(
        session,
        policy,
        payments.id,
        to="investigating",
        reason="on it",
        actor="minji",
        now=t0 + timedelta(minutes=3),
    )
    activity.post_update(
        session,
        policy,
        payments.id,
        StatusUpdateIn(
            situation="결제 API 502 응답 증가",
            impact="전체 결제 불가",
            progress="최근 배포 롤백 검토 중",
            eta="30분",
        ),
        author="minji",
        now=t0 + timedelta(minutes=5),
    )
    activity.record_decision(
        session,
        payments.id,
        DecisionIn(
            kind="technical",
            decision="Roll back release 2026.11.3",
            alternatives=["Hotfix forward", "Scale out"],
            reason="The errors began with the release",
        ),
        by="minji",
        now=t0 + timedelta(minutes=8),
    )
    activity.add_note(
        session,
        payments.id,
        NoteIn.model_validate(
            {
                "kind": "evidence",
                "body": "Error rate graph",
                "url": "https://grafana.example.com/d/payments",
            }
        ),
        author="minji",
        now=t0 + timedelta(minutes=9),
    )
    seed_response(session, policy, payments, now)
    seed_statuspage(session, policy, payments, now)

    search = incidents.declare_incident(
        session,
        policy,
        IncidentDeclare(
            title="Search latency above 3 s",
            services=["search"],
            category=category(policy, 4),
            environment="production",
            business_impact=business[1],
            user_impact=users[1],
        ),
        actor="admin",
        now=now - timedelta(hours=3),
    )
    transitions.transition(
        session,
        policy,
        search.id,
        to="monitoring",
        reason="index rebuilt",
        actor="admin",
        now=now - timedelta(hours=2),
    )

    typo = incidents.declare_incident(
        session,
        policy,
        IncidentDeclare(
            title="Typo on the settings page",
            services=["web"],
            business_impact=business[-1],
            user_impact=users[0],
        ),
        actor="admin",
        now=now - timedelta(days=1),
    )
    transitions.transition(
        session,
        policy,
        typo.id,
        to="resolved",
        reason="fixed in next release",
        summary="Corrected the label text and released the settings page again.",
        actor="admin",
        now=now - timedelta(hours=20),
        override_conditions=False,
    )
