"""`haetae`: serve, operate the database, check policies, work incidents."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from haetae.cli.common import EXIT_CONFIG, EXIT_INVALID, config_or_exit, console, fail
from haetae.config import kept_jwt_secret

app = typer.Typer(help="Haetae: self-hosted incident response.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _run(host: str, port: int, workers: int = 1) -> None:
    from haetae.app import create_app
    from haetae.config import ConfigError
    from haetae.migrations import upgrade_to_head
    from haetae.observability import configure_logging, tune_gc
    from haetae.policy.loader import PolicyError

    config = config_or_exit()
    configure_logging(config.log_level)
    try:
        application = create_app(config, migrate=False)
    except ConfigError as exc:
        fail(str(exc), EXIT_CONFIG)
    except PolicyError as exc:
        fail(f"the policy file is not valid:\n{exc}", EXIT_INVALID)
    if config.is_sqlite:
        # Once, here, rather than in each worker process's start-up.
        upgrade_to_head(config.resolved_database_url)
    tune_gc()
    # Worker processes build their own app from the same environment.
    target = "haetae.app:app_from_environment" if workers > 1 else application
    import uvicorn

    uvicorn.run(
        target,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(
        1, min=1, max=64, help="processes serving requests (SQLite and PostgreSQL both cope)"
    ),
) -> None:
    """Run the API and the web console."""
    _run(host, port, workers)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    data_dir: Path = typer.Option(
        Path("data"),
        envvar="HAETAE_DATA_DIR",
        help="where the SQLite file and the kept secret live",
    ),
) -> None:
    """Run Haetae on SQLite with demo data and a kept random JWT secret."""
    from haetae.demo import seed_demo

    os.environ["HAETAE_DATA_DIR"] = str(data_dir)
    if not os.environ.get("JWT_SECRET"):
        os.environ["JWT_SECRET"] = kept_jwt_secret(data_dir)
    config = config_or_exit(check=True)
    from haetae.cli.common import database, policy

    with database(config) as db:
        credentials = seed_demo(db, policy(config))
    url = f"http://{host}:{port}"
    console.print(f"[bold]Haetae demo[/bold] on {url}  (data in {data_dir.resolve()})")
    if credentials:
        for line in credentials:
            console.print(f"  {line}", highlight=False, soft_wrap=True)  # keys stay whole
    else:
        console.print("  demo data already present; log in as admin / haetae-demo")
    _run(host, port)


@app.command()
def worker(
    once: bool = typer.Option(False, "--once", help="run what is due now, then exit"),
) -> None:
    """Run a background worker: escalation steps, update reminders, hand-off notices and
    notification delivery. `haetae serve` runs one already; run more for capacity
    (PostgreSQL shares the work between them; on SQLite one works at a time)."""
    import signal

    from haetae.cli.common import database, policy
    from haetae.comms import templates
    from haetae.observability import configure_logging
    from haetae.worker import Worker, config_from

    config = config_or_exit(check=True)
    configure_logging(config.log_level)
    templates.configure(
        templates_dir=config.comms_templates_dir,
        policy_file=config.policy_file,
        public_url=config.base_url,
    )
    with database(config) as db:
        running = Worker(db, policy(config), config_from(config))
        if once:
            cycle = running.run_once()
            console.print(
                f"{cycle.steps} escalation steps, {cycle.reminders} reminders, "
                f"{cycle.claimed} notifications handed to senders"
            )
            return
        signal.signal(signal.SIGTERM, lambda *_: running.stop())
        console.print(f"worker {running.name} running; Ctrl-C stops it")
        try:
            running.run()
        except KeyboardInterrupt:
            running.stop()


@contextmanager
def _migrations() -> Iterator[str]:
    """The database URL for a migration command; failures exit with one clear line."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import OperationalError

    config = config_or_exit()
    url = config.resolved_database_url
    if config.is_sqlite:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield url
    except CommandError as exc:
        fail(f"migration refused: {exc}")
    except OperationalError as exc:
        fail(f"database error: {str(exc.orig).strip().splitlines()[0]} (check DATABASE_URL)")


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from haetae.migrations import current, upgrade

    with _migrations() as url:
        upgrade(url, revision)
        console.print(f"database at {current(url) or 'base'}")


@db_app.command("downgrade", context_settings={"ignore_unknown_options": True})
def db_downgrade(revision: str = typer.Argument(..., help="e.g. -1 or a revision id")) -> None:
    """Revert migrations to REVISION (`-1`: one step back)."""
    from haetae.migrations import current, downgrade

    with _migrations() as url:
        downgrade(url, revision)
        console.print(f"database at {current(url) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    from haetae.migrations import current

    with _migrations() as url:
        console.print(current(url) or "base")


# The modules that add commands to `haetae`, and the top-level names each adds. A command
# imports only its own module: importing all of them costs every invocation about 0.4 s, and
# scripts and tests run the CLI many times. tests/unit/test_cli_commands.py checks this table
# against what each module really registers.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "apply": ("apply", "export"),
    "incidents": (
        "declare",
        "update",
        "transition",
        "note",
        "ack",
        "role",
        "decide",
        "condition",
        "incidents",
    ),
    "integrations": ("integrations", "alerts"),
    "oncall": ("oncall",),
    "people": ("teams", "services", "contacts"),
    "policy": ("policy",),
    "users": ("user", "apikey"),
    "postmortems": ("postmortem",),
    "actions": ("actions", "board"),
    "search": ("search",),
    "report": ("report",),
    "drills": ("drill",),
    "runbooks": ("runbook",),
    "diagnostics": ("diagnose", "checks"),
    "checklists": ("checklist",),
    "contacts": ("escalate", "external-contacts"),
    "changes": ("changes",),
    "templates": ("templates",),
    "notify": ("notify",),
    "statuspage": ("status-page",),
}
# Modules that add commands to another module's group, imported after it.
JOINING_MODULES = {
    "postmortems": "postmortem_export",
    "runbooks": "runbook_work",
    "notify": "notify_approvals",
    "statuspage": "statuspage_subscribers",
}


def register_modules(target: typer.Typer, modules: list[str]) -> None:
    for name in modules:
        module = importlib.import_module(f"haetae.cli.{name}")
        module.register(target)
        if name in JOINING_MODULES:  # `haetae postmortem export` lives in its own module
            importlib.import_module(f"haetae.cli.{JOINING_MODULES[name]}").register()


def _modules_for(argv: list[str]) -> list[str]:
    """The module the invoked command needs, or all of them (help, completion, a typo)."""
    first = next((arg for arg in argv[1:] if not arg.startswith("-")), None)
    for module, names in COMMAND_MODULES.items():
        if first in names:
            return [module]
    return list(COMMAND_MODULES)


register_modules(app, _modules_for(sys.argv))
