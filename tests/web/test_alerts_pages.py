"""The console's alerts and integrations pages over real HTTP, as admin, responder and viewer."""

from __future__ import annotations

import html
import itertools
import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from haetae.alerts.integrations import create_integration, digest
from haetae.alerts.models import Alert, Integration
from haetae.clock import utcnow
from haetae.db import Database
from tests.api.helpers import declare
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from

RECEIVED = datetime(2026, 11, 21, 1, 2, tzinfo=UTC)  # 10:02 in the policy's Asia/Seoul
_keys = itertools.count(1)


@pytest.fixture
def ada(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    """An admin signed in to the console."""
    with console_for(server.url, db, "ada", role="admin") as client:
        yield client


def add_integration(db: Database, name: str = "prod-am", type: str = "alertmanager") -> int:
    with db.session() as session:
        integration, _token = create_integration(
            session, name=name, type=type, actor="test", now=utcnow()
        )
        return integration.id


def add_alert(db: Database, integration_id: int, **fields: Any) -> int:
    key = f"key-{next(_keys)}"
    status = fields.get("status", "firing")
    values: dict[str, Any] = {
        "integration_id": integration_id,
        "dedup_key": key,
        "open_key": None if status == "resolved" else key,
        "status": status,
        "summary": "Disk 95% full on db-1",
        "received_at": RECEIVED,
        "last_received_at": RECEIVED,
        "labels": {},
        "annotations": {},
        "raw": {},
    }
    values.update(fields)
    with db.session() as session:
        alert = Alert(**values)
        session.add(alert)
        session.flush()
        return alert.id


def assert_untouched(db: Database, before: Integration) -> None:
    """prod-am is as it was (same token, same state) and no other integration was made."""
    after = integration_row(db, "prod-am")
    assert (after.token_hash, after.disabled_at) == (before.token_hash, before.disabled_at)
    with db.session(write=False) as session:
        assert list(session.scalars(select(Integration.name))) == ["prod-am"]


def integration_row(db: Database, name: str) -> Integration:
    with db.session(write=False) as session:
        found = session.scalars(select(Integration).where(Integration.name == name)).one()
        session.expunge(found)
        return found


def pre(page: str, element_id: str) -> str:
    """The text of a <pre id=...> as the browser shows it (entities decoded)."""
    found = re.search(rf'<pre id="{element_id}">(.*?)</pre>', page, re.S)
    assert found, f"no <pre id={element_id}> on the page"
    return html.unescape(found.group(1))


def create(client: httpx.Client, name: str, type: str) -> httpx.Response:
    page = client.get("/integrations")
    return client.post(
        "/integrations",
        data={"name": name, "type": type, "csrf_token": csrf_from(page.text)},
    )


def post_form(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    page = client.get("/integrations")
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": csrf_from(page.text), **data})


# Integrations: create, token once, snippet


def test_admin_creates_an_integration_and_sees_its_token_once(
    ada: httpx.Client, db: Database, server: RunningServer
) -> None:
    response = create(ada, "prod-am", "alertmanager")
    assert response.status_code == 200, response.text
    assert "it will not be shown again" in response.text
    token = pre(response.text, "fresh-token-value")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    url = pre(response.text, "fresh-url")
    assert url == f"{server.url}/ingest/alertmanager"

    stored = integration_row(db, "prod-am")
    assert stored.token_hash == digest(token)
    assert stored.created_by == "ada"

    snippet = pre(response.text, "fresh-snippet")
    receiver = yaml.safe_load(snippet)["receivers"][0]
    webhook = receiver["webhook_configs"][0]
    assert receiver["name"] == "haetae-prod-am"
    assert webhook["url"] == url
    assert webhook["send_resolved"] is True
    assert webhook["http_config"]["authorization"]["credentials"] == token

    # Afterwards the page has the integration, its token prefix and a placeholder, never the token.
    later = ada.get("/integrations")
    assert token not in later.text
    assert f"{token[:6]}…" in later.text
    assert url in later.text
    placeholder = pre(later.text, f"snippet-{stored.id}")
    assert (
        yaml.safe_load(placeholder)["receivers"][0]["webhook_configs"][0]["http_config"][
            "authorization"
        ]["credentials"]
        == "<token>"
    )
    assert token not in ada.get(f"/integrations/{stored.id}").text


def test_the_snippet_is_a_receiver_alertmanager_accepts(ada: httpx.Client, tmp_path: Path) -> None:
    response = create(ada, "가동 감시: prod #1", "alertmanager")
    assert response.status_code == 200, response.text
    snippet = yaml.safe_load(pre(response.text, "fresh-snippet"))
    assert snippet["receivers"][0]["name"] == "haetae-가동 감시: prod #1"
    config = {"route": {"receiver": snippet["receivers"][0]["name"]}, **snippet}
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    checked = subprocess.run(
        ["amtool", "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # As pasted, without the route, the YAML text itself parses to the same receiver.
    text = pre(response.text, "fresh-snippet")
    assert text.startswith("receivers:\n")


@pytest.mark.parametrize(
    ("kind", "path", "hint"),
    [
        ("pagerduty", "/v2/enqueue", "routing key"),
        ("generic", "/ingest/generic", "Authorization: Bearer &lt;token&gt;"),
        ("grafana", "/ingest/grafana", "?token=&lt;token&gt;"),
    ],
)
def test_other_types_get_their_webhook_url_and_no_alertmanager_snippet(
    ada: httpx.Client, server: RunningServer, kind: str, path: str, hint: str
) -> None:
    response = create(ada, f"{kind}-sender", kind)
    assert response.status_code == 200, response.text
    assert pre(response.text, "fresh-url") == server.url + path
    assert 'id="fresh-snippet"' not in response.text
    assert hint in response.text


def test_webhook_urls_use_the_public_url_when_set(
    ada: httpx.Client, db: Database, server: RunningServer
) -> None:
    settings = server.app.state.settings
    server.app.state.settings = settings.model_copy(
        update={"public_url": "https://haetae.example.com/"}
    )
    try:
        response = create(ada, "prod-am", "alertmanager")
        assert pre(response.text, "fresh-url") == "https://haetae.example.com/ingest/alertmanager"
        assert "https://haetae.example.com/ingest/alertmanager" in ada.get("/integrations").text
    finally:
        server.app.state.settings = settings


def test_rotating_shows_a_new_token_and_forgets_the_old_one(
    ada: httpx.Client, db: Database
) -> None:
    first = pre(create(ada, "prod-am", "alertmanager").text, "fresh-token-value")
    integration_id = integration_row(db, "prod-am").id
    response = post_form(ada, f"/integrations/{integration_id}/rotate")
    assert response.status_code == 200, response.text
    assert "The previous token no longer works." in response.text
    second = pre(response.text, "fresh-token-value")
    assert second != first
    assert second in pre(response.text, "fresh-snippet")

    stored = integration_row(db, "prod-am")
    assert stored.token_hash == digest(second)
    assert stored.token_prefix == second[:6]
    assert stored.rotated_at is not None
    with db.session(write=False) as session:
        hashes = set(session.scalars(select(Integration.token_hash)))
    assert digest(first) not in hashes


def test_disable_and_enable(ada: httpx.Client, db: Database) -> None:
    integration_id = add_integration(db)
    response = post_form(ada, f"/integrations/{integration_id}/enabled", enabled="0")
    assert response.status_code == 303
    assert response.headers["location"] == "/integrations"
    assert integration_row(db, "prod-am").disabled_at is not None
    page = ada.get("/integrations").text
    assert "Disabled" in page
    assert 'aria-label="Enable prod-am"' in page

    back = f"/integrations/{integration_id}"
    response = post_form(ada, f"/integrations/{integration_id}/enabled", enabled="1", back=back)
    assert response.headers["location"] == back
    assert integration_row(db, "prod-am").disabled_at is None
    assert 'aria-label="Disable prod-am"' in ada.get(back).text


def test_refusals_keep_what_was_typed(ada: httpx.Client, db: Database) -> None:
    add_integration(db, "prod-am")
    taken = create(ada, "prod-am", "grafana")
    assert taken.status_code == 409
    assert "An integration with that name already exists." in taken.text
    assert 'value="prod-am"' in taken.text
    assert '<option value="grafana" selected>' in taken.text

    empty = create(ada, "   ", "alertmanager")
    assert empty.status_code == 422
    assert "Give the integration a name" in empty.text
    too_long = create(ada, "x" * 101, "alertmanager")
    assert too_long.status_code == 422
    unknown = create(ada, "new-one", "nagios")
    assert unknown.status_code == 422
    assert "Choose the integration&#39;s type." in unknown.text
    with db.session(write=False) as session:
        assert list(session.scalars(select(Integration.name))) == ["prod-am"]


def test_missing_integration_is_a_404_page(ada: httpx.Client) -> None:
    response = ada.get("/integrations/999")
    assert response.status_code == 404
    assert "Integration 999 does not exist." in response.text
    assert post_form(ada, "/integrations/999/rotate").status_code == 404


# Roles and CSRF


@pytest.mark.parametrize("who", ["alice", "victor"])
def test_responders_and_viewers_read_but_cannot_manage(
    who: str, request: pytest.FixtureRequest, db: Database
) -> None:
    client: httpx.Client = request.getfixturevalue(who)
    integration_id = add_integration(db)
    before = integration_row(db, "prod-am")
    page = client.get("/integrations")
    assert page.status_code == 200
    assert "prod-am" in page.text
    assert 'action="/integrations' not in page.text  # no create, rotate or disable forms
    detail = client.get(f"/integrations/{integration_id}")
    assert detail.status_code == 200
    assert 'action="/integrations' not in detail.text

    for path, data in [
        ("/integrations", {"name": "sneaky", "type": "generic"}),
        (f"/integrations/{integration_id}/rotate", {}),
        (f"/integrations/{integration_id}/enabled", {"enabled": "0"}),
    ]:
        response = client.post(path, data={"csrf_token": csrf_from(page.text), **data})
        assert response.status_code == 403, path
        assert "Only an admin can manage integrations." in response.text
    assert_untouched(db, before)


def test_posts_without_the_csrf_token_are_refused(ada: httpx.Client, db: Database) -> None:
    integration_id = add_integration(db)
    before = integration_row(db, "prod-am")
    for path, data in [
        ("/integrations", {"name": "forged", "type": "generic"}),
        (f"/integrations/{integration_id}/rotate", {}),
        (f"/integrations/{integration_id}/enabled", {"enabled": "0"}),
    ]:
        assert ada.post(path, data=data).status_code == 403, path
        forged = ada.post(path, data={**data, "csrf_token": "0" * 64})
        assert forged.status_code == 403, path
        assert "security token" in forged.text
    assert_untouched(db, before)


def test_pages_need_a_session(anon: httpx.Client) -> None:
    for path in ("/integrations", "/integrations/1", "/alerts", "/alerts/1"):
        response = anon.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


# Alerts


def test_alert_detail_shows_labels_unchanged_and_escaped(
    alice: httpx.Client, db: Database, api: httpx.Client
) -> None:
    integration_id = add_integration(db)
    incident_id = declare(api)["id"]
    raw = {"receiver": "haetae", "alerts": [{"labels": {"팀": "결제팀", "x": "<b>bold</b>"}}]}
    alert_id = add_alert(
        db,
        integration_id,
        summary="디스크 사용량 95% <img src=x onerror=alert(1)>",
        details="여유 공간이 5% 아래로 떨어졌습니다.",
        labels={"팀": "결제팀", "alertname": "DiskFull", "note": "<script>alert(1)</script>"},
        annotations={"runbook_url": "https://wiki.example/disk", "설명": "디스크가 가득 참"},
        sender_severity="critical",
        severity="P1",
        service="database",
        source="db-1",
        generator_url="javascript:alert(1)",
        starts_at=RECEIVED - timedelta(minutes=3),
        acknowledged_at=RECEIVED + timedelta(minutes=5),
        receipts=4,
        rule="database-pages",
        incident_id=incident_id,
        raw=raw,
    )
    page = alice.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    text = page.text
    assert '<td class="value">결제팀</td>' in text
    assert '<td class="mono">팀</td>' in text
    assert "디스크가 가득 참" in text
    assert "여유 공간이 5% 아래로 떨어졌습니다." in text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert 'href="javascript:' not in text
    # Times in the policy's zone, like the rest of the console.
    assert "2026-11-21 10:02 KST" in text  # received
    assert "2026-11-21 09:59 KST" in text  # starts
    assert "2026-11-21 10:07 KST" in text  # acknowledged
    assert f'href="/incidents/{incident_id}"' in text
    assert f'href="/integrations/{integration_id}"' in text
    assert "database-pages" in text
    # The raw payload, pretty-printed and escaped.
    shown = re.search(r'<pre class="raw">(.*?)</pre>', text, re.S)
    assert shown
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown.group(1)
    assert json.loads(html.unescape(shown.group(1))) == raw
    assert '\n  "receiver": "haetae"' in html.unescape(shown.group(1))


def test_missing_alert_is_a_404_page(alice: httpx.Client) -> None:
    for alert_id in ("12345", "abc", "9" * 30):
        response = alice.get(f"/alerts/{alert_id}")
        assert response.status_code == 404
        assert "does not exist" in response.text


def test_alert_list_filters_by_status_and_integration(alice: httpx.Client, db: Database) -> None:
    am = add_integration(db, "prod-am")
    grafana = add_integration(db, "grafana", "grafana")
    add_alert(db, am, summary="AM firing")
    add_alert(db, am, summary="AM resolved", status="resolved")
    add_alert(db, grafana, summary="Grafana acknowledged", status="acknowledged")

    def shown(query: str) -> set[str]:
        page = alice.get(f"/alerts{query}")
        assert page.status_code == 200
        return set(
            re.findall(r'<a href="/alerts/\d+" class="incident-link">([^<]+)</a>', page.text)
        )

    everything = {"AM firing", "AM resolved", "Grafana acknowledged"}
    assert shown("") == everything
    assert shown("?status=resolved") == {"AM resolved"}
    assert shown("?status=open") == {"AM firing", "Grafana acknowledged"}
    assert shown(f"?integration={am}") == {"AM firing", "AM resolved"}
    assert shown(f"?integration={grafana}&status=firing") == set()
    assert shown("?status=bogus&integration=x") == everything


def test_alerts_are_paged_newest_first(alice: httpx.Client, db: Database) -> None:
    integration_id = add_integration(db)
    for n in range(30):
        at = RECEIVED + timedelta(minutes=n)
        add_alert(db, integration_id, summary=f"alert {n:02d}", received_at=at, last_received_at=at)
    first = alice.get("/alerts").text
    names = re.findall(r'class="incident-link">alert (\d+)</a>', first)
    assert names == [f"{n:02d}" for n in range(29, 4, -1)]
    assert 'href="/alerts?page=2" rel="next"' in first
    second = alice.get("/alerts?page=2").text
    assert re.findall(r'class="incident-link">alert (\d+)</a>', second) == [
        "04",
        "03",
        "02",
        "01",
        "00",
    ]
    detail = alice.get(f"/integrations/{integration_id}").text
    assert re.findall(r'class="incident-link">alert (\d+)</a>', detail)[0] == "29"
    assert f'href="/integrations/{integration_id}?page=2"' in detail


def test_integration_page_lists_only_its_alerts(alice: httpx.Client, db: Database) -> None:
    mine = add_integration(db, "prod-am")
    other = add_integration(db, "other", "generic")
    add_alert(db, mine, summary="Mine")
    add_alert(db, other, summary="Not mine")
    page = alice.get(f"/integrations/{mine}").text
    assert "Mine" in page
    assert "Not mine" not in page
    assert "1 alert" in alice.get("/integrations").text


def test_incident_page_lists_its_alerts(
    alice: httpx.Client, db: Database, api: httpx.Client
) -> None:
    integration_id = add_integration(db)
    incident_id = declare(api)["id"]
    other_incident = declare(api, title="Another")["id"]
    ours = add_alert(db, integration_id, summary="Disk full", incident_id=incident_id, receipts=3)
    add_alert(
        db,
        integration_id,
        summary="Disk back to normal",
        status="resolved",
        incident_id=incident_id,
        received_at=RECEIVED + timedelta(minutes=1),
    )
    add_alert(db, integration_id, summary="Someone else's alert", incident_id=other_incident)
    page = alice.get(f"/incidents/{incident_id}").text
    panel = re.search(r'<section id="panel-alerts".*?</section>', page, re.S)
    assert panel
    text = panel.group(0)
    assert f'href="/alerts/{ours}"' in text
    assert text.index("Disk back to normal") < text.index("Disk full")  # newest first
    assert "Someone else" not in text
    assert "2026-11-21 10:02 KST" in text
    assert "<td>3</td>" in text
    assert "status-alert-resolved" in text

    # An incident with no alerts keeps the panel, hidden.
    quiet = declare(api, title="Quiet")["id"]
    empty = re.search(r'<section id="panel-alerts"[^>]*>', alice.get(f"/incidents/{quiet}").text)
    assert empty
    assert "hidden" in empty.group(0)


def test_incident_actions_keep_the_alerts_panel(
    alice: httpx.Client, db: Database, api: httpx.Client
) -> None:
    integration_id = add_integration(db)
    incident_id = declare(api)["id"]
    add_alert(db, integration_id, summary="Disk full", incident_id=incident_id)
    page = alice.get(f"/incidents/{incident_id}")
    response = alice.post(
        f"/incidents/{incident_id}/notes",
        data={"body": "looking", "csrf_token": csrf_from(page.text)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    assert '<section id="panel-alerts" class="card panel" hx-swap-oob="true">' in response.text
    assert "Disk full" in response.text


def test_new_pages_in_korean(ada: httpx.Client, db: Database, api: httpx.Client) -> None:
    integration_id = add_integration(db)
    incident_id = declare(api)["id"]
    alert_id = add_alert(db, integration_id, summary="Disk full", incident_id=incident_id)
    ada.cookies.set("lang", "ko")
    pages = {
        "/integrations": ("연동", "새 연동"),
        f"/integrations/{integration_id}": ("최근 알림", "토큰 교체"),
        "/alerts": ("알림", "발생 중"),
        f"/alerts/{alert_id}": ("원본 페이로드", "레이블"),
        f"/incidents/{incident_id}": ("알림", "수신 횟수"),
    }
    for path, words in pages.items():
        page = ada.get(path)
        assert page.status_code == 200, path
        for word in words:
            assert word in page.text, (path, word)
    english = ("Integrations</h1>", "Recent alerts", "Raw payload", "Receipts", "Firing")
    for path in pages:
        text = ada.get(path).text
        assert not [w for w in english if w in text], path
    created = create(ada, "새 연동기", "alertmanager")
    assert "다시 표시되지 않습니다" in created.text


# With the real ingest endpoints


def ingest(anon: httpx.Client, token: str, body: dict[str, Any]) -> httpx.Response:
    return anon.post("/ingest/generic", json=body, headers={"Authorization": f"Bearer {token}"})


def test_rotating_or_disabling_in_the_console_stops_the_old_token_at_once(
    ada: httpx.Client, anon: httpx.Client, db: Database
) -> None:
    first = pre(create(ada, "backups", "generic").text, "fresh-token-value")
    assert ingest(anon, first, {"summary": "Backup failed"}).status_code == 202
    integration_id = integration_row(db, "backups").id
    rotated = post_form(ada, f"/integrations/{integration_id}/rotate")
    second = pre(rotated.text, "fresh-token-value")
    assert ingest(anon, first, {"summary": "Backup failed"}).status_code == 401
    assert ingest(anon, second, {"summary": "Backup failed"}).status_code == 202

    post_form(ada, f"/integrations/{integration_id}/enabled", enabled="0")
    assert ingest(anon, second, {"summary": "Backup failed"}).status_code == 401
    post_form(ada, f"/integrations/{integration_id}/enabled", enabled="1")
    assert ingest(anon, second, {"summary": "Backup failed"}).status_code == 202


def test_an_ingested_alert_on_its_pages(ada: httpx.Client, anon: httpx.Client) -> None:
    token = pre(create(ada, "db-monitor", "generic").text, "fresh-token-value")
    sent = {
        "dedup_key": "disk-full/db-1",
        "summary": "디스크 사용량 95% — db-1",
        "severity": "critical",
        "labels": {"service": "database", "팀": "데이터베이스팀", "note": "<script>x</script>"},
        "annotations": {"runbook_url": "https://wiki.example/disk"},
    }
    response = ingest(anon, token, sent)
    assert response.status_code == 202, response.text
    accepted = response.json()["alerts"][0]
    alert_id, incident_id = accepted["alert_id"], accepted["incident_id"]
    assert incident_id

    page = ada.get(f"/alerts/{alert_id}").text
    assert "디스크 사용량 95% — db-1" in page
    assert '<td class="value">데이터베이스팀</td>' in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page
    shown = re.search(r'<pre class="raw">(.*?)</pre>', page, re.S)
    assert shown
    assert json.loads(html.unescape(shown.group(1)))["labels"]["팀"] == "데이터베이스팀"
    assert f'href="/incidents/{incident_id}"' in page

    incident = ada.get(f"/incidents/{incident_id}").text
    panel = re.search(r'<section id="panel-alerts".*?</section>', incident, re.S)
    assert panel
    assert f'href="/alerts/{alert_id}"' in panel.group(0)
    assert "디스크 사용량 95% — db-1" in panel.group(0)
