"""The metrics report cache: one build per report at a time, never a stampede of builds."""

from __future__ import annotations

import threading
import time
import uuid

from haetae.db import Database
from haetae.metrics import queries


def test_one_request_builds_a_report_while_the_others_wait_or_read_the_kept_one(
    db: Database,
) -> None:
    key = ("test", uuid.uuid4().hex)
    builds: list[int] = []
    started = threading.Event()

    def build() -> int:
        builds.append(1)
        started.set()
        time.sleep(0.4)  # a slow build: every other asker arrives while it runs
        return len(builds)

    def ask(minute: int, out: list[int]) -> None:
        with db.session(write=False) as session:
            out.append(queries._cached(key, session, build, minute))

    # Nothing kept yet: six at once, one build, all six get it.
    first: list[int] = []
    threads = [threading.Thread(target=ask, args=(1, first)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert builds == [1] and first == [1] * 6

    # The next minute: one asker builds it again; one arriving meanwhile is answered the
    # report kept before instead of waiting or building a second time.
    started.clear()
    fresh: list[int] = []
    builder = threading.Thread(target=ask, args=(2, fresh))
    builder.start()
    assert started.wait(5)
    meanwhile: list[int] = []
    ask(2, meanwhile)
    builder.join(10)
    assert meanwhile == [1] and fresh == [2] and len(builds) == 2
    # Built for this minute now: read from the cache.
    again: list[int] = []
    ask(2, again)
    assert again == [2] and len(builds) == 2
