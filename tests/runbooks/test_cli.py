"""`haetae runbook check|list|show`, in-process."""

from __future__ import annotations

from pathlib import Path
from shlex import quote

import pytest

from tests.runbooks.files import GOOD, runbook, write

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's


def test_runbook_check_list_and_show(cli, tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    write(ours, "db.md", GOOD.replace("oncall_engineer", "ops_lead"))
    write(ours, "disk.md", runbook("disk-full", source="our wiki"))

    # Warnings and an override of a shipped id: still valid (exit 0).
    checked = cli(f"runbook check {quote(str(ours))}")
    assert f"warning: {ours}/db.md:19: steps[0].owner: 'ops_lead' is not a role" in checked.out
    assert checked.out.rstrip().endswith("OK 2 runbooks")

    broken = write(tmp_path / "broken", "bad.md", runbook("bad", colour="red"))
    failed = cli(f"runbook check {quote(str(ours))} {quote(str(broken))}", expect=1)
    assert f"{broken}:4: colour: Extra inputs are not permitted" in failed.out
    assert "OK" not in failed.out
    assert "1 runbook files invalid" in failed.err
    as_json = cli(f"runbook check --json {quote(str(broken))}", expect=1).json()
    assert as_json["problems"] == [
        {
            "file": str(broken),
            "line": 4,
            "field": "colour",
            "message": "Extra inputs are not permitted",
        }
    ]

    # The configured library: shipped runbooks, then RUNBOOKS_DIR's, which override by id.
    env = {"RUNBOOKS_DIR": str(ours)}
    configured = cli("runbook check", **env)
    assert f"note: {ours}/disk.md:2: id: replaces the runbook 'disk-full'" in configured.out
    listed = {r["id"]: r for r in cli("runbook list --json", **env).json()}
    assert listed["disk-full"]["shipped"] is False
    assert listed["disk-full"]["source"] == "our wiki"
    assert listed["server-down"]["shipped"] is True
    table = cli("runbook list", **env).out
    assert "db-pool-exhausted" in table and "alert:alertname=PostgresTooManyConnections" in table

    shown = cli("runbook show db-pool-exhausted --lang ko", **env).out
    assert shown.startswith("db-pool-exhausted: DB 커넥션 풀 고갈\n")
    assert "- API 응답 지연 또는 타임아웃" in shown
    assert "- P1: 전체 서비스 불가" in shown
    assert "1. 활성 연결 수 확인  [ops_lead]" in shown
    assert '   $ psql -c "SELECT count(*) FROM pg_stat_activity;" <b>' in shown
    assert "1. API 정상 응답 확인" in shown and "   check: http" in shown
    assert "# Background" in shown
    english = cli("runbook show db-pool-exhausted --lang en", **env).out
    assert english.startswith("db-pool-exhausted: Database connection pool exhausted\n")
    missing = cli("runbook show no-such-runbook", expect=4, **env)
    assert "no runbook has the id 'no-such-runbook'" in missing.err
