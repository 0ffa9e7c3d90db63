"""`haetae templates check|render`: communication templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_ERROR,
    EXIT_USAGE,
    JsonFlag,
    config_or_exit,
    fail,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.comms import templates
from haetae.config import Settings
from haetae.incidents import service
from haetae.policy.schema import Policy

templates_group = typer.Typer(help="templates", no_args_is_help=True)


def _dirs(config: Settings, pol: Policy) -> list[Path]:
    return templates.directories(
        pol, templates_dir=config.comms_templates_dir, policy_file=config.policy_file
    )


@templates_group.command("check")
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATHS]...",
            help="Template files or folders (default: the shipped templates and the "
            "policy's and COMMS_TEMPLATES_DIR's overrides).",
        ),
    ] = None,
    json_: JsonFlag = False,
) -> None:
    """Check communication templates; print each problem as file:line: message (exit 1)."""
    if paths:
        targets = list(paths)
    else:
        config = config_or_exit()
        targets = [*(d for d in _dirs(config, policy(config)) if d.is_dir()), templates.SHIPPED]
    problems = templates.check(targets)
    if json_:
        print_json([{"file": p.file, "line": p.line, "message": p.message} for p in problems])
    else:
        for problem in problems:
            say(str(problem))
        if not problems:
            say(f"OK: {', '.join(str(t) for t in targets)}")
    if problems:
        raise typer.Exit(EXIT_ERROR)


@templates_group.command("render")
def render(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="e.g. internal_update")],
    incident_id: Annotated[str, typer.Option("--incident", metavar="INC", help="The incident.")],
    lang: Annotated[str, typer.Option("--lang", help="ko or en")] = "ko",
    public: Annotated[
        bool, typer.Option("--public", help="Only what the public may read (status page).")
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """Preview a template for an incident: the subject, a blank line, the body."""
    if lang not in templates.LOCALES:
        fail("--lang must be ko or en", EXIT_USAGE)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        incident = service.get_incident(session, incident_id)
        context = templates.context_for(
            session, pol, incident, lang, now=now(), public=public, base_url=config.base_url
        )
        out = templates.render(session, pol, kind, context, lang, dirs=_dirs(config, pol))
    if json_:
        print_json(
            {"kind": out.kind, "locale": out.locale, "subject": out.subject, "body": out.body}
        )
        return
    say(out.subject)
    say("")
    say(out.body)


def register(app: typer.Typer) -> None:
    app.add_typer(templates_group, name="templates")
