"""`haetae runbook attach|step|accuracy|on`: runbooks on an incident (commands added to the
`runbook` group of cli/runbooks.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_NOT_FOUND,
    ActorOption,
    JsonFlag,
    actor,
    build,
    config_or_exit,
    fail,
    local_time,
    locale,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.cli.runbooks import runbook_group
from haetae.incidents import service as incidents
from haetae.policy.schema import Policy
from haetae.policy.terms import localized
from haetae.runbooks import library, queries, service
from haetae.runbooks.incident_schemas import AccuracyIn, IncidentRunbookOut, StepIn

IncidentRef = Annotated[str, typer.Argument(metavar="INC", help="The incident's id.")]
RunbookRef = Annotated[str, typer.Argument(metavar="RUNBOOK", help="The runbook's id.")]
Note = Annotated[str, typer.Option("--note", help="Said on the incident's timeline.")]
MARKS = {"done": "[x]", "skipped": "[-]", "pending": "[ ]"}


def _show(out: IncidentRunbookOut, pol: Policy, lang: str) -> None:
    p = out.progress
    how = f"auto: {', '.join(out.matched_by)}" if out.how == "auto" else f"by {out.attached_by}"
    say(f"{out.runbook_id}  {localized(out.title, lang)}  ({how})")
    say(f"  progress: {p.done} done, {p.skipped} skipped, {p.pending} pending of {p.total}")
    if out.accuracy:
        note = f" — {out.accuracy_note}" if out.accuracy_note else ""
        say(f"  accuracy: {out.accuracy} ({out.accuracy_by}){note}")
    for step in out.steps:
        owner = f" [{step.owner}]" if step.owner else ""
        verify = "verify: " if step.verify else ""
        say(f"  {MARKS[step.status]} {step.id}: {verify}{localized(step.title, lang)}{owner}")
        if step.status != "pending":
            note = f" — {step.note}" if step.note else ""
            say(f"      {step.status} by {step.by}, {local_time(step.at, pol)}{note}")
        if step.command:
            say(f"      $ {step.command}")


def _print(incident_id: str, runbook_id: str | None, as_json: bool) -> None:
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        incidents.get_incident(session, incident_id)
        outs = queries.incident_runbooks(session, incident_id)
    if runbook_id is not None:
        outs = [o for o in outs if o.runbook_id == runbook_id]
    if as_json:
        print_json(outs[0] if runbook_id is not None and outs else outs)
        return
    if not outs:
        say(f"No runbook is attached to {incident_id}.")
    for out in outs:
        _show(out, pol, locale())


def on(incident_id: IncidentRef, as_json: JsonFlag = False) -> None:
    """The runbooks attached to an incident, with each step's state and the progress."""
    _print(incident_id, None, as_json)


def attach(
    incident_id: IncidentRef,
    runbook_id: RunbookRef,
    as_json: JsonFlag = False,
    who: ActorOption = None,
) -> None:
    """Attach a runbook of the library to an incident by hand."""
    config = config_or_exit()
    pol = policy(config)
    found = library.current(config, pol).get(runbook_id)
    if found is None:
        fail(f"RUNBOOK_NOT_FOUND: the library has no runbook '{runbook_id}'", EXIT_NOT_FOUND)
    with transaction(config) as session:
        incident = incidents.get_incident(session, incident_id, for_update=True)
        service.attach(
            session, pol, incident, found, how="manual", reasons=[], by=actor(who), now=now()
        )
    _print(incident_id, runbook_id, as_json)


def step(
    incident_id: IncidentRef,
    runbook_id: RunbookRef,
    step_id: Annotated[str, typer.Argument(metavar="STEP")],
    status: Annotated[str, typer.Argument(metavar="done|skipped|pending")],
    note: Note = "",
    as_json: JsonFlag = False,
    who: ActorOption = None,
) -> None:
    """Mark a step done or skipped (or pending again)."""
    body = build(StepIn, status=status, note=note)
    config = config_or_exit()
    with transaction(config) as session:
        service.set_step(
            session,
            incident_id,
            runbook_id,
            step_id,
            status=body.status,
            note=body.note,
            by=actor(who),
            now=now(),
        )
    _print(incident_id, runbook_id, as_json)


def accuracy(
    incident_id: IncidentRef,
    runbook_id: RunbookRef,
    value: Annotated[str, typer.Argument(metavar="worked|partly|failed")],
    note: Note = "",
    as_json: JsonFlag = False,
    who: ActorOption = None,
) -> None:
    """Record whether the runbook worked, for the post-mortem and the drill scorecard."""
    body = build(AccuracyIn, accuracy=value, note=note)
    config = config_or_exit()
    with transaction(config) as session:
        service.set_accuracy(
            session,
            incident_id,
            runbook_id,
            accuracy=body.accuracy,
            note=body.note,
            by=actor(who),
            now=now(),
        )
    _print(incident_id, runbook_id, as_json)


def register() -> None:
    """Importing this module adds its commands to the `runbook` group."""
    runbook_group.command("on")(on)
    runbook_group.command("attach")(attach)
    runbook_group.command("step")(step)
    runbook_group.command("accuracy")(accuracy)
