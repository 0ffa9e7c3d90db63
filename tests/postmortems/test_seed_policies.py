"""Each seed policy's postmortem: and board: sections, and a post-mortem written under one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from haetae.errors import HaetaeError
from haetae.incidents import roles, transitions
from haetae.incidents import service as incidents
from haetae.incidents.schemas import IncidentDeclare
from haetae.policy.loader import load_policy_file
from haetae.postmortems import queries, service
from haetae.postmortems.schemas import PostmortemEdit

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


def _seed(name: str):
    return load_policy_file(REPO / "policies" / name)


@pytest.mark.parametrize(
    ("name", "required", "expedite", "deadlines"),
    [
        ("seed-000-sev0-3.yaml", ["Sev0", "Sev1"], ["Sev0", "Sev1"], {"published": "48h"}),
        ("seed-002-p0-p3.yaml", ["P0", "P1"], ["P0", "P1"], {"draft": "24h", "published": "48h"}),
        (
            "seed-003-critical-major-minor.yaml",
            ["Critical", "Major"],
            ["Critical"],
            {"draft": "24h", "meeting": None, "published": "48h"},
        ),
        (
            "seed-004-sev1-3.yaml",
            ["SEV-1", "SEV-2"],
            ["SEV-1"],
            {"draft": "24h", "published": "48h"},
        ),
    ],
)
def test_each_seed_policy_names_its_postmortem_and_board(name, required, expedite, deadlines):
    policy = _seed(name)
    assert policy.postmortem.required_severities == required
    assert policy.board.expedite_severities == expedite
    assert {d.id: d.within for d in policy.postmortem.deadlines} == deadlines


def test_seed_003_has_its_report_and_follow_up_sections_in_korean():
    sections = {
        s.id: s.title
        for s in queries.policy_sections(_seed("seed-003-critical-major-minor.yaml"), "ko")
    }
    assert sections["basic"] == "기본 정보"
    assert sections["summary"] == "장애 현상"
    assert sections["five_whys"] == "원인 분석"
    assert sections["timeline"] == "조치 내용"
    assert sections["measures"] == "재발 방지 대책"
    assert [sections[k] for k in ("system_improvement", "monitoring", "process_improvement")] == [
        "시스템 개선 계획",
        "모니터링 강화",
        "운영 프로세스 개선",
    ]


def test_seed_004_step_5_sections():
    titles = [s.title for s in queries.policy_sections(_seed("seed-004-sev1-3.yaml"), "ko")]
    for title in ("타임라인", "근본 원인", "예방 조치", "SLO/오류 예산 상태", "백로그 우선순위"):
        assert title in titles


def test_a_seed_002_postmortem_lists_its_template_and_keeps_its_own_sections(db):
    policy = _seed("seed-002-p0-p3.yaml")
    with db.session() as session:
        inc = incidents.declare_incident(
            session,
            policy,
            IncidentDeclare(title="DB down", severity="P0", severity_reason="server down"),
            actor="alice",
            now=T0,
        )
        roles.assign_role(
            session, policy, inc.id, role="ic", assignee="alice", actor="alice", now=T0
        )
        transitions.transition(
            session,
            policy,
            inc.id,
            to="resolved",
            reason="checked by hand",
            actor="alice",
            now=T0 + timedelta(minutes=45),
            override_conditions=True,
            summary="Failed over to the replica",
        )
        session.flush()
        view = queries.view(session, policy, inc.id, now=T0 + timedelta(hours=1))
        titles = [s.title for s in view.sections]
        assert titles[:3] == ["Basic information", "Summary", "Timeline"]
        for title in (
            "Root Cause Analysis - What went wrong?",
            "Why did it happen?",
            "Impact Assessment",
            "SLA breach",
            "What went well?",
            "What could be improved?",
            "Action Items",
            "Lessons Learned",
        ):
            assert title in titles
        # P0's 30-minute recovery target, resolved after 45: "SLA breach: 15 minutes".
        assert view.durations.minutes_past_target == 15
        assert view.started_by == "system"
    # seed 002 has no sections of its own: `custom` takes none.
    with db.session() as session, pytest.raises(HaetaeError, match="custom"):
        service.edit(
            session,
            policy,
            inc.id,
            PostmortemEdit(custom={"training": "x"}),
            by="alice",
            now=T0 + timedelta(hours=2),
        )


def test_seed_000_keeps_its_training_plan_as_a_section_of_its_own(db):
    policy = _seed("seed-000-sev0-3.yaml")
    with db.session() as session:
        inc = incidents.declare_incident(
            session,
            policy,
            IncidentDeclare(title="Login fails", severity="Sev2", severity_reason="login only"),
            actor="alice",
            now=T0,
        )
        service.start(session, policy, inc.id, by="alice", now=T0)
        service.edit(
            session,
            policy,
            inc.id,
            PostmortemEdit(custom={"training": "테이블톱 연습에 로그인 장애 시나리오 추가"}),
            by="alice",
            now=T0,
        )
        session.flush()
        view = queries.view(session, policy, inc.id, now=T0, locale="ko")
    assert view.custom == {"training": "테이블톱 연습에 로그인 장애 시나리오 추가"}
    assert "교훈 반영 훈련 계획" in [s.title for s in view.sections]
    assert [d.id for d in view.deadlines] == ["published"]
