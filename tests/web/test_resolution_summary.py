"""The console's resolve form asks how it was resolved, and the incident's page says it."""

from __future__ import annotations

import re

import httpx

from haetae.db import Database
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from

SUMMARY = "Rolled back the export worker release"


def _p3(api: httpx.Client) -> str:
    body = {"title": "Exports slow", "business_impact": "operations", "user_impact": "some"}
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    incident_id = str(response.json()["id"])
    met = api.post(f"/api/v1/incidents/{incident_id}/conditions/core_functions_verified", json={})
    assert met.status_code == 200, met.text
    return incident_id


def test_resolving_in_the_console_asks_how_and_the_page_shows_it(
    alice: httpx.Client, api: httpx.Client
) -> None:
    incident_id = _p3(api)
    url = f"/incidents/{incident_id}"
    page = alice.get(url).text
    form = re.search(r'<form[^>]*class="stack resolve".*?</form>', page, re.S)
    assert form is not None, page
    assert re.search(r'<textarea name="summary"[^>]*required', form.group(0))
    assert 'name="to" value="resolved"' in form.group(0)
    token = csrf_from(page)

    refused = alice.post(f"{url}/transitions", data={"csrf_token": token, "to": "resolved"})
    assert refused.status_code == 422
    assert "resolution summary is required" in refused.text
    assert api.get(f"/api/v1{url}").json()["status"] == "triage"

    done = alice.post(
        f"{url}/transitions", data={"csrf_token": token, "to": "resolved", "summary": SUMMARY}
    )
    assert done.status_code == 303, done.text
    assert api.get(f"/api/v1{url}").json()["resolution_summary"] == SUMMARY
    header = re.search(r'<p class="resolution-summary">.*?</p>', alice.get(url).text, re.S)
    assert header is not None and SUMMARY in header.group(0)
    assert "How it was resolved" in header.group(0)


def test_the_korean_console_asks_in_korean(
    server: RunningServer, db: Database, api: httpx.Client
) -> None:
    incident_id = _p3(api)
    with console_for(server.url, db, "minji", locale="ko") as minji:
        page = minji.get(f"/incidents/{incident_id}").text
        assert "어떻게 해결했나요?" in page
        token = csrf_from(page)
        done = minji.post(
            f"/incidents/{incident_id}/transitions",
            data={"csrf_token": token, "to": "resolved", "summary": "배포 롤백"},
        )
        assert done.status_code == 303, done.text
        assert "해결 방법:</strong> 배포 롤백" in minji.get(f"/incidents/{incident_id}").text
