"""The one reader of an incident's runbooks, with each step's state (who, when, note), the
progress counts and the accuracy: used by the API, the CLI, the incident page's panel, the
drill scorecard and the post-mortem draft."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.runbooks.incident_schemas import IncidentRunbookOut, Progress, StepState
from haetae.runbooks.models import IncidentRunbook, RunbookStep


def incident_runbooks(session: Session, incident_id: str) -> list[IncidentRunbookOut]:
    """In the order they were attached."""
    rows = list(
        session.scalars(
            select(IncidentRunbook)
            .where(IncidentRunbook.incident_id == incident_id)
            .order_by(IncidentRunbook.attached_at, IncidentRunbook.id)
        )
    )
    if not rows:
        return []
    ticks: dict[int, dict[str, RunbookStep]] = {row.id: {} for row in rows}
    for tick in session.scalars(
        select(RunbookStep).where(RunbookStep.incident_runbook_id.in_(list(ticks)))
    ):
        ticks[tick.incident_runbook_id][tick.step_id] = tick
    return [present(row, ticks[row.id]) for row in rows]


def present(row: IncidentRunbook, ticks: dict[str, RunbookStep]) -> IncidentRunbookOut:
    snapshot = row.snapshot or {}
    steps: list[StepState] = []
    for verify, key in ((False, "steps"), (True, "verify")):
        for step in snapshot.get(key) or []:
            tick = ticks.get(step["id"])
            steps.append(
                StepState(
                    id=step["id"],
                    title=step.get("title") or step["id"],
                    owner=step.get("owner"),
                    command=step.get("command"),
                    text=step.get("text"),
                    check=step.get("check"),
                    verify=verify,
                    status=tick.status if tick else "pending",
                    by=tick.by if tick else None,
                    at=tick.at if tick else None,
                    note=tick.note if tick else "",
                )
            )
    done = sum(1 for s in steps if s.status == "done")
    skipped = sum(1 for s in steps if s.status == "skipped")
    return IncidentRunbookOut(
        id=row.id,
        runbook_id=row.runbook_id,
        title=snapshot.get("title") or row.runbook_id,
        kind=snapshot.get("kind", "runbook"),
        source=snapshot.get("source", ""),
        symptoms=list(snapshot.get("symptoms") or []),
        how=row.how,
        matched_by=list(row.matched_by or []),
        attached_by=row.attached_by,
        attached_at=row.attached_at,
        digest=row.digest,
        steps=steps,
        progress=Progress(
            total=len(steps), done=done, skipped=skipped, pending=len(steps) - done - skipped
        ),
        accuracy=row.accuracy,
        accuracy_note=row.accuracy_note or "",
        accuracy_by=row.accuracy_by,
        accuracy_at=row.accuracy_at,
    )


def summary_line(out: IncidentRunbookOut) -> str:
    """One line for scorecards and post-mortems: id, accuracy, done/skipped of total."""
    p = out.progress
    return (
        f"{out.runbook_id}: {out.accuracy or 'accuracy not recorded'}, "
        f"{p.done} done, {p.skipped} skipped of {p.total} steps"
    )
