"""Waking the worker when a transaction queues work due now, instead of waiting for its
next poll: in this process through an event, in others through PostgreSQL NOTIFY (which
is delivered only if the transaction commits)."""

from __future__ import annotations

import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

CHANNEL = "haetae_engine"
_event = threading.Event()


def request(session: Session) -> None:
    """Wake the workers once this session's transaction commits."""
    if session.info.get("wake"):
        return
    session.info["wake"] = True
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))


def wake() -> None:
    _event.set()


def wait(timeout: float) -> bool:
    """Sleep until woken or `timeout` seconds pass; True when woken."""
    woken = _event.wait(timeout)
    _event.clear()
    return woken


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("wake", False):
        _event.set()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("wake", None)
