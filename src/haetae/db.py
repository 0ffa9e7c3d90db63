"""Engine, sessions and the SQLite pragmas; one transaction per command."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from haetae.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that reads and then
        # writes can fail with "database is locked" instead of waiting its turn.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _json_dumps(value: Any) -> str:
    # orjson: several times faster than the standard library for the payloads alerts carry.
    return orjson.dumps(value).decode()


class Database:
    """One engine and its session factories."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.sqlite_file: Path | None = None
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                self.sqlite_file = Path(path)
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": 15},
                pool_size=10,
                json_serializer=_json_dumps,
            )
            _prepare_sqlite(self.engine)
            reader: Engine = self.engine.execution_options(sqlite_begin="DEFERRED")
        else:
            self.engine = create_engine(
                url,
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                # An unreachable server fails readiness in seconds instead of hanging it.
                connect_args={"connect_timeout": 5},
                json_serializer=_json_dumps,
            )
            reader = self.engine
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.RLock()  # re-entrant: a nested writer errors, never hangs
        self._reader = sessionmaker(reader, expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        factory = self._writer if write else self._reader
        if write and self.is_sqlite:
            # SQLite has one writer at a time. Queue this process's writers on a lock
            # instead of leaving them to SQLite's busy handler, which polls with sleeps of
            # up to 100 ms and made the slowest declares wait a quarter of a second.
            with self._write_lock, factory() as session, session.begin():
                yield session
            return
        with factory() as session, session.begin():
            yield session

    def ping(self) -> None:
        # Pooled SQLite connections keep working on a deleted file (an unmounted volume,
        # a mistaken clean-up) while every new write is lost with it: check the file too.
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            raise FileNotFoundError(f"SQLite database file {self.sqlite_file} is gone")
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Haetae stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)
