"""Downloading an incident's timeline from the console, in the page's language."""

from __future__ import annotations

from tests.api.helpers import declare
from tests.web.console_client import console_for


def test_the_incident_page_offers_the_timeline_as_markdown_and_csv(server, db, api):
    inc = declare(api, title="Login fails")["id"]
    api.post(f"/api/v1/incidents/{inc}/notes", json={"body": "로그인 서버 재시작"})
    with console_for(server.url, db, "soyeon", locale="ko") as browser:
        page = browser.get(f"/incidents/{inc}")
        assert f'href="/incidents/{inc}/timeline.md"' in page.text
        md = browser.get(f"/incidents/{inc}/timeline.md")
        assert md.status_code == 200
        assert md.headers["content-type"].startswith("text/markdown")
        assert "| 시간 | 활동 | 담당자 | 세부사항 |" in md.text
        assert "로그인 서버 재시작" in md.text
        csv = browser.get(f"/incidents/{inc}/timeline.csv")
        assert csv.text.splitlines()[0] == "시간,활동,담당자,세부사항"
        assert browser.get(f"/incidents/{inc}/timeline.pdf").status_code == 404
        assert browser.get("/incidents/INC-20990101-001/timeline.md").status_code == 404


def test_the_export_needs_a_session(anon, api):
    inc = declare(api)["id"]
    response = anon.get(f"/incidents/{inc}/timeline.md")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
