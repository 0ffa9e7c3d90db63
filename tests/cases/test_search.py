"""Searching the case library over HTTP, in Korean and English, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from haetae.clock import clock, utcnow
from haetae.db import Database
from haetae.postmortems.models import Postmortem
from tests.api.helpers import error_code
from tests.cases.factories import incident, postmortem, resolve


def found(api: httpx.Client, **params: Any) -> list[str]:
    response = api.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["items"]]


@pytest.fixture
def corpus(api: httpx.Client, db: Database) -> dict[str, str]:
    ids = {
        "disk": incident(
            api,
            "결제 서버 디스크 풀로 장애가 발생",
            summary="로그 파일이 디스크를 가득 채워 결제서버가 멈췄다",
            services=["payments"],
            category="infrastructure",
            tags=["disk"],
        ),
        "pool": incident(
            api,
            "DB connection pool exhausted",
            summary="커넥션 풀이 고갈되어 주문 API가 느려짐",
            services=["orders"],
            category="application",
            tags=["db"],
            severity="P2",
        ),
        "deploy": incident(
            api,
            "Checkout errors after deploy",
            summary="The 3.2 release broke checkout; we rolled back",
            services=["payments"],
            category="deployment",
        ),
        "quiet": incident(api, "Search latency", summary="검색이 느리다", services=["search"]),
    }
    postmortem(
        db,
        ids["deploy"],
        root_cause="배포 스크립트가 마이그레이션을 건너뜀",
        whys=["왜 결제가 실패했나", "롤백이 늦었다"],
        lessons="canary first",
    )
    return ids


def test_korean_words_find_incidents_by_stem_with_particles_two_syllables_and_phrases(
    api: httpx.Client, corpus: dict[str, str]
) -> None:
    assert found(api, q="장애") == [corpus["disk"]]  # "장애가" in the title
    assert found(api, q="디스크 풀") == [corpus["disk"]]  # every word, anywhere
    assert found(api, q="서버") == [corpus["disk"]]  # inside "결제서버가" too
    assert found(api, q="커넥션 풀") == [corpus["pool"]]
    assert set(found(api, q="결제")) == {corpus["disk"], corpus["deploy"]}
    assert found(api, q="느리다") == [corpus["quiet"]]
    assert found(api, q="장애 없음") == []


def test_korean_words_find_post_mortems_and_say_so(
    api: httpx.Client, corpus: dict[str, str]
) -> None:
    response = api.get("/api/v1/search", params={"q": "롤백"})
    [hit] = response.json()["items"]
    assert (hit["id"], hit["kind"]) == (corpus["deploy"], "postmortem")
    assert hit["kinds"] == ["postmortem"]
    start, end = hit["highlights"][0]
    assert hit["snippet"][start:end] == "롤백"
    assert found(api, q="마이그레이션") == [corpus["deploy"]]
    assert found(api, q="롤백", kind="incident") == []


def test_english_words_match_case_insensitively_inside_words(
    api: httpx.Client, corpus: dict[str, str]
) -> None:
    assert found(api, q="DB connection") == [corpus["pool"]]
    assert found(api, q="rolled back") == [corpus["deploy"]]
    assert found(api, q="CHECKOUT") == [corpus["deploy"]]
    assert found(api, q="exhaust") == [corpus["pool"]]  # a stem finds "exhausted"


def test_every_filter_narrows_the_hits(api: httpx.Client, corpus: dict[str, str]) -> None:
    assert found(api, q="결제", service="payments", category="deployment") == [corpus["deploy"]]
    assert found(api, q="결제", tag="disk") == [corpus["disk"]]
    # In any case, as the incident list's service and tag filters match.
    assert found(api, q="결제", service="Payments", tag="DISK") == found(api, q="결제", tag="disk")
    assert found(api, category="application") == [corpus["pool"]]
    assert found(api, severity="P2") == [corpus["pool"]]
    assert found(api, severity="P2,P3", service="search") == [corpus["quiet"]]
    assert found(api, status="triage", q="checkout") == [corpus["deploy"]]
    assert found(api, status="resolved") == []
    later = (utcnow() + timedelta(hours=1)).isoformat()
    assert found(api, **{"from": later}) == []
    assert len(found(api, to=later)) == 4
    assert found(api, q="결제", kind="postmortem") == [corpus["deploy"]]


def test_empty_query_lists_filtered_incidents_newest_first_in_pages(
    api: httpx.Client, corpus: dict[str, str]
) -> None:
    first = api.get("/api/v1/search", params={"limit": 3}).json()
    assert [h["id"] for h in first["items"]] == [
        corpus["quiet"],
        corpus["deploy"],
        corpus["pool"],
    ]
    rest = api.get("/api/v1/search", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [h["id"] for h in rest["items"]] == [corpus["disk"]]
    assert rest["next_cursor"] is None


def test_best_match_first_then_newest_across_pages(api: httpx.Client) -> None:
    older_title_hit = incident(api, "Redis 장애", summary="캐시")
    newer_body_hits = [incident(api, f"Cache {n}", summary="redis 재시작") for n in range(3)]
    ids = []
    cursor = None
    while True:
        params = {"q": "redis", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/v1/search", params=params).json()
        ids += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == [older_title_hit, *reversed(newer_body_hits)]


def test_note_and_decision_text_is_found(api: httpx.Client, corpus: dict[str, str]) -> None:
    incident_id = corpus["quiet"]
    note = api.post(f"/api/v1/incidents/{incident_id}/notes", json={"body": "인덱스 재생성 중"})
    assert note.status_code == 201, note.text
    decision = api.post(
        f"/api/v1/incidents/{incident_id}/decisions",
        json={
            "kind": "technical",
            "decision": "Elasticsearch 노드 증설",
            "reason": "샤드 재배치가 끝나지 않음",
        },
    )
    assert decision.status_code == 201, decision.text
    hits = api.get("/api/v1/search", params={"q": "인덱스"}).json()["items"]
    assert [(h["id"], h["kind"]) for h in hits] == [(incident_id, "note")]
    hits = api.get("/api/v1/search", params={"q": "샤드"}).json()["items"]
    assert [(h["id"], h["kind"]) for h in hits] == [(incident_id, "decision")]
    assert found(api, q="노드 증설", kind="note") == []


def test_a_post_mortem_edited_later_is_found_by_its_new_text_only(
    api: httpx.Client, db: Database, corpus: dict[str, str]
) -> None:
    with db.session() as session:
        session.execute(
            update(Postmortem)
            .where(Postmortem.incident_id == corpus["deploy"])
            .values(root_cause="인증서 만료", lessons="")
        )
    assert found(api, q="인증서") == [corpus["deploy"]]
    assert found(api, q="마이그레이션") == []
    assert found(api, q="canary") == []


def test_deleted_incidents_leave_the_index(
    api: httpx.Client, db: Database, corpus: dict[str, str]
) -> None:
    from sqlalchemy import delete

    from haetae.incidents.models import Incident

    with db.session() as session:
        session.execute(delete(Postmortem))
        session.execute(delete(Incident).where(Incident.id == corpus["deploy"]))
    assert found(api, q="checkout") == []
    assert found(api, q="롤백") == []


def test_resolved_hits_carry_root_cause_and_fix(api: httpx.Client, corpus: dict[str, str]) -> None:
    resolve(api, corpus["deploy"], "3.1로 롤백")
    resolve(api, corpus["disk"], "오래된 로그 삭제")
    hits = {h["id"]: h for h in api.get("/api/v1/search", params={"q": "결제"}).json()["items"]}
    deploy, disk = hits[corpus["deploy"]], hits[corpus["disk"]]
    assert deploy["root_cause"] == "배포 스크립트가 마이그레이션을 건너뜀"  # the post-mortem's
    assert deploy["fix"] == {"summary": "3.1로 롤백", "measures": []}
    assert disk["root_cause"] == "오래된 로그 삭제"  # no post-mortem: the resolution
    assert found(api, q="오래된 로그") == [corpus["disk"]]  # resolution text is indexed
    assert api.get("/api/v1/search", params={"q": "검색"}).json()["items"][0]["fix"] is None


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"장애',
        "*",
        "장애*",
        "NEAR(장애 디스크)",
        "-장애",
        "장애 -디스크",
        "' OR 1=1 --",
        "'; DROP TABLE incidents; --",
        "title:장애",
        "a AND OR NOT b",
        "^장애",
        "%_",
        "\\",
        "()",
        "ㅋ",
        "장",
    ],
)
def test_query_syntax_and_injection_attempts_answer_normally(
    api: httpx.Client, corpus: dict[str, str], q: str
) -> None:
    response = api.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert api.get("/api/v1/search", params={"q": "장애"}).json()["items"]  # nothing dropped


def test_one_character_words_match_too(api: httpx.Client, corpus: dict[str, str]) -> None:
    assert found(api, q="풀", tag="disk") == [corpus["disk"]]
    assert set(found(api, q="풀")) == {corpus["disk"], corpus["pool"]}


def test_overlong_query_bad_kind_and_bad_cursor_are_invalid_query(api: httpx.Client) -> None:
    for params in ({"q": "장애" * 101}, {"kind": "alert"}, {"cursor": "not-a-cursor"}):
        response = api.get("/api/v1/search", params=params)
        assert (response.status_code, error_code(response)) == (422, "INVALID_QUERY"), params


def test_search_needs_a_credential(anon: httpx.Client) -> None:
    assert anon.get("/api/v1/search", params={"q": "장애"}).status_code == 401


def test_an_incident_declared_later_is_indexed_at_once(api: httpx.Client) -> None:
    clock.advance(minutes=5)
    new = incident(api, "메모리 누수")
    assert found(api, q="누수") == [new]
