"""Action items over HTTP: numbering, owners, classes of service, WIP limits and the timeline."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import httpx

from haetae.db import Database
from tests.actions.helpers import add_item, move
from tests.api.helpers import declare, error_code
from tests.support.people import make_user


def test_two_creators_at_once_get_distinct_ai_numbers(api: httpx.Client) -> None:
    codes: list[str] = []
    errors: list[str] = []

    def create(n: int) -> None:
        for i in range(8):
            response = api.post("/api/v1/action-items", json={"title": f"item {n}-{i}"})
            if response.status_code == 201:
                codes.append(response.json()["code"])
            else:
                errors.append(response.text)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(codes) == 16 and len(set(codes)) == 16
    assert sorted(codes) == [f"AI-{n:03d}" for n in range(1, 17)]


def test_an_item_takes_its_incidents_class_and_records_every_change_on_the_timeline(
    api: httpx.Client, db: Database
) -> None:
    make_user(db, "alice")
    make_user(db, "bob")
    p1 = declare(api, severity="P1", severity_reason="checkout down")
    p3 = declare(api, severity="P3", severity_reason="slow search")
    expedite = add_item(api, incident_id=p1["id"], owner="alice", priority="high")
    standard = add_item(api, incident_id=p3["id"])
    assert (expedite["class_of_service"], standard["class_of_service"]) == ("expedite", "standard")
    assert expedite["code"] == "AI-001" and expedite["column"] == "backlog"

    ref = expedite["code"]
    edited = api.patch(
        f"/api/v1/action-items/{ref}", json={"title": "Canary 10%", "priority": "low"}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["title"], edited.json()["priority"]) == ("Canary 10%", "low")
    assigned = api.post(f"/api/v1/action-items/{ref}/assign", json={"owner": "bob"})
    assert assigned.json()["owner"] == "bob"
    done = move(api, ref, "done")
    assert done.status_code == 200 and done.json()["done_at"] is not None
    back = move(api, ref, "in_progress")
    assert back.json()["done_at"] is None
    # The id works as well as the code.
    assert api.get(f"/api/v1/action-items/{expedite['id']}").json()["code"] == ref

    events = api.get(f"/api/v1/incidents/{p1['id']}/timeline").json()
    mine = [e for e in events if e["kind"].startswith("action_item_")]
    assert [e["kind"] for e in mine] == [
        "action_item_created",
        "action_item_edited",
        "action_item_assigned",
        "action_item_moved",
        "action_item_moved",
    ]
    assert mine[1]["data"]["changes"]["title"] == {
        "from": "Add a canary step to the deploy",
        "to": "Canary 10%",
    }
    assert mine[2]["data"]["changes"]["owner"] == {"from": "alice", "to": "bob"}
    assert mine[3]["data"]["changes"]["column"] == {"from": "backlog", "to": "done"}
    assert mine[4]["data"]["changes"]["column"] == {"from": "done", "to": "in_progress"}
    # Nothing landed on the other incident's timeline but its own item's creation.
    other = api.get(f"/api/v1/incidents/{p3['id']}/timeline").json()
    assert [e["kind"] for e in other if e["kind"].startswith("action_item_")] == [
        "action_item_created"
    ]


def test_bad_input_is_refused_with_stable_codes(api: httpx.Client, db: Database) -> None:
    assert error_code(api.post("/api/v1/action-items", json={"title": "x", "owner": "ghost"})) == (
        "UNKNOWN_USER"
    )
    cases = [
        {"title": ""},
        {"title": "x", "priority": "urgent"},
        {"title": "x", "class_of_service": "fixed_date"},  # Fixed Date needs a due date
        {"title": "x", "tracker_url": "javascript:alert(1)"},
        {"title": "x", "tracker_url": "file:///etc/passwd"},
        {"title": "x", "incident_id": "INC-19990101-001"},
        {"title": "x", "postmortem_id": 99},
        {"title": "x", "column": "nowhere"},
        {"title": "x", "surprise": True},
        {"title": "x\u0000"},
    ]
    for body in cases:
        response = api.post("/api/v1/action-items", json=body)
        assert response.status_code == 422, (body, response.text)
        assert error_code(response) == "VALIDATION_ERROR", body
    item = add_item(api, tracker_url="https://tracker.example/JIRA-1")
    ref = item["code"]
    assert api.get("/api/v1/action-items/AI-999").status_code == 404
    assert api.get("/api/v1/action-items/not-a-ref").status_code == 404
    assert (
        api.post(f"/api/v1/action-items/{ref}/assign", json={"owner": "ghost"}).status_code == 422
    )
    assert move(api, ref, "sideways").status_code == 422
    assert error_code(move(api, ref, "backlog", before="AI-999")) == "VALIDATION_ERROR"
    assert api.patch(f"/api/v1/action-items/{ref}", json={"owner": "x"}).status_code == 422
    assert api.get("/api/v1/action-items?cursor=abc").status_code == 422
    nobody = api.get("/api/v1/action-items?team=nobody")
    assert nobody.status_code == 422, nobody.text
    assert error_code(nobody) == "UNKNOWN_TEAM"


def test_a_move_past_the_wip_limit_is_refused_unless_the_item_is_expedite(
    api: httpx.Client,
) -> None:
    # The default policy: in_progress holds 5.
    for _ in range(5):
        item = add_item(api, class_of_service="standard")
        assert move(api, item["code"], "in_progress").status_code == 200
    standard = add_item(api, class_of_service="standard")
    refused = move(api, standard["code"], "in_progress")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "WIP_LIMIT_REACHED"
    assert refused.json()["error"]["details"] == {"column": "in_progress", "limit": 5, "count": 5}
    assert api.get(f"/api/v1/action-items/{standard['code']}").json()["column"] == "backlog"
    # Created straight into the full column: the same rule.
    created = api.post("/api/v1/action-items", json={"title": "x", "column": "in_progress"})
    assert created.status_code == 409
    # Expedite ignores WIP limits (seed 001 App. C).
    expedite = add_item(api, class_of_service="expedite")
    assert move(api, expedite["code"], "in_progress").status_code == 200
    # An Expedite card turned Standard in a full column would pass the limit.
    edit = api.patch(
        f"/api/v1/action-items/{expedite['code']}", json={"class_of_service": "standard"}
    )
    assert edit.status_code == 409
    # Reordering inside a full column is never refused.
    first = api.get("/api/v1/action-items?column=in_progress").json()["items"][0]["code"]
    reorder = move(api, expedite["code"], "in_progress", before=first)
    assert reorder.status_code == 200
    order = api.get("/api/v1/board").json()
    lane = next(x for x in order["lanes"] if x["id"] == "action_items")
    cards = next(c for c in lane["columns"] if c["id"] == "in_progress")["cards"]
    assert cards[0]["code"] == expedite["code"] and len(cards) == 6


def test_two_concurrent_moves_cannot_both_take_the_last_place(api: httpx.Client) -> None:
    for _ in range(4):
        item = add_item(api, class_of_service="standard")
        assert move(api, item["code"], "in_progress").status_code == 200
    for _round in range(3):
        racers = [add_item(api, class_of_service="standard")["code"] for _ in range(2)]
        start = threading.Barrier(2)
        statuses: list[int] = []

        def race(ref: str, start: threading.Barrier = start, out: list[int] = statuses) -> None:
            start.wait()
            out.append(move(api, ref, "in_progress").status_code)

        threads = [threading.Thread(target=race, args=(ref,)) for ref in racers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [200, 409]
        page = api.get("/api/v1/action-items?column=in_progress").json()
        assert len(page["items"]) == 5
        # Free the place again for the next round.
        winner = next(
            ref
            for ref in racers
            if api.get(f"/api/v1/action-items/{ref}").json()["column"] == "in_progress"
        )
        assert move(api, winner, "done").status_code == 200


def test_filters_overdue_and_cursor_pages(api: httpx.Client, db: Database) -> None:
    make_user(db, "alice")
    make_user(db, "bob")
    assert api.put(
        "/api/v1/teams/payments-team", json={"id": "payments-team", "members": ["bob"]}
    ).status_code in (200, 201)
    assert api.put(
        "/api/v1/services/payments", json={"id": "payments", "team": "payments-team"}
    ).status_code in (200, 201)
    pay = declare(api, severity="P2", severity_reason="r", services=["payments"])
    search = declare(api, severity="P3", severity_reason="r", services=["search"])
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    a = add_item(api, incident_id=pay["id"], owner="alice", due_date=yesterday)
    b = add_item(api, incident_id=search["id"], owner="bob")
    c = add_item(
        api,
        incident_id=search["id"],
        owner="alice",
        class_of_service="fixed_date",
        due_date=yesterday,
    )
    move(api, c["code"], "done")

    def codes(query: str) -> list[str]:
        response = api.get(f"/api/v1/action-items?{query}")
        assert response.status_code == 200, response.text
        return [i["code"] for i in response.json()["items"]]

    assert codes("owner=alice") == [a["code"], c["code"]]
    assert codes("service=payments") == [a["code"]]
    assert codes("team=payments-team") == [a["code"], b["code"]]  # by service, or by owner
    assert codes("class=fixed_date") == [c["code"]]
    assert codes("overdue=true") == [a["code"]]  # a done item is never overdue
    assert codes("overdue=false") == [b["code"], c["code"]]
    assert codes("column=done") == [c["code"]]
    assert api.get(f"/api/v1/action-items/{a['code']}").json()["overdue"] is True

    first = api.get("/api/v1/action-items?limit=2").json()
    assert [i["code"] for i in first["items"]] == [a["code"], b["code"]]
    second = api.get(f"/api/v1/action-items?limit=2&cursor={first['next_cursor']}").json()
    assert [i["code"] for i in second["items"]] == [c["code"]]
    assert second["next_cursor"] is None


def test_a_viewer_reads_but_cannot_move(api: httpx.Client, server, db: Database) -> None:  # type: ignore[no-untyped-def]
    item = add_item(api)
    make_user(db, "vera", role="viewer")
    login = httpx.post(
        f"{server.url}/api/v1/auth/login",
        json={"username": "vera", "password": "correct-horse-battery"},
    )
    token = login.json()["access_token"] if login.status_code == 200 else None
    assert token, login.text
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as vera:
        assert vera.get(f"/api/v1/action-items/{item['code']}").status_code == 200
        assert vera.get("/api/v1/board").status_code == 200
        refused = vera.post(f"/api/v1/action-items/{item['code']}/move", json={"column": "done"})
        assert refused.status_code == 403
        assert vera.post("/api/v1/action-items", json={"title": "x"}).status_code == 403
