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
