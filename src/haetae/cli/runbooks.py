"""`haetae runbook ...`: check, list and show the runbook library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from haetae.cli.common import (
    EXIT_ERROR,
    EXIT_NOT_FOUND,
    JsonFlag,
    config_or_exit,
    console,
    fail,
    locale,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.policy.loader import PolicyProblem
from haetae.policy.terms import localized
from haetae.runbooks import library
from haetae.runbooks.schema import Step

runbook_group = typer.Typer(
    help="Check, list and show runbooks (and work them on incidents).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(runbook_group, name="runbook")


def _problems(problems: list[PolicyProblem]) -> list[dict[str, Any]]:
    return [
        {"file": p.file, "line": p.line, "field": p.field, "message": p.message} for p in problems
    ]


@runbook_group.command("check")
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATHS...]",
            help="Runbook files or directories (default: the configured library).",
        ),
    ] = None,
    checks: Annotated[
        bool,
        typer.Option(
            "--checks", help="Also warn about steps naming a check the database does not have."
        ),
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """Validate runbooks; print every problem as file:line: field: message (exit 1 on errors,
    0 with warnings)."""
    config = config_or_exit()
    pol = policy(config)
    if paths:
        found = library.load(list(paths))
    else:
        policy_file = str(config.policy_file) if config.policy_file else None
        found = library.load(library.directories(config.runbooks_dir, policy_file, pol))
    if checks:
        with transaction(config, write=False) as session:
            found = library.with_warnings(found, pol, session)
    else:
        found = library.with_warnings(found, pol)
    if json_:
        print_json(
            {
                "ok": not found.problems,
                "runbooks": list(found.runbooks),
                "problems": _problems(found.problems),
                "warnings": _problems(found.warnings),
                "notes": _problems(found.notes),
            }
        )
    else:
        for problem in found.problems:
            say(str(problem))
        for problem in found.warnings:
            say(f"warning: {problem}", style="yellow")
        for problem in found.notes:
            say(f"note: {problem}", style="dim")
    if found.problems:
        if not json_:
            files = len({p.file for p in found.problems})
            say(f"{files} runbook files invalid", err=True, style="red")
        raise typer.Exit(EXIT_ERROR)
    if not json_:
        say(f"OK {len(found.runbooks)} runbooks")


def _current() -> library.Library:
    config = config_or_exit()
    return library.current(config, policy(config))


def _matchers(loaded: library.Loaded) -> str:
    match = loaded.runbook.match
    parts = [f"service:{s}" for s in match.services]
    parts += [f"category:{c}" for c in match.categories]
    parts += [f"tag:{t}" for t in match.tags]
    parts += ["alert:" + ",".join(f"{k}={v}" for k, v in a.items()) for a in match.alerts]
    return " ".join(parts) or "-"


@runbook_group.command("list")
def list_(json_: JsonFlag = False) -> None:
    """The runbooks in force (shipped, RUNBOOKS_DIR and the policy's directories)."""
    found = _current()
    lang = locale()
    if json_:
        print_json(
            [
                {
                    "id": r.runbook.id,
                    "title": localized(r.runbook.title, lang),
                    "kind": r.runbook.kind,
                    "steps": len(r.runbook.steps),
                    "shipped": r.shipped,
                    "path": r.path,
                    "source": r.runbook.source,
                }
                for r in found.runbooks.values()
            ]
        )
        return
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("ID", no_wrap=True)
    for column in ("TITLE", "KIND", "STEPS", "MATCHES", "FROM"):
        table.add_column(column)
    for loaded in found.runbooks.values():
        runbook = loaded.runbook
        table.add_row(
            runbook.id,
            Text(localized(runbook.title, lang)),
            runbook.kind,
            str(len(runbook.steps)),
            Text(_matchers(loaded)),
            "shipped" if loaded.shipped else Text(loaded.path),
        )
    console.print(table)
    if found.problems:
        say(
            f"{len(found.problems)} problems left files out: `haetae runbook check` lists them.",
            err=True,
            style="red",
        )


def _step_lines(step: Step, lang: str, number: int) -> list[str]:
    owner = f"  [{step.owner}]" if step.owner else ""
    lines = [f"{number}. {localized(step.title, lang)}{owner}"]
    if step.text is not None:
        lines.append(f"   {localized(step.text, lang)}")
    if step.command:
        lines += [f"   $ {line}" for line in step.command.splitlines()]
    if isinstance(step.check, str):
        lines.append(f"   check: {step.check}")
    elif step.check is not None:
        lines.append(f"   check: {step.check.kind}")
    return lines


@runbook_group.command("show")
def show(
    runbook_id: Annotated[str, typer.Argument(metavar="ID")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="ko or en (default: HAETAE_LOCALE).")
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """One runbook: symptoms, severity guidance, steps with their owner and command, verify."""
    if lang is not None and lang not in ("ko", "en"):
        fail("--lang is ko or en", EXIT_ERROR)
    language = lang or locale()
    loaded = _current().get(runbook_id)
    if loaded is None:
        fail(f"no runbook has the id '{runbook_id}' (`haetae runbook list`)", EXIT_NOT_FOUND)
    runbook = loaded.runbook
    if json_:
        print_json({"path": loaded.path, "shipped": loaded.shipped, **runbook.model_dump()})
        return
    say(f"{runbook.id}: {localized(runbook.title, language)}", style="bold")
    say(f"{runbook.kind}; {runbook.source or '-'}; {loaded.path}", style="dim")
    if runbook.symptoms:
        say("")
        say("Symptoms:" if language == "en" else "증상:")
        for symptom in runbook.symptoms:
            say(f"- {localized(symptom, language)}")
    if runbook.severity:
        say("")
        say("Severity:" if language == "en" else "심각도:")
        for guidance in runbook.severity:
            say(f"- {guidance.severity}: {localized(guidance.when, language)}")
    say("")
    say("Steps:" if language == "en" else "단계:")
    for number, step in enumerate(runbook.steps, 1):
        for line in _step_lines(step, language, number):
            say(line)
    if runbook.verify:
        say("")
        say("Verify:" if language == "en" else "확인:")
        for number, step in enumerate(runbook.verify, 1):
            for line in _step_lines(step, language, number):
                say(line)
    if runbook.body.strip():
        say("")
        say(runbook.body.rstrip())
