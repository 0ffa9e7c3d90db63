"""`haetae db downgrade` and `upgrade` from the command line keep the incidents."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from haetae.migrations import alembic_config, current


def test_downgrade_one_step_then_upgrade_keeps_incidents(haetae):
    head = ScriptDirectory.from_config(alembic_config(haetae.url)).get_current_head()
    incident_id = haetae(
        "declare --title 'Disk full' --severity P2 --reason 'one region'"
    ).out.strip()

    haetae("db downgrade -1")
    assert current(haetae.url) not in (head, None)
    haetae("db upgrade")
    assert current(haetae.url) == head

    record = haetae(f"incidents show {incident_id} --json").json()
    assert (record["title"], record["severity"]) == ("Disk full", "P2")


def test_migration_mistakes_exit_1_with_one_clear_line(cli):
    result = cli("db downgrade -1", expect=1)
    assert "migration refused" in result.err and "Traceback" not in result.err
    result = cli("db upgrade", expect=1, DATABASE_URL="postgresql+psycopg://x@127.0.0.1:1/none")
    assert "database error" in result.err and "check DATABASE_URL" in result.err
