"""`haetae search`: the real script on a real database, in Korean."""

from __future__ import annotations

from haetae.cli.common import EXIT_INVALID, EXIT_NOT_FOUND, EXIT_USAGE
from haetae.clock import utcnow


def _declare(haetae, title: str, *extra: str) -> str:
    command = f"declare --title '{title}' --severity P3 --reason test " + " ".join(extra)
    return str(haetae(command).out.strip())


def test_search_finds_korean_words_with_filters_as_text_and_json(haetae) -> None:
    disk = _declare(haetae, "결제 서버 디스크 풀로 장애가 발생", "--service payments")
    pool = _declare(haetae, "커넥션 풀 고갈", "--service orders --tag db")
    haetae(f"note {disk} '오래된 로그를 지웠다'")

    printed = haetae("search '디스크 풀'")
    assert disk in printed.out and pool not in printed.out
    assert "결제 서버 디스크 풀로 장애가 발생" in printed.out
    assert "[incident]" in printed.out  # which document matched, printed as written
    assert [h["id"] for h in haetae("search 장애 --json").json()["items"]] == [disk]
    both = haetae("search 풀 --json").json()["items"]
    assert {h["id"] for h in both} == {disk, pool}
    assert [h["id"] for h in haetae("search 풀 --service orders --json").json()["items"]] == [pool]
    assert [h["id"] for h in haetae("search 풀 --tag db --severity P3 --json").json()["items"]] == [
        pool
    ]
    note = haetae("search 로그 --kind note --json").json()["items"]
    assert [(h["id"], h["kind"]) for h in note] == [(disk, "note")]
    assert haetae("search 장애 --since 1h --json").json()["items"]
    assert haetae(f"search 장애 --until {utcnow().year - 1}-01-01 --json").json()["items"] == []
    assert "nothing matches" in haetae("search 없는말").out
    haetae("search '\"장애 NEAR *' --json")  # query syntax is only text
    haetae("search " + "가" * 201, expect=EXIT_INVALID)


def test_similar_and_recurrence_from_the_command_line(haetae) -> None:
    first = _declare(haetae, "디스크 풀", "--service payments")
    second = _declare(haetae, "디스크 풀 재발", "--service payments")
    similar = haetae(f"search similar {second} --json").json()
    assert [s["id"] for s in similar] == [first]
    assert "service: payments" in haetae(f"search similar {second}").out

    assert haetae(f"search recurrence {second} --of {first} --json").json() == {
        "incident_id": second,
        "recurrence_of": first,
    }
    assert f"{first} *" in haetae(f"search similar {second}").out
    refused = haetae(f"search recurrence {first} --of {second}", expect=EXIT_INVALID)
    assert "INVALID_RECURRENCE" in refused.err
    haetae(f"search recurrence {second} --clear")
    record = haetae(f"incidents show {second} --json").json()
    assert record.get("recurrence_of") is None
    haetae(f"search recurrence {second}", expect=EXIT_USAGE)
    haetae("search similar INC-20000101-001", expect=EXIT_NOT_FOUND)
