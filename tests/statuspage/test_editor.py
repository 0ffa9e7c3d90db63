"""The console's status page editor over real HTTP: a responder sets a component's state, opens
a public incident from a P1 (prefilled from its services), drafts from the template, edits,
previews and publishes it (readers see it in the public JSON), and resolves it; a drill's
incident is refused; a viewer reads the page and cannot post."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.db import Database
from haetae.incidents.models import Incident
from haetae.statuspage.models import (
    Component,
    ComponentGroup,
    ComponentState,
    Maintenance,
    PublicIncident,
    PublicUpdate,
)
from tests.api.helpers import declare
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from

ADMIN = "/status-page/admin"


@pytest.fixture
def alice(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    with console_for(server.url, db, "alice") as client:
        yield client


@pytest.fixture
def victor(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    with console_for(server.url, db, "victor", role="viewer") as client:
        yield client


def _components(db: Database) -> tuple[int, int]:
    now = datetime.now(UTC)
    with db.session() as session:
        group = ComponentGroup(
            slug="core",
            name={"en": "Core", "ko": "핵심"},
            position=0,
            created_at=now,
            updated_at=now,
        )
        session.add(group)
        session.flush()
        made = []
        for slug, en, ko, services in (
            ("checkout", "Checkout", "결제", ["payments-api"]),
            ("search", "Search", "검색", ["search-api"]),
        ):
            component = Component(
                slug=slug,
                name={"en": en, "ko": ko},
                description={},
                group_id=group.id,
                services=services,
                status="operational",
                visible=True,
                created_at=now,
                updated_at=now,
            )
            session.add(component)
            session.flush()
            made.append(component.id)
    return made[0], made[1]


def _public(anon: httpx.Client, path: str, ready: Callable[[str], bool]) -> Any:
    """The public JSON once it shows the change: the public page reads its version at most
    once a second, so a page read just before may be served for up to a second."""
    deadline = time.monotonic() + 5
    while True:
        answer = anon.get(path)
        assert answer.status_code == 200, answer.text
        if ready(answer.text) or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.2)


def _state(session: Session, component_id: int) -> str:
    component = session.get(Component, component_id)
    assert component is not None
    return component.status


def _selected(html: str, name: str) -> str:
    select_html = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select_html, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select_html.group(0))
    return chosen.group(1) if chosen else ""


def _draft_body(html: str, update_id: int, lang: str) -> str:
    form = re.search(
        rf'action="/status-page/admin/updates/{update_id}/publish".*?</form>', html, re.S
    )
    assert form, "no publish form for the draft"
    text = re.search(rf'<textarea name="body_{lang}"[^>]*>(.*?)</textarea>', form.group(0), re.S)
    assert text
    return text.group(1)


def test_a_responder_runs_a_public_incident_from_the_editor_and_readers_see_it(
    alice: httpx.Client,
    victor: httpx.Client,
    api: httpx.Client,
    anon: httpx.Client,
    db: Database,
) -> None:
    checkout, search = _components(db)
    page = alice.get(ADMIN)
    assert page.status_code == 200, page.text
    assert "Checkout" in page.text and 'href="/status"' in page.text
    token = csrf_from(page.text)

    # A component's state, set by hand, opens a row of its history.
    moved = alice.post(
        f"{ADMIN}/components/{search}/status",
        data={"csrf_token": token, "status": "degraded_performance"},
    )
    assert moved.status_code == 303, moved.text
    with db.session() as session:
        assert _state(session, search) == "degraded_performance"
        states = session.scalars(
            select(ComponentState.status).where(ComponentState.component_id == search)
        ).all()
        assert "degraded_performance" in states
    # An unknown state is refused beside the form, not a 500.
    bad = alice.post(
        f"{ADMIN}/components/{search}/status", data={"csrf_token": token, "status": "on_fire"}
    )
    assert bad.status_code == 422 and 'class="banner error"' in bad.text

    # From a P1's page, the editor opens prefilled: its title, its services' components.
    p1 = declare(api, title="Checkout returns 502", services=["payments-api"])
    assert p1["severity"] == "P1"
    incident_page = alice.get(f"/incidents/{p1['id']}")
    assert f'href="{ADMIN}?incident={p1["id"]}#open-public"' in incident_page.text
    form = alice.get(f"{ADMIN}?incident={p1['id']}").text
    assert 'name="title_en" maxlength="300" required value="Checkout returns 502"' in form
    assert _selected(form, f"state_{checkout}") == "major_outage"
    assert _selected(form, f"state_{search}") == ""
    assert _selected(form, "impact") == "critical"
    opened = alice.post(
        f"{ADMIN}/incidents",
        data={
            "csrf_token": token,
            "incident_id": p1["id"],
            "title_en": "Checkout is failing",
            "title_ko": "결제 장애",
            "impact": "critical",
            f"state_{checkout}": "major_outage",
            f"state_{search}": "",
        },
    )
    assert opened.status_code == 303, opened.text
    with db.session() as session:
        public = session.scalars(select(PublicIncident)).one()
        assert public.incident_id == p1["id"] and public.published_at is None
        assert public.components == {str(checkout): "major_outage"}
        public_id, code = public.id, public.code
    # Nothing is public before the first update is published.
    assert code not in anon.get("/api/v2/summary.json").text

    # Drafted from the template in both languages, shown side by side for editing.
    drafted = alice.post(
        f"{ADMIN}/incidents/{public_id}/draft",
        data={"csrf_token": token, "status": "investigating", "template": ""},
    )
    assert drafted.status_code == 303, drafted.text
    with db.session() as session:
        update = session.scalars(select(PublicUpdate)).one()
        assert update.state == "draft" and update.template == "customer_first_notice"
        assert update.body["en"] and update.body["ko"]
        update_id = update.id
    editor = alice.get(ADMIN).text
    assert _draft_body(editor, update_id, "en") and _draft_body(editor, update_id, "ko")

    # The preview shows the edited words as readers will see them, saving nothing.
    edited = {
        "body_en": "We are looking into failed payments.",
        "body_ko": "결제 실패를 조사하고 있습니다.",
    }
    preview = alice.post(
        f"{ADMIN}/updates/{update_id}/preview", data={"csrf_token": token, **edited}
    )
    assert preview.status_code == 200
    assert edited["body_en"] in preview.text and edited["body_ko"] in preview.text
    assert "조사 중" in preview.text and "Investigating" in preview.text
    published = alice.post(
        f"{ADMIN}/updates/{update_id}/publish", data={"csrf_token": token, **edited}
    )
    assert published.status_code == 303, published.text
    summary = _public(anon, "/api/v2/summary.json", lambda s: code in s)
    shown = [i for i in summary["incidents"] if i["id"] == code]
    assert shown and shown[0]["incident_updates"][0]["body"] == edited["body_en"]
    assert {c["name"]: c["status"] for c in summary["components"]}["Checkout"] == "major_outage"
    after = alice.get(f"{ADMIN}?done=published")
    assert "Update published" in after.text and edited["body_ko"] in after.text

    # Resolving drafts the recovery notice; publishing it resolves and settles the component.
    resolving = alice.post(
        f"{ADMIN}/incidents/{public_id}/draft",
        data={"csrf_token": token, "status": "resolved", "template": "recovery_notice"},
    )
    assert resolving.status_code == 303, resolving.text
    with db.session() as session:
        recovery = session.scalars(select(PublicUpdate).where(PublicUpdate.state == "draft")).one()
        recovery_id = recovery.id
    done = alice.post(f"{ADMIN}/updates/{recovery_id}/publish", data={"csrf_token": token})
    assert done.status_code == 303, done.text
    with db.session() as session:
        closed = session.get(PublicIncident, public_id)
        assert closed is not None and closed.status == "resolved" and closed.resolved_at
        assert _state(session, checkout) == "operational"
    assert not _public(anon, "/api/v2/incidents/unresolved.json", lambda s: code not in s)[
        "incidents"
    ]

    # Maintenance is scheduled in the policy's zone (Asia/Seoul) and stored in UTC.
    scheduled = alice.post(
        f"{ADMIN}/maintenance",
        data={
            "csrf_token": token,
            "title_en": "Database upgrade",
            "title_ko": "DB 업그레이드",
            "start": "2030-01-10T02:00",
            "end": "2030-01-10T04:00",
            "component_ids": [str(checkout)],
        },
    )
    assert scheduled.status_code == 303, scheduled.text
    with db.session() as session:
        window = session.scalars(select(Maintenance)).one()
        assert window.scheduled_for == datetime(2030, 1, 9, 17, 0, tzinfo=UTC)
        assert window.component_ids == [checkout]
    backwards = alice.post(
        f"{ADMIN}/maintenance",
        data={
            "csrf_token": token,
            "title_en": "Oops",
            "start": "2030-01-10T04:00",
            "end": "2030-01-10T02:00",
        },
    )
    assert backwards.status_code == 422 and 'value="Oops"' in backwards.text

    # A drill's incident never reaches the status page: refused on the page, in Korean too.
    drill = declare(api, title="Game day: checkout down", services=["payments-api"])
    with db.session() as session:
        made = session.get(Incident, drill["id"])
        assert made is not None
        made.drill = True
    assert f"{ADMIN}?incident=" not in alice.get(f"/incidents/{drill['id']}").text
    refused_form = alice.get(f"{ADMIN}?incident={drill['id']}").text
    assert "never appears on the status page" in refused_form
    assert 'id="open-public-form"' not in refused_form
    alice.cookies.set("lang", "ko")
    forced = alice.post(
        f"{ADMIN}/incidents",
        data={"csrf_token": token, "incident_id": drill["id"], "title_en": "x", "impact": "minor"},
    )
    alice.cookies.delete("lang")
    assert forced.status_code == 422
    assert "훈련 장애는 상태 페이지에 절대 나타나지 않습니다." in forced.text
    with db.session() as session:
        assert session.scalars(select(PublicIncident)).all().__len__() == 1

    # A viewer reads the page, is offered no forms, and cannot post.
    seen = victor.get(ADMIN)
    assert seen.status_code == 200 and "Checkout is failing" in seen.text
    assert f'action="{ADMIN}/components/' not in seen.text
    viewer_token = csrf_from(victor.get("/").text)
    refused = victor.post(
        f"{ADMIN}/components/{checkout}/status",
        data={"csrf_token": viewer_token, "status": "major_outage"},
    )
    assert refused.status_code == 403
    with db.session() as session:
        assert _state(session, checkout) == "operational"
