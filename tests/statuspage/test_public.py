"""The public status page over real HTTP: the hosted status page API's JSON field by field, the
feeds through feedparser, ETags and 304s, off and own-host answers, Korean and English, and
nothing internal, no draft and no drill ever in any public answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
import pytest
from sqlalchemy import update

from haetae.db import Database
from haetae.incidents.models import Incident
from haetae.statuspage.models import (
    Component,
    ComponentGroup,
    ComponentState,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
)
from haetae.statuspage.public import page_cache
from tests.support.server import RunningServer

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET_NOTE = "root cause is the leaked token in vault-prod-7"
SECRET_UPDATE = "internal: db primary failover pending, ping 010-1234-5678"
SECRET_TAG = "zz-internal-label"
SECRET_PERSON = "Minjun Kim"
SECRET_SERVICE = "ledger-core-internal"
DRAFT_BODY = "DRAFT never to be seen"
DRILL_TITLE = "Drill outage of the checkout"

JSON_PATHS = (
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
)
PAGE = {"id": str, "name": str, "url": str, "time_zone": str, "updated_at": str}
COMPONENT = {
    "id": str,
    "name": str,
    "status": str,
    "created_at": str,
    "updated_at": str,
    "position": int,
    "description": (str, type(None)),
    "showcase": bool,
    "start_date": (str, type(None)),
    "group_id": (str, type(None)),
    "page_id": str,
    "group": bool,
    "only_show_if_degraded": bool,
}
UPDATE = {
    "id": str,
    "status": str,
    "body": str,
    "incident_id": str,
    "created_at": str,
    "updated_at": str,
    "display_at": str,
    "affected_components": (list, type(None)),
    "deliver_notifications": bool,
    "custom_tweet": type(None),
    "tweet_id": type(None),
}
INCIDENT = {
    "id": str,
    "name": str,
    "status": str,
    "created_at": str,
    "updated_at": str,
    "monitoring_at": (str, type(None)),
    "resolved_at": (str, type(None)),
    "impact": str,
    "shortlink": str,
    "started_at": str,
    "page_id": str,
    "incident_updates": list,
    "components": list,
}
MAINTENANCE = {**INCIDENT, "scheduled_for": str, "scheduled_until": str}


def fields(obj: dict[str, Any], shape: dict[str, Any], where: str) -> None:
    missing = set(shape) - set(obj)
    assert not missing, f"{where}: missing {missing}"
    for key, kind in shape.items():
        assert isinstance(obj[key], kind), f"{where}.{key}: {obj[key]!r}"
        if key.endswith("_at") and isinstance(obj[key], str):
            datetime.fromisoformat(obj[key])  # ISO 8601 with an offset


def check_component(c: dict[str, Any]) -> None:
    fields(c, COMPONENT, f"component {c.get('id')}")
    assert c["status"] in {
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    }
    if c["group"]:
        assert isinstance(c["components"], list)


def check_incident(i: dict[str, Any], shape: dict[str, Any]) -> None:
    fields(i, shape, f"incident {i.get('id')}")
    for u in i["incident_updates"]:
        fields(u, UPDATE, f"update {u.get('id')}")
        assert u["incident_id"] == i["id"]
    for c in i["components"]:
        check_component(c)


def check_document(path: str, doc: dict[str, Any]) -> None:
    fields(doc["page"], PAGE, f"{path} page")
    if "status" in doc:
        assert doc["status"]["indicator"] in {"none", "minor", "major", "critical", "maintenance"}
        assert isinstance(doc["status"]["description"], str)
    for c in doc.get("components", []):
        check_component(c)
    for i in doc.get("incidents", []):
        check_incident(i, INCIDENT)
    for m in doc.get("scheduled_maintenances", []):
        check_incident(m, MAINTENANCE)
        assert m["impact"] == "maintenance"


def _incident(api: httpx.Client, title: str) -> str:
    body = {
        "title": title,
        "business_impact": "operations",
        "user_impact": "some",
        "services": [SECRET_SERVICE],
        "tags": [SECRET_TAG],
    }
    response = api.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def seed_page(db: Database, api: httpx.Client) -> dict[str, Any]:
    """A page with a group, two components, 3 days of states, a published incident linked to a
    Haetae incident full of internal data, a draft-only incident, a drill-linked incident, and
    maintenance windows (one running, one ahead)."""
    real = _incident(api, "Checkout API errors")
    note = api.post(f"/api/v1/incidents/{real}/notes", json={"body": SECRET_NOTE})
    assert note.status_code == 201, note.text
    posted = api.post(f"/api/v1/incidents/{real}/updates", json={"situation": SECRET_UPDATE})
    assert posted.status_code == 201, posted.text
    drill = _incident(api, "Drill incident")
    t0 = NOW - timedelta(days=3)
    with db.session() as s:
        s.execute(update(Incident).where(Incident.id == drill).values(drill=True))
        s.add(
            StatusPageSettings(
                enabled=True,
                title={"en": "Acme Status", "ko": "에이크미 상태"},
                host="status.acme.test",
                support_url="https://acme.test/support",
                updated_at=t0,
            )
        )
        group = ComponentGroup(
            slug="core", name={"en": "Core", "ko": "핵심"}, position=1, created_at=t0, updated_at=t0
        )
        s.add(group)
        s.flush()
        api_c = Component(
            slug="checkout-api",
            name={"en": "Checkout API", "ko": "결제 API"},
            description={"en": "Payments", "ko": "결제"},
            group_id=group.id,
            position=1,
            services=[SECRET_SERVICE],
            status="partial_outage",
            created_at=t0,
            updated_at=NOW - timedelta(minutes=20),
        )
        web = Component(
            slug="website",
            name={"en": "Website", "ko": "웹사이트"},
            position=2,
            status="operational",
            created_at=t0,
            updated_at=t0,
        )
        hidden = Component(
            slug="hidden-internal",
            name={"en": "Hidden"},
            visible=False,
            created_at=t0,
            updated_at=t0,
        )
        s.add_all([api_c, web, hidden])
        s.flush()
        s.add_all(
            [
                ComponentState(
                    component_id=api_c.id,
                    status="operational",
                    since=t0,
                    until=NOW - timedelta(minutes=20),
                ),
                ComponentState(
                    component_id=api_c.id,
                    status="partial_outage",
                    since=NOW - timedelta(minutes=20),
                ),
                ComponentState(component_id=web.id, status="operational", since=t0),
            ]
        )
        live = PublicIncident(
            code="k7m2xq9p",
            incident_id=real,
            title={"en": "Checkout is failing", "ko": "결제가 실패합니다"},
            impact="major",
            status="identified",
            components={str(api_c.id): "partial_outage"},
            started_at=NOW - timedelta(minutes=20),
            published_at=NOW - timedelta(minutes=18),
            created_by=SECRET_PERSON,
            created_at=NOW - timedelta(minutes=19),
            updated_at=NOW - timedelta(minutes=5),
        )
        unpublished = PublicIncident(
            code="draftonly1",
            title={"en": "Unpublished trouble"},
            impact="minor",
            started_at=NOW,
            created_by=SECRET_PERSON,
            created_at=NOW,
            updated_at=NOW,
        )
        drilled = PublicIncident(
            code="drill0001",
            incident_id=drill,
            title={"en": DRILL_TITLE},
            impact="critical",
            status="investigating",
            started_at=NOW - timedelta(minutes=3),
            published_at=NOW - timedelta(minutes=2),
            created_by=SECRET_PERSON,
            created_at=NOW - timedelta(minutes=3),
            updated_at=NOW - timedelta(minutes=2),
        )
        old = PublicIncident(
            code="old5resolv",
            title={"en": "Slow logins", "ko": "로그인 지연"},
            impact="minor",
            status="resolved",
            started_at=NOW - timedelta(days=2),
            resolved_at=NOW - timedelta(days=2) + timedelta(hours=1),
            published_at=NOW - timedelta(days=2),
            created_by=SECRET_PERSON,
            created_at=NOW - timedelta(days=2),
            updated_at=NOW - timedelta(days=2) + timedelta(hours=1),
        )
        s.add_all([live, unpublished, drilled, old])
        s.flush()

        def pub(incident: PublicIncident, status: str, en: str, ko: str, at: datetime) -> None:
            s.add(
                PublicUpdate(
                    public_incident_id=incident.id,
                    status=status,
                    body={"en": en, "ko": ko},
                    state="published",
                    created_by=SECRET_PERSON,
                    created_at=at,
                    published_by=SECRET_PERSON,
                    published_at=at,
                )
            )

        pub(
            live,
            "investigating",
            "We are looking into failed payments.",
            "결제 실패를 조사 중입니다.",
            NOW - timedelta(minutes=18),
        )
        pub(
            live,
            "identified",
            "The cause is found; a fix is rolling out.",
            "원인을 찾았고 수정 배포 중입니다.",
            NOW - timedelta(minutes=5),
        )
        s.add(
            PublicUpdate(
                public_incident_id=live.id,
                status="monitoring",
                body={"en": DRAFT_BODY},
                state="draft",
                created_by=SECRET_PERSON,
                created_at=NOW,
            )
        )
        s.add(
            PublicUpdate(
                public_incident_id=unpublished.id,
                status="investigating",
                body={"en": DRAFT_BODY},
                state="draft",
                created_by=SECRET_PERSON,
                created_at=NOW,
            )
        )
        pub(drilled, "investigating", DRILL_TITLE, DRILL_TITLE, NOW - timedelta(minutes=2))
        pub(
            old,
            "resolved",
            "Logins are fast again.",
            "로그인이 정상입니다.",
            NOW - timedelta(days=2) + timedelta(hours=1),
        )
        s.add_all(
            [
                Maintenance(
                    code="mnt-now",
                    title={"en": "Database upgrade", "ko": "데이터베이스 업그레이드"},
                    body={"en": "Brief read-only periods.", "ko": "잠시 읽기 전용입니다."},
                    status="scheduled",  # its window began: shown in progress
                    scheduled_for=NOW - timedelta(minutes=30),
                    scheduled_until=NOW + timedelta(hours=1),
                    component_ids=[web.id],
                    created_by=SECRET_PERSON,
                    created_at=t0,
                    updated_at=t0,
                ),
                Maintenance(
                    code="mnt-next",
                    title={"en": "Network work", "ko": "네트워크 작업"},
                    body={"en": "No impact expected."},
                    status="scheduled",
                    scheduled_for=NOW + timedelta(days=2),
                    scheduled_until=NOW + timedelta(days=2, hours=2),
                    component_ids=[api_c.id],
                    created_by=SECRET_PERSON,
                    created_at=t0,
                    updated_at=t0,
                ),
            ]
        )
    return {"real": real, "drill": drill}


@pytest.fixture
def page(server: RunningServer, db: Database, api: httpx.Client) -> dict[str, Any]:
    # Read the version on every request, so rows written by the test show at once.
    page_cache(server.app).ttl = 0
    try:
        yield seed_page(db, api)
    finally:
        page_cache(server.app).ttl = 1.0


def test_public_json_has_the_hosted_status_page_shape_and_nothing_internal(
    page: dict[str, Any], anon: httpx.Client
) -> None:
    answers: dict[str, str] = {}
    for path in JSON_PATHS:
        for lang in ("en", "ko"):
            r = anon.get(path, params={"lang": lang})
            assert r.status_code == 200, (path, r.text)
            assert r.headers["content-type"].startswith("application/json")
            assert r.headers["cache-control"] == "public, max-age=30"
            check_document(path, r.json())
            answers[f"{path}?{lang}"] = r.text

    summary = anon.get("/api/v2/summary.json").json()
    assert summary["page"]["name"] == "Acme Status"
    assert summary["page"]["time_zone"] == "Asia/Seoul"
    assert summary["status"] == {"indicator": "major", "description": "Partial System Outage"}
    ids = [c["id"] for c in summary["components"]]
    assert ids == ["group-core", "checkout-api", "website"]  # the hidden one never
    group = summary["components"][0]
    assert group["group"] is True and group["components"] == ["checkout-api"]
    assert summary["components"][1]["group_id"] == "group-core"
    assert summary["components"][1]["status"] == "partial_outage"
    [live] = summary["incidents"]
    assert live["id"] == "k7m2xq9p" and live["impact"] == "major" and live["status"] == "identified"
    assert [u["status"] for u in live["incident_updates"]] == ["identified", "investigating"]
    assert live["incident_updates"][0]["body"] == "The cause is found; a fix is rolling out."
    assert live["incident_updates"][-1]["affected_components"] == [
        {
            "code": "checkout-api",
            "name": "Checkout API",
            "old_status": "operational",
            "new_status": "partial_outage",
        }
    ]
    assert [c["id"] for c in live["components"]] == ["checkout-api"]
    assert live["shortlink"].endswith("/status/incidents/k7m2xq9p")
    assert [m["id"] for m in summary["scheduled_maintenances"]] == ["mnt-now", "mnt-next"]
    assert [m["status"] for m in summary["scheduled_maintenances"]] == ["in_progress", "scheduled"]

    ko = anon.get("/api/v2/summary.json", params={"lang": "ko"}).json()
    assert ko["page"]["name"] == "에이크미 상태"
    assert ko["incidents"][0]["incident_updates"][0]["body"] == "원인을 찾았고 수정 배포 중입니다."
    assert ko["components"][1]["name"] == "결제 API"
    assert ko["status"]["description"] != "Partial System Outage"

    every = anon.get("/api/v2/incidents.json").json()["incidents"]
    assert [i["id"] for i in every] == ["k7m2xq9p", "old5resolv"]
    assert every[1]["resolved_at"] is not None
    assert [i["id"] for i in anon.get("/api/v2/incidents/unresolved.json").json()["incidents"]] == [
        "k7m2xq9p"
    ]
    upcoming = anon.get("/api/v2/scheduled-maintenances/upcoming.json").json()
    assert [m["id"] for m in upcoming["scheduled_maintenances"]] == ["mnt-next"]
    active = anon.get("/api/v2/scheduled-maintenances/active.json").json()
    assert [m["id"] for m in active["scheduled_maintenances"]] == ["mnt-now"]
    assert active["scheduled_maintenances"][0]["components"][0]["id"] == "website"

    # Every public answer (JSON, pages, feeds), in both languages: nothing internal, no draft,
    # no drill.
    for path in (
        "/status",
        "/status/history",
        "/status/incidents/k7m2xq9p",
        "/status/history.atom",
        "/status/history.rss",
    ):
        for lang in ("en", "ko"):
            r = anon.get(path, params={"lang": lang})
            assert r.status_code == 200, (path, r.text)
            answers[f"{path}?{lang}"] = r.text
    for where, text in answers.items():
        for secret in (
            SECRET_NOTE,
            SECRET_UPDATE,
            SECRET_TAG,
            SECRET_PERSON,
            SECRET_SERVICE,
            page["real"],
            page["drill"],
            DRAFT_BODY,
            DRILL_TITLE,
            "draftonly1",
            "drill0001",
            "hidden-internal",
        ):
            assert secret not in text, (where, secret)
    for code in ("draftonly1", "drill0001"):
        assert anon.get(f"/status/incidents/{code}").status_code == 404


def test_status_page_html_feeds_caching_off_and_own_host(
    page: dict[str, Any], anon: httpx.Client, db: Database, server: RunningServer
) -> None:
    en = anon.get("/status", headers={"Accept-Language": "en-US"})
    assert en.status_code == 200
    assert "Partial System Outage" in en.text and "Checkout is failing" in en.text
    assert en.text.count('class="sp-bar ') == 2 * 90  # 90 days per visible component
    # Before the components existed: no data; today the checkout API's bar shows its outage.
    assert en.text.count("sp-bar-none") == 2 * 86
    assert 'class="sp-bar sp-st-partial_outage"' in en.text and "Partial outage" in en.text
    assert "Content-Security-Policy" in en.headers or "content-security-policy" in en.headers
    assert "Accept-Language" in en.headers["vary"]
    ko = anon.get("/status", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert '<html lang="ko">' in ko.text and "결제가 실패합니다" in ko.text
    assert "결제 API" in ko.text
    assert anon.get("/status", params={"lang": "en"}, headers={"Accept-Language": "ko"}).text.count(
        "Checkout is failing"
    )
    detail = anon.get("/status/incidents/k7m2xq9p", params={"lang": "en"})
    assert "The cause is found" in detail.text and "We are looking into" in detail.text
    history = anon.get("/status/history", params={"lang": "en"}).text
    assert "Slow logins" in history and "Database upgrade" in history

    # The feeds parse with feedparser and carry incidents and maintenance.
    for path in ("/status/history.atom", "/status/history.rss"):
        r = anon.get(path, params={"lang": "en"})
        parsed = feedparser.parse(r.content)
        assert not parsed.bozo, (path, parsed.bozo_exception)
        assert parsed.feed.title == "Acme Status"
        titles = {e.title for e in parsed.entries}
        assert {"Checkout is failing", "Slow logins", "Database upgrade", "Network work"} <= titles
        live = next(e for e in parsed.entries if e.title == "Checkout is failing")
        assert live.link.endswith("/status/incidents/k7m2xq9p")
        assert "The cause is found" in live.summary
        assert "atom" in parsed.version if path.endswith("atom") else "rss" in parsed.version
    korean = feedparser.parse(anon.get("/status/history.rss", params={"lang": "ko"}).content)
    assert "결제가 실패합니다" in {e.title for e in korean.entries}

    # ETag from the page version and language: 304 until the page changes.
    first = anon.get("/api/v2/summary.json")
    etag = first.headers["etag"]
    assert anon.get("/api/v2/summary.json", params={"lang": "ko"}).headers["etag"] != etag
    again = anon.get("/api/v2/summary.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    html_tag = anon.get("/status", params={"lang": "en"}).headers["etag"]
    assert (
        anon.get("/status", params={"lang": "en"}, headers={"If-None-Match": html_tag}).status_code
        == 304
    )
    with db.session() as s:
        s.execute(
            update(Component)
            .where(Component.slug == "checkout-api")
            .values(status="operational", updated_at=datetime.now(UTC))
        )
    changed = anon.get("/api/v2/summary.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["components"][1]["status"] == "operational"

    # Its own host: the page at /, the public paths, and nothing of the console or API.
    own = {"Host": "status.acme.test"}
    root = anon.get("/", headers=own)
    assert root.status_code == 200 and "Checkout is failing" in root.text
    assert anon.get("/api/v2/status.json", headers=own).status_code == 200
    assert anon.get("/static/statuspage.css", headers=own).status_code == 200
    for path in ("/incidents", "/api/v1/incidents", "/login", "/docs"):
        refused = anon.get(path, headers=own)
        assert refused.status_code == 404, path
        assert refused.json()["error"]["code"] == "NOT_FOUND"
    assert anon.get("/login").status_code == 200  # the console's own address is unchanged
    on_host = anon.get("/api/v2/summary.json", headers=own).json()
    assert on_host["page"]["url"] == "http://status.acme.test"

    # Turned off: 404 on every public path.
    with db.session() as s:
        s.execute(update(StatusPageSettings).values(enabled=False, updated_at=datetime.now(UTC)))
    for path in (
        *JSON_PATHS,
        "/status",
        "/status/history",
        "/status/history.atom",
        "/status/history.rss",
        "/status/incidents/k7m2xq9p",
    ):
        assert anon.get(path).status_code == 404, path
    assert anon.get("/", headers=own).status_code != 200
