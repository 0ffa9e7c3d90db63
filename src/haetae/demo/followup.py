"""The demo's follow-up: post-mortems in each state and a board with cards in every lane and
column, made through the post-mortem and action item services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from haetae.actions import service as actions
from haetae.actions.models import ActionItem
from haetae.demo.writeups import BATCH_TEXT, PG_TEXT
from haetae.errors import HaetaeError
from haetae.incidents import activity, roles, transitions
from haetae.incidents import resolution as resolution_gate
from haetae.incidents import service as incidents
from haetae.incidents.roles import current_roles
from haetae.incidents.schemas import DecisionIn, IncidentDeclare, StatusUpdateIn
from haetae.policy.schema import Policy
from haetae.postmortems import queries as postmortem_queries
from haetae.postmortems import service as postmortems
from haetae.postmortems.models import Postmortem
from haetae.postmortems.queries import IC_ROLE
from haetae.postmortems.schemas import KeyEventIn, MeasureIn, PostmortemEdit


def seed_followup(session: Session, policy: Policy, now: datetime) -> None:
    """A P1 with a published post-mortem, a P2 whose post-mortem is in review, a P2 resolved
    three hours ago with its draft started by itself, an active P4 in the board's backlog, and
    action items in every column: overdue, Fixed Date and Expedite ones among them."""
    assert policy.impact_matrix is not None
    business = [lv.id for lv in policy.impact_matrix.business_impact]
    users = [lv.id for lv in policy.impact_matrix.user_impact]
    today = now.astimezone(policy.zone).date()
    review = "review" if "review" in policy.board.columns else "in_progress"

    # A P1 six days ago: responded to, resolved, written up, reviewed and published.
    a = now - timedelta(days=6)
    pg = _resolved_incident(
        session,
        policy,
        IncidentDeclare(
            title="PG 승인 타임아웃으로 카드 결제 실패 (Card payments failing on PG timeouts)",
            summary="카드 결제 승인 실패 급증. Card payment approvals failing.",
            services=["payments-api"],
            category=category(policy, 0),
            tags=["payment", "pg"],
            environment="production",
            business_impact=business[0],
            user_impact=users[-1],
            started_at=a - timedelta(minutes=4),
        ),
        ic="minji",
        at=a,
        minutes=85,
        decision=DecisionIn(
            kind="technical",
            decision="Revert the retry setting and move card traffic to the secondary PG",
            alternatives=["Wait for the PG to recover", "Raise the timeout to 10 s"],
            reason="The PG could not say when it would recover; the secondary has headroom",
        ),
        resolution="재시도 설정 원복, 보조 PG로 전환. Reverted retries, failed over to the "
        "secondary PG.",
    )
    pm = _postmortem(session, policy, pg, by="minji", at=a + timedelta(hours=20), text=PG_TEXT)
    session.flush()
    extra = KeyEventIn(
        at=a + timedelta(minutes=15),
        text="PG사 상태 페이지에 승인 지연 공지 (The PG posts a latency notice)",
        note="우리 쪽 재시도가 지연을 키웠다 (our retries made it worse)",
    )
    picks = [KeyEventIn(event_id=e["event_id"]) for e in pm.key_events if e.get("event_id")]
    postmortems.edit(
        session,
        policy,
        pg,
        PostmortemEdit(key_events=[*picks, extra]),
        by="minji",
        now=a + timedelta(hours=20),
    )
    written = a + timedelta(hours=21)
    measures = [
        (
            "PG 타임아웃·재시도에 backoff 적용 (Retries with backoff and a 5 s budget)",
            "jun",
            "short",
            a.date() + timedelta(days=3),
            "high",
            None,
            "done",
        ),
        (
            "결제 승인 p99 지연 알림 추가 (Alert on approval p99 latency)",
            "seoyeon",
            "short",
            a.date() + timedelta(days=5),
            "high",
            None,
            "done",
        ),
        (
            "PG 전환 런북 갱신, 전환 권한 2명 이상 (Update the failover runbook; two people can "
            "switch)",
            "minji",
            "short",
            today - timedelta(days=2),
            "high",
            "standard",
            "in_progress",
        ),
        (
            "보조 PG 자동 전환 (Automatic failover to the secondary PG)",
            "minji",
            "mid",
            None,
            "high",
            None,
            "in_progress",
        ),
        (
            "배포 파이프라인에 PG 부하 테스트 추가 (Load test against the PG in the pipeline)",
            "hana",
            "mid",
            None,
            "medium",
            "standard",
            review,
        ),
        (
            "분기별 PG 전환 훈련 (Quarterly PG failover drill)",
            "taeyang",
            "long",
            today + timedelta(days=45),
            "medium",
            "fixed_date",
            "backlog",
        ),
    ]
    items = [
        postmortems.add_measure(
            session,
            policy,
            pg,
            MeasureIn(
                title=title,
                owner=owner,
                term=term,
                due_date=due,
                priority=priority,
                class_of_service=cls,
            ),
            by="minji",
            now=written,
        )
        for title, owner, term, due, priority, cls, _ in measures
    ]
    postmortems.submit(session, policy, pg, reviewers=["taeyang"], by="minji", now=written)
    postmortems.review(
        session,
        policy,
        pg,
        verdict="approved",
        comment="원인이 사람이 아니라 절차에 있다는 점이 잘 드러났습니다. Clear and blameless.",
        by="taeyang",
        now=a + timedelta(hours=26),
    )
    more = max(policy.postmortem.approvals_required - 1, 0)
    for reviewer in ["jaewon", "hana", "seoyeon"][:more]:
        postmortems.add_reviewers(
            session, policy, pg, [reviewer], by="minji", now=a + timedelta(hours=26)
        )
        postmortems.review(
            session, policy, pg, verdict="approved", by=reviewer, now=a + timedelta(hours=27)
        )
    postmortems.publish(session, policy, pg, by="minji", now=a + timedelta(hours=28))
    postmortems.meeting(
        session,
        policy,
        pg,
        at=a + timedelta(days=2),
        held=True,
        by="minji",
        now=a + timedelta(days=2),
    )
    for item, (*_, column) in zip(items, measures, strict=True):
        _move_along(
            session, policy, item, column, by=item.owner or "minji", now=a + timedelta(days=3)
        )

    # A P2 resolved yesterday: its post-mortem waits for minji's review.
    b = now - timedelta(days=1, hours=3)
    batch = _resolved_incident(
        session,
        policy,
        IncidentDeclare(
            title="Settlement batch finished 2 h late (정산 배치 지연)",
            services=["payments-api"],
            category=category(policy, 2),
            tags=["batch"],
            environment="production",
            business_impact=business[0],
            user_impact=users[1],
        ),
        ic="hana",
        at=b,
        minutes=180,
        decision=None,
        resolution="Batch completed; merchants notified.",
    )
    _postmortem(session, policy, batch, by="hana", at=now - timedelta(hours=3), text=BATCH_TEXT)
    for title, owner, term, cls, column in (
        ("Alert when the settlement batch runs past 06:00", "jun", "short", None, "backlog"),
        ("Make the settlement batch resumable", "seoyeon", "mid", "standard", "in_progress"),
    ):
        item = postmortems.add_measure(
            session,
            policy,
            batch,
            MeasureIn(title=title, owner=owner, term=term, class_of_service=cls),
            by="hana",
            now=now - timedelta(hours=3),
        )
        _move_along(session, policy, item, column, by=owner, now=now - timedelta(hours=2))
    postmortems.submit(
        session, policy, batch, reviewers=["minji"], by="hana", now=now - timedelta(hours=2)
    )

    # A P2 resolved three hours ago: its draft started by itself, for minji to write.
    c = now - timedelta(hours=5)
    login = _resolved_incident(
        session,
        policy,
        IncidentDeclare(
            title="로그인 세션 조기 만료 (Sessions expiring early after a Redis failover)",
            summary="Users are signed out every few minutes.",
            services=["checkout"],
            category=category(policy, 1),
            tags=["login", "redis"],
            environment="production",
            business_impact=business[0],
            user_impact=users[1],
        ),
        ic="minji",
        at=c,
        minutes=120,
        decision=None,
        resolution="세션 저장소 TTL 설정 복구. Restored the session store's TTL setting.",
    )
    if postmortem_queries.find(session, login) is None:  # a policy that does not require one
        postmortems.start(session, policy, login, by="minji", now=now)

    # An active P4 waits in the board's backlog (seed 001 7.1).
    incidents.declare_incident(
        session,
        policy,
        IncidentDeclare(
            title="영수증 메일 하단 링크 오류 (Broken footer link in receipt e-mails)",
            services=["checkout"],
            business_impact=business[-1],
            user_impact=users[0],
        ),
        actor="seoyeon",
        now=now - timedelta(hours=4),
    )

    # Follow-ups that belong to no incident.
    actions.create_item(
        session,
        policy,
        title="pay.example.com TLS 인증서 갱신 (Renew the TLS certificate)",
        by="hana",
        now=now - timedelta(days=2),
        owner="hana",
        due_date=today + timedelta(days=20),
        priority="high",
        class_of_service="fixed_date",
    )
    handoff = actions.create_item(
        session,
        policy,
        title="온콜 핸드오프 체크리스트 개정 (Revise the on-call hand-off checklist)",
        by="taeyang",
        now=now - timedelta(days=2),
        owner="taeyang",
        due_date=today + timedelta(days=10),
        priority="low",
    )
    _move_along(session, policy, handoff, "in_progress", by="taeyang", now=now - timedelta(days=1))


def _resolved_incident(
    session: Session,
    policy: Policy,
    declared: IncidentDeclare,
    *,
    ic: str,
    at: datetime,
    minutes: int,
    decision: DecisionIn | None,
    resolution: str,
) -> str:
    """An incident worked the way the policy asks (IC, an update, the resolution conditions
    confirmed) and resolved `minutes` after `at`; resolving starts its post-mortem when the
    policy requires one."""
    incident = incidents.declare_incident(session, policy, declared, actor=ic, now=at)
    roles.assign_role(
        session, policy, incident.id, role=IC_ROLE, assignee=ic, actor=ic, now=at + _m(3)
    )
    transitions.transition(
        session, policy, incident.id, to="investigating", reason="on it", actor=ic, now=at + _m(4)
    )
    activity.post_update(
        session,
        policy,
        incident.id,
        StatusUpdateIn(situation=declared.summary or declared.title, progress="원인 분석 중"),
        author=ic,
        now=at + _m(10),
    )
    if decision is not None:
        activity.record_decision(session, incident.id, decision, by=ic, now=at + _m(20))
    transitions.transition(
        session,
        policy,
        incident.id,
        to="monitoring",
        reason="지표 회복 관찰 중 (watching the metrics recover)",
        actor=ic,
        now=at + _m(minutes - 35),
    )
    sev = policy.severity(incident.severity)
    for cond in sev.resolution_conditions if sev else []:
        if cond.kind == "roles_assigned":
            for role in cond.roles:
                if role not in current_roles(session, incident.id):
                    roles.assign_role(
                        session,
                        policy,
                        incident.id,
                        role=role,
                        assignee=ic,
                        actor=ic,
                        now=at + _m(minutes - 2),
                    )
        elif cond.kind == "manual":
            resolution_gate.check_condition(
                session, policy, incident.id, cond.id, by=ic, note="", now=at + _m(minutes - 1)
            )
    transitions.transition(
        session,
        policy,
        incident.id,
        to="resolved",
        reason="recovered",
        summary=resolution,
        actor=ic,
        now=at + _m(minutes),
    )
    return incident.id


def _postmortem(
    session: Session,
    policy: Policy,
    incident_id: str,
    *,
    by: str,
    at: datetime,
    text: dict[str, Any],
) -> Postmortem:
    """The incident's post-mortem (started on resolve, or now by `by`) with `text` written in."""
    pm = postmortem_queries.find(session, incident_id)
    if pm is None:
        pm = postmortems.start(session, policy, incident_id, by=by, now=at)
    return postmortems.edit(
        session, policy, incident_id, PostmortemEdit.model_validate(text), by=by, now=at
    )


def _move_along(
    session: Session, policy: Policy, item: ActionItem, column: str, *, by: str, now: datetime
) -> None:
    """Walk a card from the backlog to `column` one column at a time, as a team would; a
    policy whose WIP limits leave no room keeps it where it stopped."""
    columns: list[str] = list(policy.board.columns)
    for step in columns[columns.index(item.column) + 1 : columns.index(column) + 1]:
        try:
            actions.move(session, policy, item, column=step, by=by, now=now)
        except HaetaeError as refused:
            if refused.code != "WIP_LIMIT_REACHED":
                raise
            return


def _m(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


def category(policy: Policy, index: int) -> str | None:
    """The policy's `index`-th category (or its last), for a demo incident."""
    if not policy.categories:
        return None
    return policy.categories[min(index, len(policy.categories) - 1)].id
