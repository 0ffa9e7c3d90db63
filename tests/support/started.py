"""`with Server() as server:` for the servers tests run: entering starts it, leaving stops it."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Started:
    """Give a class start() (returning itself) and stop(); this adds the `with` form."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
