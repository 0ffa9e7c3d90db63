"""The runbook library over HTTP: GET /api/v1/runbooks[/{id}] for a viewer, and the console's
/runbooks pages (problems shown to admins only, the body's Markdown rendered safely)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from haetae.db import Database
from tests.runbooks.files import GOOD, runbook, write
from tests.support.people import api_login
from tests.support.server import RunningServer
from tests.web.console_client import console_for


@pytest.fixture
def library_dir(server: RunningServer, tmp_path: Path) -> Iterator[Path]:
    """RUNBOOKS_DIR of the running server, for this test."""
    ours = tmp_path / "runbooks"
    settings = server.app.state.settings
    server.app.state.settings = settings.model_copy(update={"runbooks_dir": str(ours)})
    try:
        yield ours
    finally:
        server.app.state.settings = settings


def test_a_viewer_reads_the_library_over_the_api_and_the_console(
    server: RunningServer, db: Database, api: httpx.Client, victor: httpx.Client, library_dir: Path
) -> None:
    write(library_dir, "db.md", GOOD)
    write(library_dir, "broken.md", runbook("broken", colour="red"))
    token = api_login(server.url, "victor").json()["access_token"]
    viewer = {"Authorization": f"Bearer {token}"}

    listed = api.get("/api/v1/runbooks", headers={**viewer, "Accept-Language": "ko"})
    assert listed.status_code == 200, listed.text
    body = listed.json()
    rows = {r["id"]: r for r in body["runbooks"]}
    db_row = rows["db-pool-exhausted"]
    assert db_row["title"] == "DB 커넥션 풀 고갈"
    assert db_row["titles"] == {
        "ko": "DB 커넥션 풀 고갈",
        "en": "Database connection pool exhausted",
    }
    assert db_row["shipped"] is False and db_row["path"] == "db.md"
    assert db_row["steps"] == 1 and db_row["kind"] == "runbook"
    assert db_row["match"]["services"] == ["Payments-DB"]
    assert rows["server-down"]["shipped"] is True  # the shipped ones beside ours
    assert {
        "file": str(library_dir / "broken.md"),
        "line": 4,
        "field": "colour",
        "message": "Extra inputs are not permitted",
    } in body["problems"]
    # No check is configured: the step naming one is a warning.
    assert any(w["field"] == "steps[0].check" for w in body["warnings"])

    shown = api.get("/api/v1/runbooks/db-pool-exhausted?lang=en", headers=viewer).json()
    assert shown["title"] == "Database connection pool exhausted"
    assert shown["runbook"]["steps"][0]["owner"] == "oncall_engineer"
    assert shown["runbook"]["verify"][0]["check"]["kind"] == "http"
    assert shown["runbook"]["body"].startswith("# Background")
    missing = api.get("/api/v1/runbooks/nope", headers=viewer)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert api.get("/api/v1/runbooks").status_code == 200  # the admin key too
    assert httpx.get(f"{server.url}/api/v1/runbooks").status_code == 401

    # The console: the list for a viewer has no problems section; an admin's has.
    page = victor.get("/runbooks")
    assert page.status_code == 200, page.text
    assert 'href="/runbooks/db-pool-exhausted"' in page.text
    assert 'href="/runbooks" aria-current="page"' in page.text
    assert "runbook-problems" not in page.text
    with console_for(server.url, db, "ada", role="admin") as admin:
        admin_page = admin.get("/runbooks").text
    assert 'id="runbook-problems"' in admin_page
    assert "broken.md:4: colour: Extra inputs are not permitted" in admin_page

    detail = victor.get("/runbooks/db-pool-exhausted")
    assert detail.status_code == 200
    html = detail.text
    assert "Count active connections" in html and "Severity guidance" in html
    # The command to copy, escaped, with its button wired by a script file (no inline script).
    assert (
        "<pre><code>psql -c &#34;SELECT count(*) FROM pg_stat_activity;&#34; &lt;b&gt;</code></pre>"
        in html
    )
    assert 'class="copy-command"' in html and '<script src="/static/runbooks.js"' in html
    # The Markdown body: formatted, raw HTML escaped, a javascript: link refused.
    assert "<h1>Background</h1>" in html and "<strong>20</strong>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert victor.get("/static/runbooks.js").status_code == 200
    victor.cookies.set("lang", "ko")
    korean = victor.get("/runbooks/db-pool-exhausted").text
    assert "활성 연결 수 확인" in korean and "심각도 기준" in korean
    assert victor.get("/runbooks/nope").status_code == 404
