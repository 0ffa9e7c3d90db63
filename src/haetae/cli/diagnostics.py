"""`haetae diagnose ...` and `haetae checks`: run a check on an incident, its runs and first
analysis."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from haetae.cli.common import (
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    ActorOption,
    JsonFlag,
    actor,
    config_or_exit,
    fail,
    locale,
    now,
    policy,
    print_json,
    say,
    transaction,
)
from haetae.diagnostics import analysis, on_demand, report, views
from haetae.diagnostics.models import DiagnosticRun
from haetae.diagnostics.schemas import CheckSpec
from haetae.diagnostics.service import parse_spec
from haetae.incidents.service import get_incident
from haetae.inputs import INT32_MAX

diagnose_group = typer.Typer(
    help="Run diagnostics on an incident, list its runs, show its first analysis.",
    no_args_is_help=True,
)
checks_group = typer.Typer(help="The configured checks (config as code).", no_args_is_help=True)
Incident = Annotated[str, typer.Argument(metavar="INCIDENT", help="e.g. INC-20261130-001")]


def register(app: typer.Typer) -> None:
    app.add_typer(diagnose_group, name="diagnose")
    app.add_typer(checks_group, name="checks")


def _host_port(value: str, default: int | None, flag: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port:  # no port given (or a bare IPv6 address in brackets)
        if default is None:
            fail(f"{flag} takes HOST:PORT", EXIT_INVALID)
        return value.strip("[]"), default
    if not port.isascii() or not port.isdigit():
        fail(f"{flag}: the port must be a number", EXIT_INVALID)
    return host.strip("[]"), int(port)


def _spec(
    http: str | None,
    tcp: str | None,
    tls: str | None,
    dns: str | None,
    promql: str | None,
    op: str,
    threshold: float | None,
    timeout: str | None,
) -> CheckSpec:
    data: dict[str, Any]
    if http is not None:
        data = {"kind": "http", "url": http}
    elif tcp is not None:
        host, port = _host_port(tcp, None, "--tcp")
        data = {"kind": "tcp", "host": host, "port": port}
    elif tls is not None:
        host, port = _host_port(tls, 443, "--tls")
        data = {"kind": "tls", "host": host, "port": port}
    elif dns is not None:
        data = {"kind": "dns", "name": dns}
    else:
        assert promql is not None
        data = {"kind": "prometheus", "query": promql, "op": op, "threshold": threshold}
    if timeout is not None:
        data["timeout"] = timeout
    try:
        return parse_spec(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"invalid check: {problems}", EXIT_INVALID)


def _run_line(run: views.RunOut) -> str:
    latency = "-" if run.latency_ms is None else f"{run.latency_ms:.0f} ms"
    label = report.status_label(run.status, locale())
    return f"#{run.id}  {label:<10} {latency:>8}  {run.name}  {run.summary}".rstrip()


@diagnose_group.command("run")
def run(
    incident: Incident,
    check: Annotated[str | None, typer.Option("--check", help="A configured check's id.")] = None,
    http: Annotated[str | None, typer.Option("--http", metavar="URL")] = None,
    tcp: Annotated[str | None, typer.Option("--tcp", metavar="HOST:PORT")] = None,
    tls: Annotated[str | None, typer.Option("--tls", metavar="HOST[:PORT]")] = None,
    dns: Annotated[str | None, typer.Option("--dns", metavar="NAME")] = None,
    promql: Annotated[str | None, typer.Option("--promql", metavar="QUERY")] = None,
    op: Annotated[str, typer.Option("--op", help="With --promql: > >= < <= == !=")] = ">",
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="With --promql: fails when it holds.")
    ] = None,
    timeout: Annotated[str | None, typer.Option("--timeout", help="e.g. 5s (at most 60s)")] = None,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Queue one check on an incident; the worker runs it (its result lands on the timeline).
    Exits 3 when the target is not on the allow-list."""
    given = [v for v in (check, http, tcp, tls, dns, promql) if v is not None]
    if len(given) != 1:
        fail("give exactly one of --check, --http, --tcp, --tls, --dns, --promql", EXIT_INVALID)
    spec = None if check is not None else _spec(http, tcp, tls, dns, promql, op, threshold, timeout)
    config = config_or_exit()
    with transaction(config) as session:
        queued = on_demand.run_check(
            session,
            incident,
            check=check,
            spec=spec,
            by=actor(who),
            now=now(),
            prometheus_url=config.prometheus_url,
        )
        out = views.run_out(session, queued)
    if as_json:
        print_json(out)
    else:
        say(f"#{out.id} queued: {out.name} ({out.target})")


@diagnose_group.command("list")
def list_runs(incident: Incident, as_json: JsonFlag = False) -> None:
    """An incident's runs, newest first."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        get_incident(session, incident)
        outs = views.run_outs(session, views.incident_runs(session, incident))
    if as_json:
        print_json(outs)
        return
    for out in outs:
        say(_run_line(out))


@diagnose_group.command("show")
def show(run_id: Annotated[int, typer.Argument(metavar="RUN")], as_json: JsonFlag = False) -> None:
    """One run, with its output excerpt."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        # A number no row id can be is no run (PostgreSQL would refuse it as out of range).
        found = session.get(DiagnosticRun, run_id) if 0 < run_id <= INT32_MAX else None
        out = views.run_out(session, found) if found is not None else None
    if out is None:
        fail(f"NOT_FOUND: no diagnostic run {run_id}", EXIT_NOT_FOUND)
    if as_json:
        print_json(out)
        return
    say(_run_line(out))
    say(f"  {out.kind} {out.target}  ({out.reason}, by {out.requested_by})")
    if out.incident_id:
        say(f"  incident: {out.incident_id}")
    for line in out.excerpt.splitlines():
        say(f"  | {line}")


@diagnose_group.command("analysis")
def show_analysis(
    incident: Incident,
    rerun: Annotated[bool, typer.Option("--rerun", help="Run the analysis again.")] = False,
    who: ActorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The incident's latest first analysis report (HAETAE_LOCALE=ko for Korean); --rerun
    queues its checks again and starts a new report."""
    config = config_or_exit()
    pol = policy(config)
    with transaction(config, write=rerun) as session:
        found = get_incident(session, incident)
        if rerun:
            row = analysis.request_on_demand(session, pol, found, by=actor(who), now=now())
        else:
            latest = analysis.latest(session, incident)
            if latest is None:
                fail(f"NOT_FOUND: {incident} has no analysis yet", EXIT_NOT_FOUND)
            row = latest
        out = views.analysis_out(row, pol, locale())
    if as_json:
        print_json(out)
    elif out.rendered is None:
        say(f"Analysis {out.id} is running (report by {out.deadline_at:%H:%M:%S} UTC at latest)")
    else:
        for line in report.as_text(out.rendered):
            say(line)


@checks_group.command("list")
def list_checks(as_json: JsonFlag = False) -> None:
    """The configured checks, with their service."""
    config = config_or_exit()
    with transaction(config, write=False) as session:
        outs = views.checks(session)
    if as_json:
        print_json(outs)
        return
    for out in outs:
        flags = ("" if out.enabled else " disabled") + (" watch" if out.watch else "")
        say(f"{out.id:<24} {out.kind:<10} {out.service or '-':<16} {out.name}{flags}")
