"""Engine, sessions and the SQLite pragmas; one transaction per command."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from haetae.clock import as_utc
from haetae.errors import HaetaeError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BUSY_TIMEOUT_SECONDS = 15.0  # how long a writer waits for SQLite's lock (docs/operations.md)
CHECK_TIMEOUT_SECONDS = 1.5  # check_writable() answers within about this, whatever holds the lock
RETRY_AFTER_SECONDS = 5  # told to clients refused because the database is unavailable
_FILE_KEY = "haetae_sqlite_file"  # a pooled connection's (device, inode) of the file it opened
_READ_ONLY_KEY = "haetae_opened_read_only"  # SQLite fell back to read-only when it opened
# The milliseconds a writer may still wait for SQLite's lock, after queueing on this process's
# own write lock: the two waits together stay within the busy timeout.
_busy_budget: ContextVar[int | None] = ContextVar("haetae_busy_budget", default=None)


class DatabaseUnavailable(HaetaeError):
    """The database cannot take this work now (locked, read-only, gone, unreachable):
    503 NOT_READY with Retry-After. Nothing of the refused transaction was kept."""

    def __init__(self, message: str) -> None:
        super().__init__("NOT_READY", message, retry_after=RETRY_AFTER_SECONDS)


# SQLite's primary result codes (sqlite3 errors carry sqlite_errorname, e.g.
# SQLITE_IOERR_WRITE) that mean the file cannot be written now, not that the request is wrong.
_SQLITE_FAULTS = {
    "SQLITE_BUSY": "The database is locked by another process; try again.",
    "SQLITE_LOCKED": "The database is locked; try again.",
    "SQLITE_READONLY": "The database file is read-only; nothing was stored.",
    "SQLITE_IOERR": "The database file could not be written (disk I/O error); nothing was stored.",
    "SQLITE_CANTOPEN": "The database file cannot be opened; nothing was stored.",
    "SQLITE_FULL": "The disk holding the database is full; nothing was stored.",
}


def database_fault(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 answer to a driver error that means "the database is unavailable", or None
    for errors that mean a bug or a conflict (integrity, programming errors, deadlocks),
    which must stay loud. The one place where driver errors become NOT_READY."""
    if isinstance(exc, DatabaseUnavailable):
        return exc
    orig: BaseException | None = exc
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return DatabaseUnavailable("The connection to the database was lost; try again.")
        orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        name = str(getattr(orig, "sqlite_errorname", "") or "")
        primary = "_".join(name.split("_")[:2])
        if primary in _SQLITE_FAULTS:
            return DatabaseUnavailable(_SQLITE_FAULTS[primary])
        said = str(orig).lower()
        for phrase, key in (
            ("database is locked", "SQLITE_BUSY"),
            ("readonly database", "SQLITE_READONLY"),
            ("disk i/o error", "SQLITE_IOERR"),
            ("unable to open database file", "SQLITE_CANTOPEN"),
        ):
            if phrase in said:
                return DatabaseUnavailable(_SQLITE_FAULTS[key])
        return None
    if isinstance(orig, psycopg.errors.ReadOnlySqlTransaction):
        return DatabaseUnavailable("The database is read-only (a standby?); nothing was stored.")
    if isinstance(orig, psycopg.errors.TransactionRollback):
        return None  # a deadlock or serialization failure: the writer's own retry takes it
    if isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return DatabaseUnavailable("The database is unreachable; try again.")
    return None


def _file_error(exc: DBAPIError) -> bool:
    """A SQLite error about the file itself (read-only, I/O, cannot open), not a lock."""
    name = str(getattr(exc.orig, "sqlite_errorname", "") or "")
    return name.startswith(("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN"))


def _file_identity(path: Path) -> tuple[int, int]:
    found = os.stat(path)
    return found.st_dev, found.st_ino


def _prepare_sqlite(engine: Engine, database: Database) -> None:
    path = database.sqlite_file

    @event.listens_for(engine, "do_connect")
    def _before_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        # Once this process has used a file, a missing one is a fault: sqlite3.connect would
        # otherwise create an empty database in its place and writes would land there.
        if path is not None and database.opened_file is not None and not path.exists():
            raise sqlite3.OperationalError(f"unable to open database file {path}: it is gone")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        busy_ms = int(database.busy_timeout * 1000)
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        record.info["busy_ms"] = busy_ms
        if path is not None:
            record.info[_FILE_KEY] = database.opened_file = _file_identity(path)
            # SQLite opens a file it may not write read-only, for good: such a connection
            # must go once the file is writable again.
            if not os.access(path, os.W_OK):
                record.info[_READ_ONLY_KEY] = True

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.get(_READ_ONLY_KEY) and path is not None and os.access(path, os.W_OK):
            # The pool drops this connection and hands out a new one.
            raise DisconnectionError("opened while the file was read-only; it is writable now")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        budget = _busy_budget.get()
        if budget is not None and budget != conn.info.get("busy_ms"):
            conn.exec_driver_sql(f"PRAGMA busy_timeout={budget}")
            conn.info["busy_ms"] = budget
        # Writers take the lock up front: a deferred transaction that reads and then
        # writes can fail with "database is locked" instead of waiting its turn.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _json_dumps(value: Any) -> str:
    # orjson: several times faster than the standard library for the payloads alerts carry.
    return orjson.dumps(value).decode()


class Database:
    """One engine and its session factories."""

    def __init__(self, url: str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.busy_timeout = busy_timeout  # SQLite: how long a writer waits for the lock
        self.is_sqlite = url.startswith("sqlite")
        self.sqlite_file: Path | None = None
        # (device, inode) of the SQLite file the latest pooled connection opened.
        self.opened_file: tuple[int, int] | None = None
        self._checker: Engine | None = None
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                self.sqlite_file = Path(path)
                self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": busy_timeout},
                pool_size=10,
                json_serializer=_json_dumps,
            )
            _prepare_sqlite(self.engine, self)
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
        self._read_engine = reader

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error.

        A database that cannot take the transaction (locked past the busy timeout, read-only,
        its file gone, the server unreachable) raises DatabaseUnavailable (503 NOT_READY),
        and nothing of the transaction is kept.
        """
        try:
            if write and self.is_sqlite:
                with self._sqlite_write() as session:
                    yield session
                return
            factory = self._writer if write else self._reader
            with factory() as session, session.begin():
                yield session
        except DBAPIError as exc:
            fault = database_fault(exc)
            if fault is None:
                raise
            raise fault from exc

    @contextmanager
    def _sqlite_write(self) -> Iterator[Session]:
        # SQLite has one writer at a time. Queue this process's writers on a lock
        # instead of leaving them to SQLite's busy handler, which polls with sleeps of
        # up to 100 ms and made the slowest declares wait a quarter of a second.
        # The queue and SQLite's own wait share one budget, so that while another process
        # holds the lock every writer is refused within the busy timeout, not after the
        # turns of all the writers queued before it.
        started = time.monotonic()
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            raise DatabaseUnavailable(_SQLITE_FAULTS["SQLITE_BUSY"])
        stale = False
        try:
            left = self.busy_timeout - (time.monotonic() - started)
            budget = _busy_budget.set(max(int(left * 1000), 1))
            try:
                with self._writer() as session, session.begin():
                    yield session
                    stale = not self._file_is_writable(session)
                    if stale:
                        raise DatabaseUnavailable(
                            "The database file was removed, replaced or made read-only while "
                            "Haetae runs; nothing was stored."
                        )
            except DBAPIError as exc:
                stale = _file_error(exc)
                raise
            finally:
                _busy_budget.reset(budget)
        finally:
            self._write_lock.release()
            if stale:
                # Pooled connections may hold an unlinked file, or have been opened read-only
                # while the file was (SQLite then never writes through them): open afresh.
                self.engine.dispose()

    def _file_is_writable(self, session: Session) -> bool:
        """Whether this transaction's commit would reach the file at sqlite_file.

        A connection keeps writing into a file that was deleted or replaced (its inode lives
        on while open) and reports success: compare the file at the path with the one this
        connection opened. Two system calls, against a commit's fsync.
        """
        if self.sqlite_file is None:
            return True
        opened = session.connection().info.get(_FILE_KEY)
        try:
            current = _file_identity(self.sqlite_file)
        except FileNotFoundError:
            return False
        info = session.connection().info
        return (
            current == opened
            and not info.get(_READ_ONLY_KEY)
            and os.access(self.sqlite_file, os.W_OK)
        )

    def check_writable(self) -> None:
        """Raise DatabaseUnavailable unless a write could be committed now; within ~2 s.

        Uses a connection of its own with a short timeout (not the pool's 15 s busy wait),
        writes nothing and rolls back. Detects a SQLite file that is locked by another
        process, read-only, deleted or replaced, and a PostgreSQL server that does not
        answer or is read-only.
        """
        try:
            if self.is_sqlite:
                self._check_sqlite()
            else:
                self._check_postgresql()
        except (sqlite3.Error, psycopg.Error, DBAPIError) as exc:
            fault = database_fault(exc)
            if fault is None:
                raise
            raise fault from exc

    def _check_sqlite(self) -> None:
        path = self.sqlite_file
        if path is None:  # in memory: nothing on disk to lose
            return
        try:
            current = _file_identity(path)
        except FileNotFoundError:
            raise DatabaseUnavailable(f"The SQLite database file {path} is gone.") from None
        if self.opened_file is not None and current != self.opened_file:
            # Restored from a backup, say: drop the connections to the old file, so that
            # the next ones open this one and the next check passes.
            self.opened_file = None
            self.engine.dispose()
            raise DatabaseUnavailable(f"The SQLite database file {path} was replaced.")
        for name in (path, path.with_name(path.name + "-wal")):
            # access() also sees a read-only mount and an immutable file (chattr +i), which
            # stop root too; opening the file would succeed read-only and tell nothing.
            if name.exists() and not os.access(name, os.W_OK):
                raise DatabaseUnavailable(f"The SQLite database file {name} is read-only.")
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw",
            uri=True,
            timeout=CHECK_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            # Takes the write lock (waiting at most CHECK_TIMEOUT_SECONDS), writes nothing.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def _check_postgresql(self) -> None:
        if self._checker is None:
            # Not the pool: a fresh connection with short timeouts each time, so that the
            # answer comes in about 2 s whatever state the pool's connections are in.
            self._checker = create_engine(
                self.url,
                poolclass=NullPool,
                connect_args={
                    "connect_timeout": 2,
                    "options": "-c statement_timeout=2000 -c lock_timeout=1000",
                },
            )
        with self._checker.connect() as conn:
            read_only, standby = conn.execute(
                text("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()")
            ).one()
            conn.rollback()
        if read_only == "on" or standby:
            raise DatabaseUnavailable("The database is read-only (a standby?); nothing is stored.")

    def ping(self) -> None:
        # Pooled SQLite connections keep working on a deleted file (an unmounted volume,
        # a mistaken clean-up) while every new write is lost with it: check the file too.
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            raise FileNotFoundError(f"SQLite database file {self.sqlite_file} is gone")
        # A reader's connection: on SQLite the writer's BEGIN IMMEDIATE would wait out the
        # busy timeout while another process holds the write lock.
        with self._read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self._checker is not None:
            self._checker.dispose()


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
