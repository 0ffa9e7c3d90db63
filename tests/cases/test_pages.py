"""The console's /search page and the incident page's similar-incidents panel, in Korean."""

from __future__ import annotations

import re

import httpx

from haetae.clock import clock
from tests.cases.factories import incident, resolve
from tests.web.console_client import csrf_from


def test_search_page_shows_korean_results_with_marked_matches_root_cause_and_fix(
    api: httpx.Client, alice: httpx.Client
) -> None:
    disk = incident(
        api,
        "결제 서버 <b>디스크</b> 풀",
        summary="디스크가 가득 차서 장애가 발생",
        services=["pay"],
    )
    resolve(api, disk, "오래된 로그 삭제")
    incident(api, "검색 지연", services=["search"])
    alice.cookies.set("lang", "ko")

    page = alice.get("/search", params={"q": "장애", "service": "pay"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "과거 장애 검색" in html and 'aria-current="page">검색<' in html
    assert disk in html and "검색 지연" not in html
    assert "<mark>장애</mark>가 발생" in html
    assert "결제 서버 &lt;b&gt;디스크&lt;/b&gt; 풀" in html  # stored text is never markup
    assert "<b>디스크</b>" not in html
    assert "해결 방법" in html and "오래된 로그 삭제" in html

    empty = alice.get("/search", params={"q": "없는말"})
    assert "일치하는 결과가 없습니다." in empty.text
    too_long = alice.get("/search", params={"q": "가" * 201})
    assert too_long.status_code == 422


def test_search_page_filters_by_date_and_kind_and_pages_on(
    api: httpx.Client, alice: httpx.Client
) -> None:
    ids = [incident(api, f"캐시 장애 {n}") for n in range(25)]
    first = alice.get("/search", params={"q": "캐시"})
    shown = re.findall(r'href="/incidents/(INC-[\d-]+)"', first.text)
    assert len(set(shown)) == 20
    more = re.search(r'href="(/search\?[^"]+cursor=[^"]+)"', first.text)
    assert more, "no link to more results"
    second = alice.get(more.group(1).replace("&amp;", "&"))
    assert len(set(re.findall(r'href="/incidents/(INC-[\d-]+)"', second.text))) == 5
    assert "결과 더 보기" not in second.text
    none = alice.get("/search", params={"q": "캐시", "to": "2000-01-01"})
    assert not re.findall(r'href="/incidents/(INC-[\d-]+)"', none.text)
    notes = alice.get("/search", params={"q": "캐시", "kind": "note"})
    assert not set(ids) & set(re.findall(r'href="/incidents/(INC-[\d-]+)"', notes.text))


def test_similar_panel_marks_and_unmarks_a_recurrence(
    api: httpx.Client, alice: httpx.Client, victor: httpx.Client
) -> None:
    earlier = incident(api, "디스크 풀", services=["payments"])
    resolve(api, earlier, "로그 정리")
    clock.advance(minutes=5)
    later = incident(api, "디스크 풀 재발", services=["payments"])
    alice.cookies.set("lang", "ko")
    detail = alice.get(f"/incidents/{later}")
    assert f'hx-get="/incidents/{later}/similar"' in detail.text

    panel = alice.get(f"/incidents/{later}/similar")
    assert "비슷한 과거 장애" in panel.text and earlier in panel.text
    assert "같은 서비스 (payments)" in panel.text and "로그 정리" in panel.text
    assert "이 장애의 재발로 표시" in panel.text
    token = csrf_from(detail.text)
    marked = alice.post(
        f"/incidents/{later}/recurrence",
        data={"of": earlier, "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert marked.status_code == 200, marked.text
    assert "이 장애의 재발로 표시됨" in marked.text
    assert api.get(f"/api/v1/incidents/{later}/similar").json()[0]["is_marked"] is True

    viewer_panel = victor.get(f"/incidents/{later}/similar")
    assert "이 장애의 재발로 표시</button>" not in viewer_panel.text
    refused = victor.post(
        f"/incidents/{later}/recurrence",
        data={"clear": "1", "csrf_token": csrf_from(victor.get(f"/incidents/{later}").text)},
    )
    assert refused.status_code == 403

    cleared = alice.post(f"/incidents/{later}/recurrence", data={"clear": "1", "csrf_token": token})
    assert (cleared.status_code, cleared.headers["location"]) == (303, f"/incidents/{later}")
    assert api.get(f"/api/v1/incidents/{later}/similar").json()[0]["is_marked"] is False
