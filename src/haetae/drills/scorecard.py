"""A drill's scorecard (seed 001 8.3): detection, escalation and recovery time measured from
the drill's incident, communication and runbook accuracy judged by people, the participants,
the overall assessment and the improvement items (TI-NNN); and its Markdown export."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.actions.models import ActionItem
from haetae.actions.service import code as item_code
from haetae.actions.service import create_item
from haetae.drills.models import Drill
from haetae.drills.schemas import (
    DrillItemIn,
    DrillItemOut,
    JudgedRow,
    ScorecardIn,
    ScorecardOut,
    ScoreRow,
)
from haetae.drills.service import code
from haetae.incidents.models import Incident, StatusUpdate
from haetae.policy.schema import Policy
from haetae.runbooks import queries as runbooks

# (row, English, Korean): seed 001 8.3's words.
TIMED = (
    ("detect", "Detection time", "장애 감지 시간"),
    ("escalate", "Escalation time", "에스컬레이션 시간"),
    ("recover", "Recovery time (RTO)", "복구 시간 (RTO)"),
)
JUDGED = (
    ("communication", "Communication", "커뮤니케이션 적절성"),
    ("runbook", "Runbook accuracy", "문서(Runbook) 정확성"),
)
VALUE_WORDS = {
    "adequate": ("adequate", "적절"),
    "lacking": ("lacking", "미흡"),
    "accurate": ("accurate", "정확"),
    "partly_wrong": ("partly wrong", "일부 오류"),
}


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def fault_started(drill: Drill) -> datetime | None:
    """When the fault began: the first synthetic alert sent, else the drill's start."""
    sent = [t for t in (_at(i.get("sent_at")) for i in drill.inject or []) if t is not None]
    return min(sent) if sent else drill.started_at


def recovered(drill: Drill, incident: Incident | None) -> datetime | None:
    """Mitigated (or resolved) by the team. An ended drill keeps what it was at the end, so
    the kill switch resolving the incident is not counted as the team's recovery."""
    if incident is None:
        return None
    if drill.status == "ended" and "recovered_at" in (drill.scorecard or {}):
        return _at(drill.scorecard.get("recovered_at"))
    return incident.mitigated_at or incident.resolved_at


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0) / 60, 1)


def _suggest_communication(
    session: Session, policy: Policy, incident: Incident | None
) -> str | None:
    """adequate when a status update was posted within the policy's communicate target of
    detection (any update when the severity has no such target), else lacking."""
    if incident is None:
        return None
    first = session.scalar(
        select(StatusUpdate.created_at)
        .where(StatusUpdate.incident_id == incident.id)
        .order_by(StatusUpdate.created_at)
        .limit(1)
    )
    if first is None:
        return "lacking"
    target = policy.figure_target(incident.severity, "communicate")
    if target is None:
        return "adequate"
    return "adequate" if first - incident.detected_at <= target else "lacking"


def _runbook_evidence(session: Session, incident: Incident | None) -> tuple[str | None, list[str]]:
    """The runbook row's suggestion from the accuracy recorded on the drill's incident
    (accurate when every judged runbook worked, else partly wrong), and one line per runbook."""
    if incident is None:
        return None, []
    attached = runbooks.incident_runbooks(session, incident.id)
    judged = [r.accuracy for r in attached if r.accuracy]
    suggested = None
    if judged:
        suggested = "accurate" if all(a == "worked" for a in judged) else "partly_wrong"
    return suggested, [runbooks.summary_line(r) for r in attached]


def drill_items(session: Session, drill: Drill) -> list[DrillItemOut]:
    rows = session.scalars(
        select(ActionItem).where(ActionItem.drill_id == drill.id).order_by(ActionItem.number)
    )
    return [
        DrillItemOut(
            code=item_code(i),
            title=i.title,
            owner=i.owner,
            due_date=i.due_date,
            column=i.column,
            priority=i.priority,
        )
        for i in rows
    ]


def build(session: Session, policy: Policy, drill: Drill) -> ScorecardOut:
    incident = session.get(Incident, drill.incident_id) if drill.incident_id else None
    start = fault_started(drill)
    detected = incident.detected_at if incident else None
    spans: dict[str, tuple[datetime | None, datetime | None]] = {
        "detect": (start, detected),
        "escalate": (detected, incident.acknowledged_at if incident else None),
        "recover": (start, recovered(drill, incident)),
    }
    timed = []
    for row, label, label_ko in TIMED:
        target = float(drill.targets.get(row) or 0) / 60
        frm, to = spans[row]
        actual = _minutes(frm, to)
        timed.append(
            ScoreRow(
                row=row,
                label=label,
                label_ko=label_ko,
                target_minutes=round(target, 1),
                actual_minutes=actual,
                met=None if actual is None else actual <= target,
                measured_from=frm,
                measured_to=to,
            )
        )
    card = drill.scorecard or {}
    runbook_suggested, runbook_evidence = _runbook_evidence(session, incident)
    judged = [
        JudgedRow(
            row="communication",
            label=JUDGED[0][1],
            label_ko=JUDGED[0][2],
            value=card.get("communication"),
            suggested=_suggest_communication(session, policy, incident),
            note=card.get("communication_note") or "",
        ),
        JudgedRow(
            row="runbook",
            label=JUDGED[1][1],
            label_ko=JUDGED[1][2],
            value=card.get("runbook"),
            suggested=runbook_suggested,
            note=card.get("runbook_note") or "",
            evidence=runbook_evidence,
        ),
    ]
    return ScorecardOut(
        drill=code(drill),
        title=drill.title,
        kind=drill.kind,
        status=drill.status,
        incident_id=drill.incident_id,
        fault_started_at=start,
        timed=timed,
        judged=judged,
        participants=list(drill.participants or []),
        assessment=drill.assessment or "",
        items=drill_items(session, drill),
    )


def update(session: Session, drill: Drill, data: ScorecardIn, *, now: datetime) -> Drill:
    """What people judge; fields not given stay."""
    given = data.model_dump(exclude_unset=True)
    card = dict(drill.scorecard or {})
    for key in ("communication", "communication_note", "runbook", "runbook_note"):
        if key in given:
            card[key] = given[key]
    drill.scorecard = card
    if given.get("participants") is not None:
        drill.participants = list(dict.fromkeys(p.strip() for p in given["participants"] if p))
    if given.get("assessment") is not None:
        drill.assessment = given["assessment"]
    drill.updated_at = now
    return drill


def add_item(
    session: Session, policy: Policy, drill: Drill, data: DrillItemIn, *, by: str, now: datetime
) -> ActionItem:
    """An improvement the drill found (발견된 개선 사항): TI-NNN on the follow-up board,
    with the drill's incident (when it has one) so the board links to it."""
    return create_item(
        session,
        policy,
        title=data.title,
        description=data.description,
        owner=data.owner,
        due_date=data.due_date,
        priority=data.priority,
        by=by,
        now=now,
        incident_id=drill.incident_id,
        series="TI",
        drill_id=drill.id,
    )


def markdown(card: ScorecardOut) -> str:
    """Seed 001 8.3's table, with Korean and English words."""

    def minutes(value: float | None) -> str:
        return "—" if value is None else f"{value:g}"

    def met(value: bool | None) -> str:
        return "—" if value is None else ("Y" if value else "N")

    lines = [
        f"# {card.drill} {card.title}",
        "",
        f"- Kind: {card.kind} · Status: {card.status} · Incident: {card.incident_id or '—'}",
        "",
        "## 훈련 평가 (Scorecard)",
        "",
        "| 항목 (Item) | 목표 (Target) | 실제 (Actual) | 달성 (Met) |",
        "|---|---|---|---|",
    ]
    for row in card.timed:
        lines.append(
            f"| {row.label_ko} ({row.label}) | {minutes(row.target_minutes)} min | "
            f"{minutes(row.actual_minutes)} min | {met(row.met)} |"
        )
    for judged in card.judged:
        word = VALUE_WORDS.get(judged.value or "")
        value = f"{word[1]} ({word[0]})" if word else "—"
        lines.append(f"| {judged.label_ko} ({judged.label}) | — | {value} | — |")
    evidence = [f"- {j.label_ko} ({j.label}): {line}" for j in card.judged for line in j.evidence]
    lines += ["", *evidence] if evidence else []
    lines += [
        "",
        "## 참여자 (Participants)",
        "",
        ", ".join(card.participants) or "—",
        "",
        "## 발견된 개선 사항 (Improvement items)",
        "",
    ]
    lines += [
        f"- {i.code} {i.title} — {i.owner or '—'}, {i.due_date or '—'}, {i.column}"
        for i in card.items
    ] or ["—"]
    lines += ["", "## 종합 평가 (Overall assessment)", "", card.assessment or "—", ""]
    return "\n".join(lines)
