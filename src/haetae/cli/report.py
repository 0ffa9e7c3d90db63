"""`haetae report weekly|monthly`: the review report as Markdown, HTML or CSV."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from haetae.cli.common import (
    EXIT_USAGE,
    ActorOption,
    actor,
    config_or_exit,
    fail,
    locale,
    now,
    policy,
    say,
    transaction,
)
from haetae.reviews import render, service

group = typer.Typer(help="Weekly and monthly review reports.", no_args_is_help=True)

FormatOption = Annotated[str, typer.Option("--format", help="md, html or csv")]
PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        metavar="YYYY-MM-DD",
        help="a day in the period (policy time zone); default: the last full period",
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="write to FILE instead of stdout")
]
LangOption = Annotated[str | None, typer.Option("--lang", help="en or ko (default: HAETAE_LOCALE)")]


def _report(
    kind: str, fmt: str, period: str | None, output: Path | None, lang: str | None, by: str | None
) -> None:
    if fmt not in render.FORMATS:
        fail(f"--format must be one of {', '.join(render.FORMATS)}", EXIT_USAGE)
    if lang is not None and lang not in ("en", "ko"):
        fail("--lang must be en or ko", EXIT_USAGE)
    day = None
    if period is not None:
        try:
            day = date.fromisoformat(period)
        except ValueError:
            fail(f"--period must be a day such as 2026-11-23, not '{period}'", EXIT_USAGE)
    config = config_or_exit()
    pol = policy(config)
    at = now()
    with transaction(config) as session:
        chosen = service.period_for(pol, kind, day, now=at)
        report, _ = service.build_report(session, pol, chosen, by=actor(by), now=at)
        text = service.as_text(pol, report, fmt=fmt, locale=lang or locale())
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    say(f"wrote {output}", err=True)


@group.command("weekly")
def weekly(
    fmt: FormatOption = "md",
    period: PeriodOption = None,
    output: OutputOption = None,
    lang: LangOption = None,
    by: ActorOption = None,
) -> None:
    """The weekly review (Monday to Sunday): built and kept, or the one kept already."""
    _report("weekly", fmt, period, output, lang, by)


@group.command("monthly")
def monthly(
    fmt: FormatOption = "md",
    period: PeriodOption = None,
    output: OutputOption = None,
    lang: LangOption = None,
    by: ActorOption = None,
) -> None:
    """The monthly review (a calendar month): built and kept, or the one kept already."""
    _report("monthly", fmt, period, output, lang, by)


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="report")
