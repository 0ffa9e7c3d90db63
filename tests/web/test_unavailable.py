"""A console form sent while the database cannot take writes says so, in the person's
language, with 503 and Retry-After: not a 500, and not a page claiming it was saved."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from haetae.app import create_app
from haetae.config import Settings
from haetae.db import Database
from haetae.migrations import upgrade_to_head
from haetae.policy.loader import default_policy
from tests.conftest import BACKEND, JWT_SECRET
from tests.support.server import start_server
from tests.web.console_client import console_for, csrf_from

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="another process's lock is SQLite's")


def test_a_form_sent_while_another_process_locks_the_database_is_refused_in_korean(
    tmp_path: Path,
):
    url = f"sqlite:///{tmp_path / 'haetae.db'}"
    upgrade_to_head(url)
    db = Database(url, busy_timeout=1.0)
    settings = Settings(DATABASE_URL=url, JWT_SECRET=JWT_SECRET, HAETAE_DATA_DIR=tmp_path)
    running = start_server(create_app(settings, policy=default_policy(), database=db))
    try:
        with console_for(running.url, db, "minji", locale="ko") as minji:
            token = csrf_from(minji.get("/incidents/new").text)
            declaration = {
                "csrf_token": token,
                "title": "결제 지연",
                "business_impact": "revenue",
                "user_impact": "all",
            }
            other = sqlite3.connect(tmp_path / "haetae.db", isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            try:
                refused = minji.post(
                    "/incidents",
                    data=declaration,
                    headers={"Accept": "text/html"},
                )
            finally:
                other.rollback()
                other.close()
            assert refused.status_code == 503, refused.text[:500]
            assert refused.headers.get("retry-after")
            assert "아무것도 저장되지 않았습니다" in refused.text
            assert 'value="결제 지연"' in refused.text  # what was typed is kept

            accepted = minji.post(
                "/incidents",
                data=declaration,
            )
            assert accepted.status_code == 303
    finally:
        running.stop()
        db.dispose()
