"""`haetae apply` and `haetae export` as a user runs them (the installed CLI, a real database)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from haetae.auth import service as auth
from haetae.cli.common import EXIT_INVALID
from haetae.configfile.apply import apply_config
from haetae.configfile.export import export_yaml
from haetae.configfile.schema import parse_config
from haetae.db import Database
from haetae.policy.schema import Policy
from tests.cli.conftest import Haetae
from tests.configfile.test_apply import NOW, SEED, SMALL


def body(exported: str) -> str:
    """The export without its header comment (which carries the time)."""
    return "\n".join(line for line in exported.splitlines() if not line.startswith("#"))


def test_dry_run_prints_the_diff_and_writes_nothing(haetae: Haetae, tmp_path: Path):
    file = tmp_path / "team.yaml"
    file.write_text(SMALL, encoding="utf-8")
    empty = haetae("export").out
    dry = haetae(f"apply -f {file} --dry-run")
    assert "+ user kim\n" in dry.out and "+ routing_rule api-alerts\n" in dry.out
    assert (
        "8 to create, 0 to update, 0 to remove, 0 unchanged (dry run: nothing written)" in dry.out
    )
    assert "token" not in dry.out
    assert body(haetae("export").out) == body(empty)

    applied = haetae(f"apply -f {file}")
    assert "8 to create" in applied.out
    assert "integration prom: token (shown once, store it now): " in applied.out

    file.write_text(SMALL.replace("name: Kim", "name: Kim Minji"), encoding="utf-8")
    dry = haetae(f"apply -f {file} --dry-run --json").json()
    assert dry["dry_run"] is True and dry["tokens"] == {}
    changed = [c for c in dry["changes"] if c["action"] != "unchanged"]
    assert changed == [{"kind": "user", "name": "kim", "action": "update", "fields": ["name"]}]
    assert "name: Kim\n" in haetae("export").out  # still the old name


def test_a_bad_file_exits_3_naming_file_line_and_field(haetae: Haetae, tmp_path: Path):
    file = tmp_path / "team.yaml"
    file.write_text(SMALL.replace("participants: [kim, lee]", "participants: [kim, park]"))
    result = haetae(f"apply -f {file}", expect=EXIT_INVALID)
    assert (
        f"{file}:19: schedules[0].rotations[0].participants[1]: unknown user 'park'" in result.err
    )
    assert "username: kim" not in haetae("export").out
    missing = haetae(f"apply -f {tmp_path / 'nope.yaml'}", expect=EXIT_INVALID)
    assert "nope.yaml" in missing.err


def test_apply_reads_stdin(haetae: Haetae):
    result = haetae("apply -f -", stdin="users: [{username: kim}]\n")
    assert "+ user kim" in result.out


def test_export_then_apply_reproduces_the_configuration_on_a_fresh_database(
    db: Database, policy: Policy, haetae: Haetae, tmp_path: Path
):
    # The suite's database: the seed example and the small file together.
    with db.session() as session:
        for name, text in [(str(SEED), SEED.read_text(encoding="utf-8")), ("small.yaml", SMALL)]:
            apply_config(session, policy, parse_config(text, name), actor="t", now=NOW)
    with db.session(write=False) as session:
        original = export_yaml(session, now=NOW)
    file = tmp_path / "export.yaml"
    file.write_text(original, encoding="utf-8")

    # A fresh database (`haetae` runs on one): apply, then export gives the same file.
    assert "0 to update" in haetae(f"apply -f {file}").out
    out = tmp_path / "again.yaml"
    haetae(f"export -o {out}")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # it holds contact methods' secrets
    assert body(out.read_text(encoding="utf-8")) == body(original)
    assert "mailto://smtp.example.com:587?from=haetae@example.com&to=minjun@example.com" in original

    # Applying the export to the database it came from changes nothing.
    with db.session() as session:
        result = apply_config(session, policy, parse_config(original, "e.yaml"), actor="t", now=NOW)
    assert {c.action for c in result.changes} == {"unchanged"}
    assert haetae(f"apply -f {out}").out.strip().endswith("0 to remove, 27 unchanged")


def test_people_made_by_apply_sign_in_once_a_password_is_set(haetae: Haetae):
    haetae("apply -f -", stdin="users: [{username: kim, role: admin}]\n")
    db = Database(haetae.url)
    try:
        with db.session(write=False) as session:
            assert auth.authenticate_password(session, "kim", "correct horse") is None
        haetae("user passwd kim --password-stdin", stdin="correct horse\n")
        with db.session(write=False) as session:
            assert auth.authenticate_password(session, "kim", "correct horse") is not None
    finally:
        db.dispose()
    haetae("user passwd nobody --password-stdin", stdin="correct horse\n", expect=4)
