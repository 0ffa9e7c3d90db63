"""The demo's status page: its settings, two groups and four components linked to the demo's
services, a public incident for the burning P1 with two published updates in Korean and
English, a resolved one from last week, and a maintenance window next week."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from haetae.incidents.models import Incident
from haetae.policy.schema import Policy
from haetae.statuspage import components, service


def seed_statuspage(session: Session, policy: Policy, burning: Incident, now: datetime) -> None:
    week_ago = now - timedelta(days=7)
    page = service.settings(session, now=week_ago)
    page.title = {"en": "Haetae Pay status", "ko": "해태페이 서비스 상태"}
    page.support_url = "https://support.example.com"
    components.put_group(
        session, slug="payments", name={"en": "Payments", "ko": "결제"}, position=0, now=week_ago
    )
    components.put_group(
        session, slug="website", name={"en": "Website", "ko": "웹사이트"}, position=1, now=week_ago
    )
    made = {}
    for position, (slug, en, ko, group, services) in enumerate(
        (
            ("payments-api", "Payments API", "결제 API", "payments", ["payments-api"]),
            ("checkout", "Checkout", "결제 화면", "payments", ["checkout"]),
            ("search", "Search", "검색", "website", ["search"]),
            ("web", "Website", "웹사이트", "website", ["web"]),
        )
    ):
        made[slug] = components.put_component(
            session,
            slug=slug,
            name={"en": en, "ko": ko},
            group=group,
            services=services,
            position=position,
            by="demo",
            now=now - timedelta(days=90),
        )
    _last_week(session, policy, made["checkout"].id, week_ago)
    _burning(session, policy, burning, now)
    service.schedule_maintenance(
        session,
        title={"en": "Payments database upgrade", "ko": "결제 데이터베이스 업그레이드"},
        body={
            "en": "Payments may be slow for up to 10 minutes during the upgrade.",
            "ko": "업그레이드 중 최대 10분 동안 결제가 느려질 수 있습니다.",
        },
        start=now + timedelta(days=7),
        end=now + timedelta(days=7, hours=2),
        component_ids=[made["payments-api"].id],
        by="demo",
        now=now,
    )


def _burning(session: Session, policy: Policy, incident: Incident, now: datetime) -> None:
    """The P1 on fire: public since 30 minutes ago, last updated 15 minutes ago."""
    start = now - timedelta(minutes=32)
    public = service.open_public_incident(
        session,
        policy,
        incident_id=incident.id,
        title={"en": "Payments are failing", "ko": "결제 장애 발생"},
        impact="",
        components={},
        by="minji",
        now=start,
    )
    for minutes, status, en, ko in (
        (
            30,
            "investigating",
            "Card payments and checkout are failing for all users. We are investigating.",
            "현재 모든 사용자의 카드 결제 및 결제 화면에 장애가 발생했습니다. 원인을 조사하고 "
            "있습니다.",
        ),
        (
            15,
            "identified",
            "We found the cause in a recent release and are rolling it back. Next update in "
            "15 minutes.",
            "최근 배포에서 원인을 확인했으며 롤백 중입니다. 15분 후 다시 안내드리겠습니다.",
        ),
    ):
        at = now - timedelta(minutes=minutes)
        update = service.draft_update(
            session,
            policy,
            public,
            status=status,
            body={"en": en, "ko": ko},
            template=None,
            by="minji",
            now=at,
        )
        service.publish_update(session, policy, update, by="minji", now=at)


def _last_week(session: Session, policy: Policy, checkout_id: int, at: datetime) -> None:
    """A resolved public incident from last week, standing alone."""
    public = service.open_public_incident(
        session,
        policy,
        incident_id=None,
        title={"en": "Slow checkout", "ko": "결제 화면 지연"},
        impact="minor",
        components={checkout_id: "degraded_performance"},
        by="minji",
        now=at,
    )
    for minutes, status, en, ko in (
        (
            0,
            "investigating",
            "Checkout is slower than usual. We are looking into it.",
            "결제 화면이 평소보다 느립니다. 확인 중입니다.",
        ),
        (
            45,
            "resolved",
            "Checkout is back to normal speed. We are sorry for the inconvenience.",
            "결제 화면 속도가 정상화되었습니다. 이용에 불편을 드려 죄송합니다.",
        ),
    ):
        when = at + timedelta(minutes=minutes)
        update = service.draft_update(
            session,
            policy,
            public,
            status=status,
            body={"en": en, "ko": ko},
            template=None,
            by="minji",
            now=when,
        )
        service.publish_update(session, policy, update, by="minji", now=when)
