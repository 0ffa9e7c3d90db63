"""`haetae integrations` and `haetae alerts`: tokens made on the command line, alerts read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from haetae.alerts.models import Alert, Integration
from haetae.alerts.schemas import AlertDetail, AlertOut, AlertPage, IntegrationOut
from haetae.cli.common import EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND
from haetae.db import Database
from tests.cli.conftest import Haetae, _base_env

SEEN = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # 10:00 KST


def _hashes(url: str) -> dict[str, str]:
    """Integration name -> the stored token hash."""
    db = Database(url)
    try:
        with db.session(write=False) as session:
            return dict(session.execute(select(Integration.name, Integration.token_hash)).all())
    finally:
        db.dispose()


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def served(server, database_url: str, tmp_path: Path) -> Haetae:
    """The CLI on the running server's database, with PUBLIC_URL naming that server."""
    return Haetae({**_base_env(tmp_path), "DATABASE_URL": database_url, "PUBLIC_URL": server.url})


def test_create_prints_a_token_once_that_the_server_accepts(served, server, anon):
    result = served("integrations create --type generic --name 모니터링 --json")
    issued = result.json()  # stdout holds the JSON and nothing else
    assert set(issued) == {"token", "url"}
    assert issued["url"] == f"{server.url}/ingest/generic"
    assert len(issued["token"]) == 32
    assert _hashes(served.url) == {"모니터링": sha256(issued["token"])}

    alert = {"summary": "Disk 95% full on db-1", "labels": {"service": "database"}}
    accepted = anon.post(
        issued["url"], json=alert, headers={"Authorization": f"Bearer {issued['token']}"}
    )
    assert accepted.status_code == 202, accepted.text
    refused = anon.post(issued["url"], json=alert, headers={"Authorization": "Bearer " + "0" * 32})
    assert refused.status_code == 401
    [stored] = served("alerts list --json").json()["items"]  # what the server stored
    assert (stored["integration"], stored["summary"]) == ("모니터링", "Disk 95% full on db-1")
    assert stored["id"] == accepted.json()["alerts"][0]["alert_id"]

    # The token is printed when it is made and never again.
    listed = served("integrations list").out + served("integrations list --json").out
    assert issued["token"] not in listed and sha256(issued["token"]) not in listed


def test_rotate_replaces_the_token_and_the_old_one_stops_working(served, anon):
    old = served("integrations create --type generic --name prod --json").json()
    new = served("integrations rotate prod --json").json()
    assert set(new) == {"token", "url"} and new["url"] == old["url"]
    assert new["token"] != old["token"]
    assert _hashes(served.url) == {"prod": sha256(new["token"])}  # the old hash is gone

    alert = {"summary": "Queue backlog"}
    assert anon.post(old["url"], json=alert, params={"token": old["token"]}).status_code == 401
    assert anon.post(new["url"], json=alert, params={"token": new["token"]}).status_code == 202
    [shown] = served("integrations list --json").json()
    assert shown["rotated_at"] is not None and shown["token_prefix"] == new["token"][:6]


def test_a_disabled_integrations_token_is_refused(served, anon):
    issued = served("integrations create --type generic --name batch --json").json()
    served("integrations disable batch")
    refused = anon.post(issued["url"], json={"summary": "x"}, params={"token": issued["token"]})
    assert refused.status_code == 401
    [shown] = served("integrations list --json").json()
    assert shown["enabled"] is False

    assert "enabled batch" in served("integrations enable batch").out
    [shown] = served("integrations list --json").json()
    assert shown["enabled"] is True


def test_human_output_shows_the_token_once_and_lists_only_its_prefix(haetae):
    created = haetae("integrations create --type alertmanager --name prod-am --as ops").out
    token = next(line.split()[1] for line in created.splitlines() if line.startswith("token:"))
    assert _hashes(haetae.url) == {"prod-am": sha256(token)}
    assert "url:   http://127.0.0.1:8000/ingest/alertmanager" in created
    assert "shown once" in created

    haetae("integrations create --type pagerduty --name backups", PUBLIC_URL="https://haetae.ex/")
    listed = haetae("integrations list").out
    assert token not in listed
    prod = next(line for line in listed.splitlines() if "prod-am" in line)
    assert f"{token[:6]}…" in prod and "alertmanager" in prod and "yes" in prod
    assert "http://127.0.0.1:8000/ingest/alertmanager" in prod

    rows = haetae("integrations list --json --base-url https://alerts.example").json()
    assert [(r["name"], r["type"], r["url"]) for r in rows] == [
        ("backups", "pagerduty", "https://alerts.example/v2/enqueue"),
        ("prod-am", "alertmanager", "https://alerts.example/ingest/alertmanager"),
    ]
    assert rows[0]["created_by"].startswith("cli:") and rows[1]["created_by"] == "ops"
    assert all(set(r) == set(IntegrationOut.model_fields) for r in rows)  # never the token
    # PUBLIC_URL is the default base; --base-url wins over it.
    from_env = haetae("integrations list --json", PUBLIC_URL="https://haetae.ex/").json()
    assert from_env[1]["url"] == "https://haetae.ex/ingest/alertmanager"


def test_refusals_exit_with_their_codes(haetae):
    bad = haetae("integrations create --type nagios --name n", expect=EXIT_INVALID)
    assert (
        "type: Input should be 'alertmanager', 'grafana', 'pagerduty', 'generic' or 'changes'"
        in bad.err
    )
    assert not bad.out
    haetae("integrations create --type generic --name '  '", expect=EXIT_INVALID)
    haetae(f"integrations create --type generic --name {'x' * 101}", expect=EXIT_INVALID)

    haetae("integrations create --type generic --name dup")
    taken = haetae("integrations create --type grafana --name dup --json", expect=EXIT_CONFLICT)
    assert "already exists" in taken.err and not taken.out

    for command in ("rotate", "disable", "enable"):
        missing = haetae(f"integrations {command} ghost", expect=EXIT_NOT_FOUND)
        assert "ghost" in missing.err
    haetae("alerts show 999", expect=EXIT_NOT_FOUND)
    haetae("alerts show abc", expect=EXIT_NOT_FOUND)
    # Past PostgreSQL's 32-bit ids: not found, not a database error.
    haetae("alerts show 3000000000", expect=EXIT_NOT_FOUND)
    haetae("integrations rotate 99999999999999999999", expect=EXIT_NOT_FOUND)
    haetae("alerts list --integration ghost", expect=EXIT_NOT_FOUND)
    haetae("alerts list --status open", expect=EXIT_INVALID)
    assert set(_hashes(haetae.url)) == {"dup"}  # nothing refused was stored


def _insert_alerts(url: str, incident_id: str) -> dict[str, int]:
    """Alerts as the ingest path stores them, written with the ORM; name -> id."""
    db = Database(url)
    try:
        with db.session() as session:
            am = session.scalars(select(Integration).where(Integration.name == "prod-am")).one()
            gen = session.scalars(select(Integration).where(Integration.name == "scripts")).one()

            def alert(integration: Integration, n: int, status: str, **fields: object) -> Alert:
                row = Alert(
                    integration_id=integration.id,
                    dedup_key=f"key-{n}",
                    open_key=None if status == "resolved" else f"key-{n}",
                    status=status,
                    received_at=SEEN + timedelta(minutes=n),
                    last_received_at=SEEN + timedelta(minutes=n),
                    **fields,
                )
                session.add(row)
                return row

            disk = alert(
                am,
                1,
                "firing",
                summary="디스크 사용량 95%",
                severity="P1",
                sender_severity="critical",
                service="database",
                labels={"alertname": "DiskFull", "팀": "데이터베이스 운영팀"},
                annotations={
                    "runbook_url": "https://wiki.example/disk",
                    "설명": "여유 공간 5% 미만",
                },
                starts_at=SEEN - timedelta(minutes=3),
                receipts=3,
                incident_id=incident_id,
                raw={"fingerprint": "c39fe8b0", "labels": {"팀": "데이터베이스 운영팀"}},
            )
            cpu = alert(am, 2, "resolved", summary="CPU high", resolved_at=SEEN)
            queue = alert(
                gen, 3, "acknowledged", summary="Queue [backlog] growing", incident_id=incident_id
            )
            session.flush()
            return {"disk": disk.id, "cpu": cpu.id, "queue": queue.id}
    finally:
        db.dispose()


def test_alerts_list_and_show_read_the_stored_alerts(haetae):
    haetae("integrations create --type alertmanager --name prod-am")
    haetae("integrations create --type generic --name scripts")
    incident = haetae("declare --title 'DB disk' --severity P1 --reason 'disk'").out.strip()
    ids = _insert_alerts(haetae.url, incident)

    page = haetae("alerts list --json").json()
    assert set(page) == set(AlertPage.model_fields)  # GET /api/v1/alerts's shape
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)
    assert [a["id"] for a in page["items"]] == [ids["queue"], ids["cpu"], ids["disk"]]  # newest 1st
    disk = page["items"][2]
    assert set(disk) == set(AlertOut.model_fields)
    assert disk["labels"] == {"alertname": "DiskFull", "팀": "데이터베이스 운영팀"}
    assert (disk["integration"], disk["status"], disk["incident_id"]) == (
        "prod-am",
        "firing",
        incident,
    )
    assert disk["received_at"] == "2026-11-21T01:01:00Z"

    def ids_of(options: str) -> list[int]:
        return [a["id"] for a in haetae(f"alerts list {options} --json").json()["items"]]

    assert ids_of("--integration prod-am") == [ids["cpu"], ids["disk"]]
    assert ids_of(f"--incident {incident}") == [ids["queue"], ids["disk"]]
    assert ids_of("--status resolved") == [ids["cpu"]]
    assert ids_of("--integration scripts --status firing") == []
    assert ids_of("--limit 1") == [ids["queue"]]
    assert ids_of("--limit 1 --offset 1") == [ids["cpu"]]

    table = haetae("alerts list").out
    assert "디스크 사용량 95%" in table and "Queue [backlog] growing" in table
    assert "11-21 10:01" in table  # received, in the policy's zone (KST)

    shown = haetae(f"alerts show {ids['disk']} --json").json()
    assert set(shown) == set(AlertDetail.model_fields)  # GET /api/v1/alerts/{id}'s shape
    assert shown["raw"] == {"fingerprint": "c39fe8b0", "labels": {"팀": "데이터베이스 운영팀"}}
    assert shown["annotations"]["설명"] == "여유 공간 5% 미만"
    assert {k: shown[k] for k in ("labels", "receipts", "severity")} == {
        "labels": disk["labels"],
        "receipts": 3,
        "severity": "P1",
    }

    text = haetae(f"alerts show {ids['disk']}").out
    assert "팀: 데이터베이스 운영팀" in text  # Korean shown unchanged, not escaped
    assert "설명: 여유 공간 5% 미만" in text
    assert '"fingerprint": "c39fe8b0"' in text  # the raw payload, as JSON
    assert incident in text and "2026-11-21 09:57 KST" in text  # started, in the policy's zone
