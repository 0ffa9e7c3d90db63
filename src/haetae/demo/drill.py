"""The demo's drills: a finished game day (its synthetic alert sent through the ingest pipeline,
acknowledged, recovered, resolved, scored, with a TI- item on the board) and a chaos
experiment scheduled for next month, made through the drills services with the clock moved."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from haetae.alerts.integrations import Sender
from haetae.alerts.models import Integration
from haetae.alerts.pipeline import Job, apply_jobs
from haetae.alerts.senders import parse_alertmanager
from haetae.drills import injection, scorecard
from haetae.drills import service as drills
from haetae.drills.models import Drill
from haetae.drills.schemas import DrillIn, DrillItemIn, ScorecardIn
from haetae.incidents import activity, roles, transitions
from haetae.incidents import resolution as resolution_gate
from haetae.incidents import service as incidents
from haetae.incidents.roles import current_roles
from haetae.incidents.schemas import StatusUpdateIn
from haetae.policy.schema import Policy

GAME_DAY = DrillIn.model_validate(
    {
        "title": "결제 DB 장애 게임 데이 (Game day: the payments database fails over)",
        "kind": "game_day",
        "scenario": "결제 DB 주 노드가 응답하지 않는다. 알림으로 감지하고, 온콜이 런북대로 "
        "보조 노드로 전환한다. (The primary payments database stops answering; on-call "
        "detects it from the alert and fails over by the runbook.)",
        "services": ["payments-api"],
        "participants": ["minji", "jun", "hana", "taeyang"],
        "max_duration": "90m",
        "inject": [
            {
                "labels": {
                    "alertname": "PaymentsDbDown",
                    "severity": "critical",
                    "service": "payments-api",
                },
                "annotations": {"summary": "결제 DB 주 노드 응답 없음 (primary not answering)"},
                "after_seconds": 60,
            }
        ],
    }
)
CHAOS = DrillIn.model_validate(
    {
        "title": "Redis 세션 노드 장애 주입 (Chaos: kill a Redis session node)",
        "kind": "chaos",
        "services": ["checkout"],
        "participants": ["seoyeon", "jun"],
        "max_duration": "30m",
        "chaos": {
            "name": "Redis 세션 노드 종료 (Kill one Redis session node)",
            "hypothesis": "노드 하나가 죽어도 로그인 세션은 유지된다 (sessions survive losing "
            "one node).",
            "target": "checkout 세션 저장소 (the checkout session store), staging",
            "fault_type": "프로세스 종료 (process kill)",
            "kill_switch": "chaos 작업 중지 후 노드 재시작 (stop the job, restart the node)",
            "success_criteria": "로그인 실패율 1% 미만, 5분 안에 복구 (login failures under 1%, "
            "recovered within 5 minutes)",
        },
    }
)


def seed_drills(session: Session, policy: Policy, now: datetime) -> Drill:
    """The finished game day (returned) and the chaos experiment planned for next month."""
    today = now.astimezone(policy.zone).date()
    t0 = now - timedelta(days=9, hours=3)
    # Played as the worst kind of outage, as its alert (severity=critical) is routed.
    played = GAME_DAY.model_copy(update={"severity": policy.severities[0].id})
    game = drills.create_drill(session, policy, played, by="taeyang", now=t0 - timedelta(days=7))
    drills.start_drill(session, policy, game, by="taeyang", now=t0)
    # The worker's injection, run in-process: the alert goes through the same pipeline
    # /ingest/alertmanager feeds, from the drill's own integration, so it declares the drill's
    # incident. Alertmanager's grouping delay puts detection a few minutes after the fault.
    sent = injection.take_due(session, game, code=drills.code(game), now=t0 + _m(1))
    assert sent is not None and game.integration_id is not None
    integration = session.get(Integration, game.integration_id)
    assert integration is not None
    sender = Sender(integration.id, integration.name, integration.type)
    delivery = parse_alertmanager(sent.payload, max_items=10)
    apply_jobs(session, policy, [Job(sender, delivery.events)], now=t0 + _m(4))
    incident_id = game.incident_id
    assert incident_id is not None, "the drill's alert declared no incident"

    transitions.acknowledge(session, incident_id, by="minji", now=t0 + _m(7))
    transitions.transition(
        session, policy, incident_id, to="investigating", reason=None, actor="minji", now=t0 + _m(8)
    )
    activity.post_update(
        session,
        policy,
        incident_id,
        StatusUpdateIn(
            situation="[훈련] 결제 DB 주 노드 응답 없음 ([DRILL] payments DB primary down)",
            progress="런북대로 보조 노드 전환 중 (failing over by the runbook)",
        ),
        author="minji",
        now=t0 + _m(12),
    )
    transitions.transition(
        session,
        policy,
        incident_id,
        to="monitoring",
        reason="보조 노드로 전환 완료 (failed over)",
        actor="minji",
        now=t0 + _m(27),
    )
    _meet_conditions(session, policy, incident_id, who="minji", at=t0 + _m(35))
    # A drill is written up in its scorecard: its resolution starts no post-mortem.
    transitions.transition(
        session,
        policy,
        incident_id,
        to="resolved",
        reason="훈련 복구 확인 (recovery confirmed)",
        summary="보조 노드 전환으로 복구 (recovered by failing over)",
        actor="minji",
        now=t0 + _m(36),
    )
    drills.end_drill(session, policy, game, by="taeyang", now=t0 + _m(40), reason="completed")
    scorecard.update(
        session,
        game,
        ScorecardIn(
            communication="adequate",
            communication_note="12분에 첫 상황 공유 (first update at 12 minutes)",
            runbook="partly_wrong",
            runbook_note="3단계의 전환 명령이 예전 클러스터 이름을 쓴다 (step 3 names the old "
            "cluster)",
            assessment="감지와 전환은 목표 안에 들어왔다. 런북 3단계를 고치고 다음 분기에 다시 "
            "한다. (Detection and failover met their targets; fix step 3 of the runbook and "
            "run it again next quarter.)",
        ),
        now=t0 + _m(60),
    )
    scorecard.add_item(
        session,
        policy,
        game,
        DrillItemIn(
            title="DB 전환 런북 3단계 갱신 (Update step 3 of the DB failover runbook)",
            owner="hana",
            due_date=today + timedelta(days=5),
            priority="high",
        ),
        by="taeyang",
        now=t0 + _m(65),
    )
    planned = CHAOS.model_copy(update={"scheduled_at": now + timedelta(days=20)})
    drills.create_drill(session, policy, planned, by="seoyeon", now=now - timedelta(days=1))
    return game


def _meet_conditions(
    session: Session, policy: Policy, incident_id: str, *, who: str, at: datetime
) -> None:
    """The drill's incident is resolved the way the policy asks of a real one."""
    incident = incidents.get_incident(session, incident_id)
    sev = policy.severity(incident.severity)
    for cond in sev.resolution_conditions if sev else []:
        if cond.kind == "roles_assigned":
            for role in cond.roles:
                if role not in current_roles(session, incident_id):
                    roles.assign_role(
                        session, policy, incident_id, role=role, assignee=who, actor=who, now=at
                    )
        elif cond.kind == "manual":
            resolution_gate.check_condition(
                session, policy, incident_id, cond.id, by=who, note="", now=at
            )


def _m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)
