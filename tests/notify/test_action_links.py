"""Ack and resolve links from a page, used over HTTP by someone who is not signed in."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import httpx

from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.clock import clock, utcnow
from haetae.db import Database
from haetae.notify import links
from tests.api.helpers import declare
from tests.conftest import JWT_SECRET
from tests.support.server import RunningServer


def responder(api: httpx.Client, username: str = "jihoon", locale: str = "en") -> int:
    r = api.post(
        "/api/v1/users",
        json={
            "username": username,
            "password": "long enough pw",
            "role": "responder",
            "locale": locale,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def issue(
    db: Database,
    incident_id: str,
    action: str = "acknowledge",
    user_id: int | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    with db.session() as session:
        return links.issue(
            session,
            incident_id=incident_id,
            action=action,
            user_id=user_id,
            now=utcnow(),
            ttl=ttl,
            secret=JWT_SECRET,
        )


def incident(api: httpx.Client, incident_id: str) -> dict[str, Any]:
    r = api.get(f"/api/v1/incidents/{incident_id}")
    assert r.status_code == 200
    return dict(r.json())


def timeline(api: httpx.Client, incident_id: str) -> list[dict[str, Any]]:
    return list(api.get(f"/api/v1/incidents/{incident_id}/timeline").json())


def test_opening_the_link_asks_and_does_not_acknowledge(api, anon, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=responder(api))
    page = anon.get(f"/act/{token}")
    assert page.status_code == 200
    assert inc["id"] in page.text
    assert f'<form method="post" action="/act/{token}">' in page.text
    assert incident(api, inc["id"])["acknowledged_at"] is None
    assert anon.get(f"/act/{token}").status_code == 200  # a prefetch does not use it up


def test_posting_acknowledges_in_the_name_of_the_person_paged(api, anon, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=responder(api, "jihoon"))
    done = anon.post(f"/act/{token}")
    assert done.status_code == 200
    assert "Acknowledged" in done.text
    assert incident(api, inc["id"])["acknowledged_at"] is not None
    acks = [e for e in timeline(api, inc["id"]) if e["kind"] == "acknowledged"]
    assert [e["actor"] for e in acks] == ["jihoon (link)"]


def test_a_link_works_once(api, anon, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=responder(api))
    assert anon.post(f"/act/{token}").status_code == 200
    again = anon.post(f"/act/{token}")
    assert again.status_code == 409
    assert "already used" in again.text
    assert anon.get(f"/act/{token}").status_code == 409


def test_an_expired_link_is_gone_and_does_nothing(api, anon, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=responder(api), ttl=timedelta(minutes=30))
    clock.advance(minutes=31)
    page = anon.get(f"/act/{token}")
    assert page.status_code == 410
    assert "expired" in page.text
    assert anon.post(f"/act/{token}").status_code == 410
    assert incident(api, inc["id"])["acknowledged_at"] is None


def _change_owner(db: Database, user_id: int, *, active: bool, role: str) -> None:
    """What `PATCH /api/v1/users/{username}` and `haetae user deactivate` do."""
    with db.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        auth.set_active(user, active)
        auth.set_role(user, role)


def test_a_deactivated_or_demoted_owners_link_does_not_act(api, anon, db) -> None:
    inc = declare(api)
    owner = responder(api)
    acknowledge = issue(db, inc["id"], user_id=owner)
    resolve = issue(db, inc["id"], action="resolve", user_id=owner)
    _change_owner(db, owner, active=False, role="responder")
    for token in (acknowledge, resolve):
        page = anon.get(f"/act/{token}")
        assert page.status_code == 403
        assert "deactivated" in page.text
        assert 'method="post"' not in page.text  # nothing offered to press
        assert anon.post(f"/act/{token}").status_code == 403
    assert incident(api, inc["id"])["acknowledged_at"] is None
    assert incident(api, inc["id"])["status"] != "resolved"
    # Reactivated but now only a viewer: still refused, as a viewer cannot acknowledge.
    _change_owner(db, owner, active=True, role="viewer")
    assert anon.post(f"/act/{acknowledge}").status_code == 403
    assert incident(api, inc["id"])["acknowledged_at"] is None
    # A responder again: the refusals did not use the link up.
    _change_owner(db, owner, active=True, role="responder")
    assert anon.post(f"/act/{acknowledge}").status_code == 200
    assert incident(api, inc["id"])["acknowledged_at"] is not None


def test_a_tampered_or_unknown_link_is_not_found(api, anon, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=responder(api))
    jti, _, signature = token.partition(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (f"{jti}.{flipped}", f"{jti}x.{signature}", jti, "nothing-here", f".{signature}"):
        assert anon.get(f"/act/{bad}").status_code == 404, bad
        assert anon.post(f"/act/{bad}").status_code == 404, bad
    # A token signed with another secret names a real row but is refused all the same.
    with db.session() as session:
        foreign = links.issue(
            session,
            incident_id=inc["id"],
            action="acknowledge",
            user_id=None,
            now=utcnow(),
            ttl=timedelta(hours=1),
            secret="another-secret-that-is-long-enough-0123456789",
        )
    assert anon.post(f"/act/{foreign}").status_code == 404
    assert incident(api, inc["id"])["acknowledged_at"] is None
    assert anon.post(f"/act/{token}").status_code == 200  # the real one still works


def test_resolve_blocked_by_conditions_says_why_and_keeps_the_link(api, anon, db) -> None:
    # P3 in the default policy: "Core functions verified working" must be checked first.
    inc = declare(api, business_impact="operations", user_impact="some")
    assert inc["severity"] == "P3", inc["severity"]
    token = issue(db, inc["id"], action="resolve", user_id=responder(api))
    blocked = anon.post(f"/act/{token}")
    assert blocked.status_code == 409
    assert "Core functions verified working" in blocked.text
    assert "still works" in blocked.text
    assert incident(api, inc["id"])["status"] != "resolved"
    r = api.post(f"/api/v1/incidents/{inc['id']}/conditions/core_functions_verified", json={})
    assert r.status_code == 200, r.text
    done = anon.post(f"/act/{token}")
    assert done.status_code == 200, done.text
    after = incident(api, inc["id"])
    assert after["status"] == "resolved"
    assert after["resolution_summary"] == "resolved from a page link"  # no form to ask how
    moves = [e for e in timeline(api, inc["id"]) if e["kind"] == "status_changed"]
    assert moves[-1]["actor"] == "jihoon (link)"
    assert "resolved from a page link" in moves[-1]["summary"]


def test_two_clicks_at_once_act_once(api, server: RunningServer, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=responder(api))
    clicks = 6
    start = threading.Barrier(clicks)
    statuses: list[int] = []

    def click() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            start.wait()
            statuses.append(client.post(f"/act/{token}").status_code)

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * (clicks - 1)
    acks = [e for e in timeline(api, inc["id"]) if e["kind"] == "acknowledged"]
    assert len(acks) == 1


def test_the_page_speaks_korean_to_a_korean_browser_or_user(api, anon, db) -> None:
    inc = declare(api)
    token = issue(db, inc["id"], user_id=None)  # no owner: the browser's language decides
    page = anon.get(f"/act/{token}", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert 'lang="ko"' in page.text
    assert "이 장애를 확인(Ack)할까요?" in page.text
    # The owner's language setting wins over the browser's, as in the console.
    korean_user = issue(db, inc["id"], user_id=responder(api, "jihoon", locale="ko"))
    page = anon.get(f"/act/{korean_user}", headers={"Accept-Language": "en"})
    assert 'lang="ko"' in page.text
    done = anon.post(f"/act/{korean_user}")
    assert "확인했습니다." in done.text


def test_acknowledging_an_acknowledged_incident_says_so(api, anon, db) -> None:
    inc = declare(api)
    api.post(f"/api/v1/incidents/{inc['id']}/acknowledge")
    token = issue(db, inc["id"], user_id=responder(api))
    page = anon.post(f"/act/{token}")
    assert page.status_code == 200
    assert "already acknowledged" in page.text
    acks = [e for e in timeline(api, inc["id"]) if e["kind"] == "acknowledged"]
    assert len(acks) == 1
