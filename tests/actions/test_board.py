"""The board's lanes over HTTP and in the console: incidents and post-mortems placed by their
state, action items by their column, filters, overdue marks and moving cards from the page."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from haetae.clock import clock, utcnow
from haetae.db import Database
from haetae.postmortems.models import Postmortem
from tests.actions.helpers import add_item, column_codes, move
from tests.api.helpers import declare
from tests.api.helpers import move as transition
from tests.support.server import RunningServer
from tests.web.console_client import console_for, csrf_from


def _board(api: httpx.Client, query: str = "") -> dict:  # type: ignore[type-arg]
    response = api.get(f"/api/v1/board{query}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _postmortem(db: Database, incident_id: str, status: str, **fields: object) -> None:
    now = utcnow()
    with db.session() as session:
        session.add(
            Postmortem(
                incident_id=incident_id,
                status=status,
                title=f"Post-mortem of {incident_id}",
                author="alice",
                started_by="alice",
                started_at=now,
                updated_at=now,
                clock_start=now,
                published_at=now if status == "published" else None,
                **fields,
            )
        )


def test_incidents_appear_and_leave_the_incident_lane_by_themselves(api: httpx.Client) -> None:
    p1 = declare(api, severity="P1", severity_reason="checkout down")
    p4 = declare(api, severity="P4", severity_reason="typo on a page")
    board = _board(api)
    assert board["columns"] == ["backlog", "in_progress", "review", "done"]
    assert column_codes(board, "incident", "in_progress") == [p1["id"]]
    assert column_codes(board, "incident", "backlog") == [p4["id"]]  # seed 001 7.1
    lane = next(x for x in board["lanes"] if x["id"] == "incident")
    card = lane["columns"][1]["cards"][0]
    assert (card["class_of_service"], card["severity"]) == ("expedite", "P1")
    assert lane["columns"][0]["cards"][0]["class_of_service"] == "standard"

    p3 = declare(api, severity="P3", severity_reason="one region")
    assert column_codes(_board(api), "incident", "in_progress") == [p1["id"], p3["id"]]
    for to in ("investigating", "identified", "monitoring"):
        assert transition(api, p3["id"], to, reason=to).status_code == 200
    api.post(
        f"/api/v1/incidents/{p3['id']}/conditions/core_functions_verified", json={"note": "ok"}
    )
    resolved = transition(api, p3["id"], "resolved")
    assert resolved.status_code == 200, resolved.text
    board = _board(api)
    assert column_codes(board, "incident", "in_progress") == [p1["id"]]
    assert column_codes(board, "incident", "backlog") == [p4["id"]]
    expedite = _board(api, "?class=expedite")
    assert column_codes(expedite, "incident", "backlog") == []
    assert column_codes(expedite, "incident", "in_progress") == [p1["id"]]


def test_post_mortem_cards_follow_their_status(api: httpx.Client, db: Database) -> None:
    ids = [declare(api, severity="P2", severity_reason="r")["id"] for _ in range(4)]
    _postmortem(db, ids[0], "draft", deadlines={"draft": "2000-01-01T00:00:00+00:00"})
    _postmortem(db, ids[1], "in_review")
    _postmortem(db, ids[2], "published")
    board = _board(api)
    assert column_codes(board, "postmortem", "in_progress") == [ids[0]]
    assert column_codes(board, "postmortem", "review") == [ids[1]]
    assert column_codes(board, "postmortem", "done") == [ids[2]]
    draft = board["lanes"][1]["columns"][1]["cards"][0]
    assert draft["overdue"] is True and draft["owner"] == "alice"
    # A published post-mortem leaves the board after done_visible_days (14).
    clock.advance(days=15)
    assert column_codes(_board(api), "postmortem", "done") == []


def test_action_items_sit_in_their_column_with_counts_limits_and_overdue_marks(
    api: httpx.Client, db: Database
) -> None:
    from tests.support.people import make_user

    make_user(db, "alice")
    make_user(db, "bob")
    assert api.put(
        "/api/v1/teams/pay-team", json={"id": "pay-team", "members": ["bob"]}
    ).status_code in (200, 201)
    assert api.put(
        "/api/v1/services/payments", json={"id": "payments", "team": "pay-team"}
    ).status_code in (200, 201)
    pay = declare(api, severity="P2", severity_reason="r", services=["payments"])
    late = (date.today() - timedelta(days=3)).isoformat()
    a = add_item(api, incident_id=pay["id"], owner="alice", due_date=late)["code"]
    b = add_item(api, owner="bob", class_of_service="standard")["code"]
    c = add_item(api, owner="alice", class_of_service="standard")["code"]
    move(api, b, "in_progress")
    move(api, c, "done")
    board = _board(api)
    assert column_codes(board, "action_items", "backlog") == [a]
    assert column_codes(board, "action_items", "in_progress") == [b]
    assert column_codes(board, "action_items", "done") == [c]
    lane = next(x for x in board["lanes"] if x["id"] == "action_items")
    progress = next(c for c in lane["columns"] if c["id"] == "in_progress")
    assert (progress["count"], progress["wip_limit"]) == (1, 5)
    assert lane["columns"][0]["cards"][0]["overdue"] is True
    assert board["wip_limits"] == {"in_progress": 5, "review": 3}

    assert column_codes(_board(api, "?owner=alice"), "action_items", "done") == [c]
    assert column_codes(_board(api, "?owner=alice"), "action_items", "in_progress") == []
    assert column_codes(_board(api, "?class=expedite"), "action_items", "backlog") == [a]
    assert column_codes(_board(api, "?service=payments"), "incident", "in_progress") == [pay["id"]]
    assert column_codes(_board(api, "?service=search"), "incident", "in_progress") == []
    team = _board(api, "?team=pay-team")
    assert column_codes(team, "action_items", "backlog") == [a]  # its incident's service
    assert column_codes(team, "action_items", "in_progress") == [b]  # its owner is a member
    assert column_codes(team, "action_items", "done") == []
    assert api.get("/api/v1/board?class=urgent").status_code == 422
    assert api.get("/api/v1/board?team=nobody").status_code == 422
    # Done cards leave after done_visible_days.
    clock.advance(days=15)
    assert column_codes(_board(api), "action_items", "done") == []


def test_the_console_board_moves_cards_with_plain_forms_in_both_languages(
    api: httpx.Client, server: RunningServer, db: Database
) -> None:
    for _ in range(5):
        move(api, add_item(api, class_of_service="standard")["code"], "in_progress")
    standard = add_item(api, class_of_service="standard", title="Rotate the TLS cert")["code"]
    with console_for(server.url, db, "mina") as mina:
        page = mina.get("/board")
        assert page.status_code == 200
        assert "Incident Action Items" in page.text and "Move to In Progress" in page.text
        assert 'src="/static/vendor/sortablejs/Sortable.min.js"' in page.text
        assert "<script>" not in page.text and "style=" not in page.text  # strict CSP
        token = csrf_from(page.text)
        refused = mina.post(
            f"/board/items/{standard}/move",
            data={"csrf_token": token, "column": "in_progress", "next": "/board"},
        )
        assert refused.status_code == 409
        assert "In Progress is at its WIP limit (5 of 5)" in refused.text
        done = mina.post(
            f"/board/items/{standard}/move",
            data={"csrf_token": token, "column": "done", "next": "/board?owner="},
        )
        assert done.status_code == 303 and done.headers["location"] == "/board?owner="
        assert api.get(f"/api/v1/action-items/{standard}").json()["column"] == "done"
        # board.js asks for JSON: the refusal comes back as a message to show.
        js = mina.post(
            f"/board/items/{standard}/move",
            data={"column": "in_progress"},
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )
        assert js.status_code == 409
        assert js.json()["error"]["code"] == "WIP_LIMIT_REACHED"
        assert "WIP limit" in js.json()["error"]["message"]
        # No token, no move.
        assert (
            mina.post(f"/board/items/{standard}/move", data={"column": "backlog"}).status_code
            == 403
        )
        mina.cookies.set("lang", "ko")
        korean = mina.get("/board")
        assert "장애 Action Items" in korean.text and "진행 중(으)로 이동" in korean.text
    with console_for(server.url, db, "victor", role="viewer") as victor:
        page = victor.get("/board")
        assert page.status_code == 200 and "Move to" not in page.text
        refused = victor.post(
            f"/board/items/{standard}/move",
            data={"csrf_token": csrf_from(victor.get("/profile").text), "column": "backlog"},
        )
        assert refused.status_code == 403


def test_a_long_column_shows_its_first_cards_and_a_link_to_all_of_them(
    server: RunningServer, db: Database
) -> None:
    from haetae.actions import service
    from haetae.policy.loader import default_policy

    with db.session() as session:
        for n in range(105):
            service.create_item(
                session, default_policy(), title=f"Backlog item {n}", by="alice", now=utcnow()
            )
    with console_for(server.url, db, "mina") as mina:
        page = mina.get("/board?class=standard")
        assert page.text.count('data-column="backlog"') >= 1
        assert page.text.count("Backlog item ") == 100
        assert "Show all 105" in page.text
        assert 'href="/board?class=standard&amp;expand=action_items.backlog"' in page.text
        everything = mina.get("/board?class=standard&expand=action_items.backlog")
        assert everything.text.count("Backlog item ") == 105
        assert "Show all" not in everything.text
        mina.cookies.set("lang", "ko")
        assert "105개 모두 보기" in mina.get("/board").text
