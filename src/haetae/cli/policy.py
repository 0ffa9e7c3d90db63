"""Policy commands: check policy files before deploying them, show the policy in force."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from haetae.cli.common import (
    EXIT_INVALID,
    JsonFlag,
    config_or_exit,
    console,
    locale,
    policy,
    print_json,
    say,
)
from haetae.policy.loader import PolicyError, load_policy_file
from haetae.policy.schema import Policy, Target
from haetae.policy.terms import localized

policy_app = typer.Typer(help="Check and show incident policies.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")


def _summary(pol: Policy) -> str:
    matrix = pol.impact_matrix
    shape = (
        f"impact matrix {len(matrix.business_impact)}x{len(matrix.user_impact)}"
        if matrix
        else "no impact matrix"
    )
    return f"{pol.name}: severities {', '.join(s.id for s in pol.severities)}; {shape}"


@policy_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Policy YAML files.")],
    json_: JsonFlag = False,
) -> None:
    """Validate policy files; print every problem as file:line: field: message."""
    results: list[dict[str, Any]] = []
    for path in files:
        try:
            pol = load_policy_file(path)
        except PolicyError as exc:
            results.append(
                {
                    "file": str(path),
                    "ok": False,
                    "problems": [
                        {"line": p.line, "field": p.field, "message": p.message}
                        for p in exc.problems
                    ],
                }
            )
            if not json_:
                for problem in exc.problems:
                    say(str(problem))
            continue
        results.append({"file": str(path), "ok": True, "name": pol.name, "problems": []})
        if not json_:
            say(f"OK {path}: {_summary(pol)}")
    if json_:
        print_json(results)
    invalid = sum(not r["ok"] for r in results)
    if invalid:
        if not json_:
            say(f"{invalid} of {len(results)} policy files invalid", err=True, style="red")
        raise typer.Exit(EXIT_INVALID)


def _target(target: Target | None) -> str:
    if target is None:
        return "-"
    return target.value.replace("_", " ")


@policy_app.command("show")
def show(json_: JsonFlag = False) -> None:
    """The policy in force (POLICY_FILE, else the built-in default)."""
    config = config_or_exit()
    pol = policy(config)
    source = str(config.policy_file) if config.policy_file else "built-in default"
    if json_:
        print_json({"source": source, **pol.model_dump(mode="json")})
        return
    lang = locale()
    say(f"{pol.name}  ({source}, times in {pol.timezone})")
    if pol.description:
        say(localized(pol.description, lang), style="dim")
    say("")
    severities = Table(title="Severities", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("ID", "NAME", "RESPOND", "RECOVER", "UPDATES", "WEIGHT", "ROLES"):
        severities.add_column(column)
    severities.add_column("CONDITIONS", justify="right", min_width=10)
    for sev in pol.severities:
        severities.add_row(
            sev.id,
            Text(localized(sev.name, lang)),
            _target(sev.response_target),
            _target(sev.recovery_target),
            _target(sev.update_interval),
            f"{sev.weight:g}",
            ", ".join(sev.required_roles) or "-",
            str(len(sev.resolution_conditions)),
        )
    console.print(severities)
    matrix = pol.impact_matrix
    if matrix:
        table = Table(
            title="Impact matrix (business x user impact)", title_justify="left", box=box.SQUARE
        )
        table.add_column("")
        for level in matrix.user_impact:
            table.add_column(Text(f"{level.id}\n{localized(level.name, lang)}"), justify="center")
        for level in matrix.business_impact:
            table.add_row(
                Text(f"{level.id}\n{localized(level.name, lang)}"), *matrix.cells[level.id]
            )
        console.print(table)
    else:
        say("No impact matrix: declare with an explicit --severity and --reason.", style="dim")
    say(
        "UPDATES: how often a status update is due; CONDITIONS: resolution conditions "
        "(`haetae policy show --json` lists them).",
        style="dim",
    )
    say("roles: " + ", ".join(f"{r.id} ({localized(r.name, lang)})" for r in pol.roles))
    if pol.categories:
        say("categories: " + ", ".join(c.id for c in pol.categories))
