"""Every console page, its error pages, /act links and /docs carry the strict
Content-Security-Policy, for each role, and their markup holds no inline script or style."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.app import create_app
from haetae.auth.models import User
from haetae.clock import utcnow
from haetae.config import Settings
from haetae.db import Database
from haetae.notify import links
from haetae.policy.schema import Policy
from tests.conftest import JWT_SECRET
from tests.support.server import RunningServer, start_server
from tests.web.console_client import console_for, csrf_from, make_user

# What a policy must say for inline script, inline style, eval, plugins, framing and
# other hosts to be refused; the header may say more, never less.
REQUIRED = {
    "default-src": {"'none'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
}
# Markup the policy would refuse: a <script> without src, <style>, a style="" attribute,
# an on...="" handler, a javascript: URL.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I
)


def directives(response: httpx.Response) -> dict[str, set[str]]:
    header = response.headers.get("content-security-policy")
    assert header, f"{response.request.url.path}: no Content-Security-Policy"
    assert len(response.headers.get_list("content-security-policy")) == 1
    parsed: dict[str, set[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = set(words[1:])
    return parsed


def assert_strict(response: httpx.Response) -> None:
    path = response.request.url.path
    parsed = directives(response)
    for name, sources in REQUIRED.items():
        assert parsed.get(name) == sources, (path, name, parsed.get(name))
    everything = set().union(*parsed.values())
    assert not {s for s in everything if s.startswith("'unsafe-")}, (path, everything)
    assert "*" not in everything and "http:" not in everything, (path, everything)


def assert_no_inline(response: httpx.Response) -> None:
    found = INLINE.search(response.text)
    assert found is None, (response.request.url.path, found and found.group(0))


@dataclass
class Seeded:
    """What the console shows, made through the API as people would make it."""

    admin: str
    incident_id: str
    alert_id: str
    integration_id: str
    schedule: str
    link_token: str
    drill: str


def seed_console(api: httpx.Client, db: Database, admin: str) -> Seeded:
    """Content for every console page: an incident with roles, an update, a note, a
    decision and a paging panel; an alert from an integration; a schedule with shifts; an
    escalation policy; the admin's contact method; an action link for the admin."""
    make_user(db, admin, role="admin")
    make_user(db, "bora")
    handoff = (utcnow() - timedelta(days=3)).strftime("%Y-%m-%dT09:00")
    schedule = {
        "id": "ops",
        "name": "Ops on-call",
        "time_zone": "Asia/Seoul",
        "rotations": [
            {"name": "daily", "type": "daily", "handoff": handoff, "participants": [admin, "bora"]}
        ],
    }
    escalation = {"id": "ops-page", "steps": [{"notify": [{"schedule": "ops"}], "wait": "10m"}]}
    method = {"name": "pager", "url": "json://127.0.0.1:9/pager"}
    for path, body in (
        ("/api/v1/schedules", schedule),
        ("/api/v1/escalation-policies", escalation),
        (f"/api/v1/users/{admin}/contact-methods", method),
    ):
        made = api.post(path, json=body)
        assert made.status_code == 201, (path, made.text)

    declared = api.post(
        "/api/v1/incidents",
        json={
            "title": "Checkout returns 502",
            "summary": "Card payments fail since the 14:10 deploy.",
            "business_impact": "revenue",
            "user_impact": "all",
        },
    )
    assert declared.status_code == 201, declared.text
    incident_id = declared.json()["id"]
    base = f"/api/v1/incidents/{incident_id}"
    for method_name, path, body in (
        ("put", f"{base}/roles/ic", {"assignee": admin}),
        ("post", f"{base}/updates", {"situation": "Rolling back.", "impact": "Cards fail."}),
        ("post", f"{base}/notes", {"body": "Error rate 40% on checkout-api."}),
        (
            "post",
            f"{base}/decisions",
            {"kind": "technical", "decision": "Roll back", "reason": "Fastest fix"},
        ),
    ):
        answer = api.request(method_name, path, json=body)
        assert answer.status_code in (200, 201), (path, answer.text)

    integration = api.post("/api/v1/integrations", json={"name": "backups", "type": "generic"})
    assert integration.status_code == 201, integration.text
    token = integration.json()["token"]
    sent = api.post(
        "/ingest/generic",
        json={"summary": "Backup failed", "labels": {"service": "backups"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code == 202, sent.text
    alerts = api.get("/api/v1/alerts").json()["items"]
    assert alerts, "the alert was not stored"
    drill = api.post("/api/v1/drills", json={"title": "Failover game day", "kind": "game_day"})
    assert drill.status_code == 201, drill.text

    with db.session() as session:
        admin_id = session.scalar(select(User.id).where(User.username == admin))
        link_token = links.issue(
            session,
            incident_id=incident_id,
            action="acknowledge",
            user_id=admin_id,
            now=utcnow(),
            ttl=timedelta(hours=1),
            secret=JWT_SECRET,
        )
    return Seeded(
        admin=admin,
        incident_id=incident_id,
        alert_id=str(alerts[0]["id"]),
        integration_id=str(integration.json()["id"]),
        schedule="ops",
        link_token=link_token,
        drill=drill.json()["code"],
    )


def console_pages(seeded: Seeded) -> list[str]:
    """Every GET page of the console (src/haetae/web/*.py), with the seeded ids."""
    incident = seeded.incident_id
    return [
        "/",
        "/incidents",
        f"/incidents/{incident}",
        f"/incidents/{incident}/pages",
        "/incidents/new",
        "/incidents/classify?business_impact=revenue&user_impact=all",
        "/alerts",
        f"/alerts/{seeded.alert_id}",
        "/integrations",
        f"/integrations/{seeded.integration_id}",
        "/oncall",
        f"/schedules/{seeded.schedule}",
        "/escalation-policies",
        "/profile",
        "/access",
        "/reports",
        "/drills",
        f"/drills/{seeded.drill}",
    ]


# Pages a role may not open: their 403 page must carry the policy as well.
REFUSED = {"viewer": {"/incidents/new", "/access"}, "responder": {"/access"}}


def test_every_console_page_sends_the_strict_policy_to_each_role(
    api: httpx.Client, server: RunningServer, db: Database
) -> None:
    seeded = seed_console(api, db, "ada")
    pages = console_pages(seeded)
    for username, role in (("vic", "viewer"), ("rae", "responder"), ("root", "admin")):
        with console_for(server.url, db, username, role=role) as client:
            for path in pages:
                response = client.get(path)
                refused = path in REFUSED.get(role, set())
                assert response.status_code == (403 if refused else 200), (role, path)
                assert_strict(response)
                assert_no_inline(response)


def test_signed_out_pages_and_action_links_send_the_policy(
    anon: httpx.Client, api: httpx.Client, db: Database
) -> None:
    seeded = seed_console(api, db, "ada")
    for path, status in (
        ("/login", 200),
        ("/incidents", 303),  # to the sign-in page
        (f"/act/{seeded.link_token}", 200),
        ("/act/not-a-real-token", 404),
    ):
        response = anon.get(path, headers={"Accept": "text/html"})
        assert response.status_code == status, (path, response.text[:300])
        assert_strict(response)
        assert_no_inline(response)
    # The form on the link page posts to this site only: form-action 'self' lets it act.
    page = anon.get(f"/act/{seeded.link_token}")
    assert f'action="/act/{seeded.link_token}"' in page.text


def test_console_error_pages_send_the_policy(
    server: RunningServer, db: Database, api: httpx.Client
) -> None:
    seed_console(api, db, "ada")
    with console_for(server.url, db, "vic", role="viewer") as viewer:
        missing = viewer.get("/incidents/INC-20000101-999")
        assert missing.status_code == 404
        assert "does not exist" in missing.text
        form = viewer.get("/incidents/new")
        refused = viewer.post(
            "/incidents",
            data={"csrf_token": csrf_from(form.text), "title": "x"},
            headers={"Accept": "text/html"},
        )
        assert refused.status_code == 403, refused.text[:300]
        assert "<html" in refused.text
        unknown = viewer.get("/no-such-page", headers={"Accept": "text/html"})
        assert unknown.status_code == 404
        for response in (missing, refused, unknown):
            assert_strict(response)
            assert_no_inline(response)


def test_the_unavailable_page_sends_the_policy(tmp_path: Path, policy: Policy) -> None:
    # A database that cannot be opened (its path is a folder): the console answers its 503 page.
    (tmp_path / "haetae.db").mkdir()
    url = f"sqlite:///{tmp_path / 'haetae.db'}"
    settings = Settings(DATABASE_URL=url, JWT_SECRET=JWT_SECRET, HAETAE_DATA_DIR=tmp_path)
    broken = Database(url)
    # A well-signed link token, so the page has to read the database to answer.
    with Session() as scratch:
        token = links.issue(
            scratch,
            incident_id="INC-20000101-001",
            action="acknowledge",
            user_id=None,
            now=utcnow(),
            ttl=timedelta(hours=1),
            secret=JWT_SECRET,
        )
        scratch.expunge_all()  # never stored: only the token is wanted
    running = start_server(create_app(settings, policy=policy, database=broken, migrate=False))
    try:
        response = httpx.get(
            f"{running.url}/act/{token}", headers={"Accept": "text/html"}, timeout=30
        )
    finally:
        running.stop()
        broken.dispose()
    assert response.status_code == 503, response.text[:300]
    assert "<html" in response.text and "Try again shortly" in response.text
    assert_strict(response)
    assert_no_inline(response)


def test_swagger_ui_starts_from_a_file_under_the_same_policy(anon: httpx.Client) -> None:
    page = anon.get("/docs")
    assert page.status_code == 200
    assert_strict(page)
    assert_no_inline(page)
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == ["/static/swagger/swagger-ui-bundle.js", "/static/swagger/haetae-init.js"]
    init = anon.get("/static/swagger/haetae-init.js")
    assert init.status_code == 200
    assert "javascript" in init.headers["content-type"]
    assert 'url: "/openapi.json"' in init.text and "SwaggerUIBundle(" in init.text
    assert_strict(init)


def test_api_answers_carry_the_policy_too(anon: httpx.Client, api: httpx.Client) -> None:
    # One policy on every answer: a JSON body opened as a document can run nothing either.
    for response in (
        api.get("/api/v1/incidents"),
        anon.get("/api/v1/incidents"),
        anon.get("/health/live"),
        anon.get("/openapi.json"),
        anon.get("/metrics"),
        anon.get("/static/console.css"),
        anon.post("/ingest/generic", json={"summary": "x"}),  # answered before FastAPI
    ):
        assert_strict(response)


def test_templates_and_scripts_hold_no_inline_script_or_style() -> None:
    # The pages above are rendered with the seeded data; this covers the branches they miss.
    web = Path(__file__).resolve().parents[2] / "src" / "haetae" / "web"
    offenders = []
    for template in sorted((web / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        offenders += [f"{template.name}: {m.group(0)}" for m in INLINE.finditer(text)]
    for script in ("console.js", "alerts.js"):
        text = (web / "static" / script).read_text(encoding="utf-8")
        # Markup written by script would carry inline style or handlers past the templates.
        offenders += [
            f"{script}: {word}"
            for word in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "setAttribute(")
            if word in text
        ]
    assert offenders == []
