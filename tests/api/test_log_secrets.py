"""Secrets stay out of the server's log: action-link tokens, iCal feed tokens, API keys and
integration tokens, seen from the stderr of a real `haetae serve`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from haetae.clock import utcnow
from haetae.db import Database
from haetae.migrations import upgrade_to_head
from haetae.notify import links
from haetae.observability import redacted_path
from tests.support.server import BOOTSTRAP_KEY, logged_serve, serve_env

JWT_SECRET = "k" * 40  # serve_env's


def test_redacted_path_hides_an_action_links_token_and_keeps_other_paths() -> None:
    assert redacted_path("/act/abc.def") == "/act/***"
    assert redacted_path("/act/abc.def/extra") == "/act/***"
    assert redacted_path("/act/") == "/act/***"
    assert redacted_path("/api/v1/incidents/INC-1") == "/api/v1/incidents/INC-1"
    assert redacted_path("/ical/users/ana.ics") == "/ical/users/ana.ics"
    assert redacted_path("/actions") == "/actions"


def test_the_servers_log_holds_no_secret_after_links_feeds_and_ingest(
    tmp_path: Path, fresh_database_url: str
) -> None:
    upgrade_to_head(fresh_database_url)
    log = tmp_path / "serve.log"
    env = serve_env(tmp_path / "data", DATABASE_URL=fresh_database_url, LOG_LEVEL="DEBUG")
    with logged_serve(env, log) as (url, api), httpx.Client(base_url=url, timeout=30) as anon:
        body = {"title": "Checkout returns 502", "business_impact": "revenue", "user_impact": "all"}
        made = api.post("/api/v1/incidents", json=body)
        assert made.status_code == 201, made.text
        database = Database(fresh_database_url)
        try:
            with database.session() as session:
                link = links.issue(
                    session,
                    incident_id=made.json()["id"],
                    action="acknowledge",
                    user_id=None,
                    now=utcnow(),
                    ttl=timedelta(hours=1),
                    secret=JWT_SECRET,
                )
        finally:
            database.dispose()
        assert anon.get(f"/act/{link}").status_code == 200
        assert anon.post(f"/act/{link}").status_code == 200
        assert anon.post(f"/act/{link}").status_code == 409  # used: logged again

        user = {"username": "ana", "password": "long enough pw", "role": "responder"}
        assert api.post("/api/v1/users", json=user).status_code == 201
        feed = api.post("/api/v1/users/ana/ical-token")
        assert feed.status_code == 200, feed.text
        feed_url = feed.json()["url"]
        feed_token = parse_qs(urlsplit(feed_url).query)["token"][0]
        assert anon.get(urlsplit(feed_url).path, params={"token": feed_token}).status_code == 200

        integration = api.post("/api/v1/integrations", json={"name": "am", "type": "generic"})
        assert integration.status_code == 201, integration.text
        ingest_token = integration.json()["token"]
        alert = {"summary": "disk full", "dedup_key": "disk", "severity": "warning"}
        sent = anon.post("/ingest/generic", json=alert, params={"token": ingest_token})
        assert sent.status_code == 202, sent.text
        sent = anon.post(
            "/ingest/generic", json=alert, headers={"Authorization": f"Bearer {ingest_token}"}
        )
        assert sent.status_code == 202, sent.text
        wrong = anon.post("/ingest/generic", json=alert, params={"token": "guess-" + "x" * 30})
        assert wrong.status_code == 401

    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    paths = [line["message"] for line in lines if line.get("logger") == "haetae.http"]
    # The requests were logged, with the link's secret segment replaced.
    assert "GET /act/*** 200" in paths
    assert "POST /act/*** 200" in paths
    assert "POST /act/*** 409" in paths
    assert "GET /ical/users/ana.ics 200" in paths
    for secret in (link, link.partition(".")[0], feed_token, ingest_token, BOOTSTRAP_KEY):
        assert secret not in text, f"a secret reached the log: {secret[:6]}..."
    assert "guess-" not in text
