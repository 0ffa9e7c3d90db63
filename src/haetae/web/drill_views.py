"""What the drill pages show and in which words: the list with its New drill form, a drill's
page with its scorecard and items, and refusals in words a person can act on."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.auth.models import User
from haetae.drills import scorecard, service
from haetae.drills.models import Drill
from haetae.drills.schemas import ScorecardOut
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.labels import COLUMN_LABELS
from haetae.policy.measures import DRILL_KINDS
from haetae.web.console import Console, Refused
from haetae.web.forms import Failure
from haetae.web.render import render

KIND_LABELS = {
    "tabletop": N_("Tabletop exercise"),
    "simulation": N_("Simulation"),
    "game_day": N_("Game day"),
    "chaos": N_("Chaos experiment"),
}
DRILL_STATUS_LABELS = {
    "scheduled": N_("Scheduled"),
    "running": N_("Running"),
    "ended": N_("Ended"),
    "canceled": N_("Canceled"),
}
END_REASON_LABELS = {
    "completed": N_("Completed"),
    "kill_switch": N_("Kill switch"),
    "max_duration": N_("Maximum duration reached"),
    "canceled": N_("Canceled before it started"),
}
# Seed 001 8.2's chaos experiment template, in its order.
CHAOS_FIELDS = {
    "name": N_("Experiment name"),
    "hypothesis": N_("Hypothesis"),
    "target": N_("Target"),
    "fault_type": N_("Fault type"),
    "kill_switch": N_("Kill switch method"),
    "success_criteria": N_("Success criteria"),
}
# The New drill form's fields, for its refusals.
FORM_LABELS = {
    "scenario": N_("Scenario"),
    "max_duration": N_("Maximum duration"),
    "scheduled_at": N_("Scheduled at"),
    "participants": N_("Participants"),
    "inject": N_("Synthetic alerts to inject"),
    "communication_note": N_("Notes"),
    "runbook_note": N_("Notes"),
    "assessment": N_("Overall assessment"),
    "owner": N_("Owner"),
    "due_date": N_("Due date"),
}
# Seed 001 8.3's scorecard rows.
ROW_LABELS = {
    "detect": N_("Detection time"),
    "escalate": N_("Escalation time"),
    "recover": N_("Recovery time (RTO)"),
    "communication": N_("Communication"),
    "runbook": N_("Runbook accuracy"),
}
JUDGEMENTS = {
    "communication": {"adequate": N_("Adequate"), "lacking": N_("Lacking")},
    "runbook": {"accurate": N_("Accurate"), "partly_wrong": N_("Partly wrong")},
}
DONE = {
    "created": N_("Drill created."),
    "started": N_("Drill started."),
    "ended": N_("Drill ended."),
    "killed": N_("Kill switch pulled: the drill and everything it started have ended."),
    "scorecard": N_("Scorecard saved."),
    "item": N_("Improvement item added: it is on the board."),
}
REFUSALS = {
    "DRILL_STATE": N_("The drill is %(status)s, so that step is not open to it."),
    "DRILL_NOT_FOUND": N_("There is no drill %(ref)s."),
}
# The drills service's refusals of a field, in words a person can act on.
FIELD_REFUSALS = {
    "max_duration": N_("The maximum duration must be above 0 and at most 1 day (for example 90m)."),
    "scheduled_at": N_("The scheduled time is in the past."),
}
# Empty synthetic alert rows the new drill form offers.
INJECT_ROWS = 3


def words(console: Console) -> dict[str, dict[str, str]]:
    """The code-defined names the drill pages show, in the reader's language."""
    t = console.gettext
    tables: dict[str, dict[str, str]] = {
        "kinds": KIND_LABELS,
        "statuses": DRILL_STATUS_LABELS,
        "reasons": END_REASON_LABELS,
        "chaos": CHAOS_FIELDS,
        "rows": ROW_LABELS,
        "communication": JUDGEMENTS["communication"],
        "runbook": JUDGEMENTS["runbook"],
    }
    return {name: {k: t(v) for k, v in table.items()} for name, table in tables.items()}


def refusal(console: Console, exc: HaetaeError, drill: Drill | None = None) -> str:
    if exc.code == "DRILL_STATE" and drill is not None:
        status = console.gettext(DRILL_STATUS_LABELS.get(drill.status, drill.status))
        return console.gettext(REFUSALS["DRILL_STATE"]) % {"status": status}
    where = str(exc.details.get("field", ""))
    if exc.code == "VALIDATION_ERROR" and where in FIELD_REFUSALS:
        return console.gettext(FIELD_REFUSALS[where])
    return exc.message


def usernames(console: Console) -> list[str]:
    with console.read() as session:
        return list(session.scalars(select(User.username).order_by(User.username)))


def list_page(
    console: Console, *, failure: Failure | None = None, status: int = 200, done: str = ""
) -> Response:
    with console.read() as session:
        drills, total = service.list_drills(session, limit=200)
        rows = [_row(session, console, d) for d in drills]
    return render(
        console,
        "drills/list.html",
        status_code=status,
        active="drills",
        rows=rows,
        total=total,
        words=words(console),
        kinds=DRILL_KINDS,
        people=usernames(console),
        inject_rows=INJECT_ROWS,
        failure=failure,
        values=failure.values if failure else {},
        notice=console.gettext(DONE[done]) if done in DONE else "",
    )


def _row(session: Session, console: Console, drill: Drill) -> dict[str, Any]:
    return {
        "drill": drill,
        "code": service.code(drill),
        "met": _met(session, console, drill),
    }


def _met(session: Session, console: Console, drill: Drill) -> tuple[int, int] | None:
    """The scorecard summary, met x of 5 (None until the drill has run)."""
    if drill.started_at is None:
        return None
    card = read_scorecard(session, console, drill)
    marks = [r.met for r in card.timed] + [j.value in ("adequate", "accurate") for j in card.judged]
    return sum(1 for m in marks if m), len(marks)


def read_scorecard(session: Session, console: Console, drill: Drill) -> ScorecardOut:
    return scorecard.build(session, console.policy, drill)


def drill_page(
    console: Console,
    ref: str,
    *,
    failure: Failure | None = None,
    status: int = 200,
    done: str = "",
) -> Response:
    with console.read() as session:
        try:
            drill = service.get_drill(session, ref)
        except HaetaeError as exc:
            missing(console, exc, ref)
            raise
        card = read_scorecard(session, console, drill)
        out = service.drill_out(drill)
    t = console.gettext
    return render(
        console,
        "drills/page.html",
        status_code=status,
        active="drills",
        drill=out,
        card=card,
        columns={k: t(v) for k, v in COLUMN_LABELS.items()},
        words=words(console),
        people=usernames(console),
        failure=failure,
        values=failure.values if failure else {},
        notice=console.gettext(DONE[done]) if done in DONE else "",
    )


def missing(console: Console, exc: HaetaeError, ref: str) -> None:
    if exc.code == "DRILL_NOT_FOUND":
        raise Refused(404, console.gettext(REFUSALS["DRILL_NOT_FOUND"]) % {"ref": ref}) from None
