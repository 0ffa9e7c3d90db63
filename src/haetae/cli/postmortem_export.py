"""`haetae postmortem export`: a post-mortem or an incident's report, to stdout or a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_USAGE,
    config_or_exit,
    fail,
    locale,
    now,
    policy,
    say,
    transaction,
)
from haetae.cli.postmortems import postmortem_app
from haetae.postmortems import export, reports

FORMATS = ("markdown", "html", "short", "report")


def export_command(
    incident_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. INC-20261121-001")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="markdown or html (the post-mortem), short (seed 001 App. B's report) or "
            "report (the incident report)",
        ),
    ] = "markdown",
    lang: Annotated[
        str | None, typer.Option("--lang", help="en or ko (default: HAETAE_LOCALE)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to FILE instead of stdout")
    ] = None,
) -> None:
    """Export a post-mortem (markdown, html) or an incident's report (short, report); the
    short report and the incident report work without a post-mortem."""
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}", EXIT_USAGE)
    if lang is not None and lang not in ("en", "ko"):
        fail("--lang must be en or ko", EXIT_USAGE)
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=False) as session:
        if fmt in ("markdown", "html"):
            download = export.export_postmortem(
                session, pol, incident_id, fmt=fmt, locale=lang or locale(), now=now()
            )
        else:
            download = reports.export_report(
                session,
                pol,
                incident_id,
                form="short" if fmt == "short" else "full",
                locale=lang or locale(),
                now=now(),
            )
    if output is None:
        sys.stdout.write(download.text)
        return
    output.write_text(download.text, encoding="utf-8")
    say(f"wrote {output}", err=True)


def register() -> None:
    """Adds `export` to `haetae postmortem` (the post-mortem commands' own Typer app)."""
    postmortem_app.command("export")(export_command)
