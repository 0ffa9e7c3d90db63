"""Issue 11's "Done when", over real HTTP: an incident resolved in the demo is taken through
draft -> in review -> published (approved by a second user), its Korean and English Markdown
exports parse back to what was written, its measures are tracked to Done on the board within
the WIP limits, and the incident's timeline shows each step."""

from __future__ import annotations

import re
from typing import Any

import httpx

from haetae.db import Database
from haetae.demo import DEMO_PASSWORD, seed_demo
from haetae.policy.schema import Policy
from tests.actions.helpers import column_codes
from tests.api.helpers import error_code
from tests.support.people import api_token
from tests.support.server import RunningServer

WHYS = [
    "세션 저장소의 TTL이 30분에서 5분으로 바뀌었다 (The session TTL dropped to 5 minutes)",
    "Redis 장애 조치 후 새 주 노드가 기본 설정으로 올라왔다 (The new primary used defaults)",
    "TTL 설정이 설정 파일이 아니라 런타임 명령으로만 적용되어 있었다 (Set at runtime only)",
    "Redis 설정이 코드로 관리되지 않는다 (Redis settings are not kept as code)",
    "장애 조치 훈련에 설정 확인 단계가 없다 (Failover drills do not check the settings)",
]
WRITTEN: dict[str, Any] = {
    "whys": WHYS,
    "root_cause": "Redis 설정이 코드로 관리되지 않아 장애 조치 때 사라진다. "
    "(Redis settings live outside config as code and are lost in a failover.)",
    "contributing_factors": ["세션 만료율 알림이 없다 (No alert on the session expiry rate)"],
    "went_well": ["IC가 10분 안에 Redis를 의심했다 (The IC suspected Redis within 10 minutes)"],
    "went_wrong": ["고객 문의로 먼저 알았다 (Customers told us first)"],
    "lucky": ["주문 데이터는 영향이 없었다 (Orders were not affected)"],
    "lessons": "장애 조치 뒤에는 설정을 검증한다. Verify the settings after every failover.",
}
# Two Standard measures and one Expedite (the default for a P2's follow-ups).
MEASURES = [
    {"title": "Redis 설정을 코드로 관리 (Redis settings as code)", "owner": "minji",
     "term": "short", "class_of_service": "standard"},
    {"title": "세션 만료율 알림 (Alert on the session expiry rate)", "owner": "jun",
     "term": "mid", "class_of_service": "standard"},
    {"title": "장애 조치 훈련에 설정 점검 추가 (Check settings in failover drills)",
     "owner": "hana", "term": "long"},
]  # fmt: skip


def _client(server: RunningServer, username: str) -> httpx.Client:
    token = api_token(server.url, username, DEMO_PASSWORD)
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells, with the export's escapes undone."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [re.sub(r"\\(.)", r"\1", c.strip()).replace("**", "") for c in cells]


def _parse(markdown: str) -> dict[str, list[str]]:
    """The export read back: each `##` section's lines, by its title (the `#` title as '')."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            assert current not in sections, f"section {current} twice"
            sections[current] = []
        elif line.strip():
            sections[current].append(line)
    return sections


def _rows(lines: list[str]) -> list[list[str]]:
    """Every table row of a section, without header separators."""
    return [
        _cells(line)
        for line in lines
        if line.startswith("|") and not re.fullmatch(r"\|(\s*-+\s*\|)+", line.strip())
    ]


def _check_export(
    api: httpx.Client, incident_id: str, lang: str, view: dict[str, Any], codes: list[str]
) -> None:
    response = api.get(
        f"/api/v1/postmortems/{incident_id}/export", params={"format": "markdown", "lang": lang}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/markdown")
    sections = _parse(response.text)
    assert sections[""][0].startswith("# ") and incident_id in sections[""][0]
    # The policy's template, in its order, with the titles of the asked language.
    assert list(sections)[1:] == [s["title"] for s in view["sections"]]
    titles = {s["id"]: s["title"] for s in view["sections"]}
    whys = _rows(sections[titles["five_whys"]])
    assert [answer for _, answer in whys[1:]] == WHYS  # row 0 is the header
    assert whys[1][0].startswith("1. ")
    assert any(WRITTEN["root_cause"] in line for line in sections[titles["five_whys"]])
    for field in ("contributing_factors", "went_well", "went_wrong", "lucky"):
        assert [line.removeprefix("- ") for line in sections[titles[field]]] == WRITTEN[field]
    assert " ".join(sections[titles["lessons"]]) == WRITTEN["lessons"]
    items = {row[0]: row for row in _rows(sections[titles["action_items"]])[1:]}
    assert sorted(items) == sorted(codes)
    for code, measure in zip(codes, MEASURES, strict=True):
        assert items[code][1:3] == [measure["title"], measure["owner"]]
    terms = [line for line in sections[titles["measures"]] if line.startswith("### ")]
    assert len(terms) == 3  # short, mid and long term, each with its measure
    measure_rows = _rows(sections[titles["measures"]])
    assert {m["title"] for m in MEASURES} <= {row[0] for row in measure_rows}


def _move(api: httpx.Client, code: str, column: str) -> httpx.Response:
    return api.post(f"/api/v1/action-items/{code}/move", json={"column": column})


def _board(api: httpx.Client) -> dict[str, Any]:
    return dict(_ok(api.get("/api/v1/board")))


def _action_column(board: dict[str, Any], column: str) -> dict[str, Any]:
    lane = next(x for x in board["lanes"] if x["id"] == "action_items")
    return dict(next(c for c in lane["columns"] if c["id"] == column))


def test_a_demo_incident_goes_from_draft_to_published_and_its_measures_to_done(
    db: Database, policy: Policy, server: RunningServer
) -> None:
    assert seed_demo(db, policy)
    with _client(server, "minji") as minji, _client(server, "admin") as admin:
        # The demo's incident resolved three hours ago, its post-mortem started by itself.
        [draft] = _ok(minji.get("/api/v1/postmortems", params={"status": "draft"}))["items"]
        inc = draft["incident_id"]
        assert _ok(minji.get(f"/api/v1/incidents/{inc}"))["status"] == "resolved"
        pm = _ok(minji.get(f"/api/v1/postmortems/{inc}"))
        assert (pm["status"], pm["started_by"], pm["author"]) == ("draft", "system", "minji")
        assert pm["key_events"] and pm["basic"]["recovered"] is not None

        # The author writes it (in Korean, with English), with measures in every term.
        _ok(minji.patch(f"/api/v1/postmortems/{inc}", json=WRITTEN))
        codes = [
            _ok(minji.post(f"/api/v1/postmortems/{inc}/measures", json=m), 201)["code"]
            for m in MEASURES
        ]
        expedite = codes[2]
        pm = _ok(minji.get(f"/api/v1/postmortems/{inc}"))
        assert [m["class_of_service"] for m in pm["measures"]] == [
            "standard",
            "standard",
            "expedite",
        ]

        # Review: nobody publishes without an approval; a second user approves.
        assert (
            _ok(minji.post(f"/api/v1/postmortems/{inc}/submit", json={"reviewers": ["admin"]}))[
                "status"
            ]
            == "in_review"
        )
        refused = minji.post(f"/api/v1/postmortems/{inc}/publish")
        assert (refused.status_code, error_code(refused)) == (409, "APPROVAL_REQUIRED")
        own = minji.post(f"/api/v1/postmortems/{inc}/reviews", json={"verdict": "approved"})
        assert own.status_code == 403  # the author cannot approve their own
        _ok(
            admin.post(
                f"/api/v1/postmortems/{inc}/reviews",
                json={"verdict": "approved", "comment": "Blameless and clear."},
            )
        )
        published = _ok(minji.post(f"/api/v1/postmortems/{inc}/publish"))
        assert (published["status"], published["approvals"]) == ("published", 1)
        late_edit = minji.patch(f"/api/v1/postmortems/{inc}", json={"lessons": "more"})
        assert (late_edit.status_code, error_code(late_edit)) == (409, "POSTMORTEM_STATE")

        # Both languages: minji reads Korean, admin English; each export parses back.
        ko_view = _ok(minji.get(f"/api/v1/postmortems/{inc}"))
        en_view = _ok(admin.get(f"/api/v1/postmortems/{inc}"))
        ko_titles = {s["id"]: s["title"] for s in ko_view["sections"]}
        en_titles = {s["id"]: s["title"] for s in en_view["sections"]}
        assert (ko_titles["basic"], en_titles["basic"]) == ("기본 정보", "Basic information")
        _check_export(minji, inc, "ko", ko_view, codes)
        _check_export(admin, inc, "en", en_view, codes)

        # The board: the demo leaves one place in In Progress; Standard cards respect it,
        # the Expedite card passes it.
        board = _board(minji)
        in_progress = _action_column(board, "in_progress")
        assert in_progress["wip_limit"] == in_progress["count"] + 1
        assert set(codes) <= set(column_codes(board, "action_items", "backlog"))
        first, second = codes[0], codes[1]
        _ok(_move(minji, first, "in_progress"))
        full = _move(minji, second, "in_progress")
        assert (full.status_code, error_code(full)) == (409, "WIP_LIMIT_REACHED")
        _ok(_move(minji, expedite, "in_progress"))
        for code in (expedite, first):
            _ok(_move(minji, code, "review"))
        for code in (expedite, first):
            _ok(_move(minji, code, "done"))
        for column in ("in_progress", "review", "done"):  # room again, one column at a time
            _ok(_move(minji, second, column))
        board = _board(minji)
        assert set(codes) <= set(column_codes(board, "action_items", "done"))
        for column in board["columns"]:
            one = _action_column(board, column)
            assert one["wip_limit"] is None or one["count"] <= one["wip_limit"]
        assert inc in column_codes(board, "postmortem", "done")
        items = _ok(minji.get("/api/v1/action-items", params={"incident_id": inc}))["items"]
        assert {i["code"]: i["column"] for i in items} == dict.fromkeys(codes, "done")
        assert all(i["done_at"] for i in items)

        # The incident's timeline tells each step, in order, by whom.
        events = _ok(minji.get(f"/api/v1/incidents/{inc}/timeline"))
    steps = [(e["kind"], e["actor"]) for e in events if e["kind"].startswith("postmortem_")]
    assert [k for k, _ in steps] == [
        "postmortem_started",
        "postmortem_edited",
        "postmortem_measure_added",
        "postmortem_measure_added",
        "postmortem_measure_added",
        "postmortem_submitted",
        "postmortem_reviewed",
        "postmortem_published",
    ]
    assert steps[0][1] == "system" and ("postmortem_reviewed", "admin") in steps
    assert ("postmortem_published", "minji") in steps
    created = [e["data"]["item"] for e in events if e["kind"] == "action_item_created"]
    assert created == codes
    moves = [
        (e["data"]["item"], e["data"]["changes"]["column"]["to"])
        for e in events
        if e["kind"] == "action_item_moved"
    ]
    assert moves == [
        (first, "in_progress"),
        (expedite, "in_progress"),
        (expedite, "review"),
        (first, "review"),
        (expedite, "done"),
        (first, "done"),
        (second, "in_progress"),
        (second, "review"),
        (second, "done"),
    ]  # the refused move is not on the timeline
    published_at = next(e["at"] for e in events if e["kind"] == "postmortem_published")
    reviewed_at = next(e["at"] for e in events if e["kind"] == "postmortem_reviewed")
    assert reviewed_at <= published_at
