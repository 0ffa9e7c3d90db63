"""Database.check_writable and write sessions tell a database that cannot take writes
(locked, read-only, deleted, replaced, unreachable) from one that can, quickly and without
keeping anything they refused. Real SQLite files and a real PostgreSQL cluster."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from haetae.db import Database, DatabaseUnavailable, database_fault
from haetae.migrations import upgrade_to_head
from tests.conftest import BACKEND
from tests.support.pg import PostgresCluster, free_port

LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _count(db: Database) -> int:
    with db.session(write=False) as session:
        return int(session.scalar(text("SELECT count(*) FROM integrations")) or 0)


def _insert(db: Database, name: str) -> None:
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO integrations (name, type, token_hash, token_prefix, created_at, "
                "created_by) VALUES (:n, 'generic', :n, 'hk_', CURRENT_TIMESTAMP, 'test')"
            ),
            {"n": name},
        )


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'haetae.db'}"
    upgrade_to_head(url)
    database = Database(url, busy_timeout=1.0)
    _insert(database, "first")  # the pool holds a connection to the file from here on
    yield database
    database.dispose()


def _can_make_immutable(path: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        return False
    probe = path.with_name("probe")
    probe.touch()
    made = subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0
    if made:
        subprocess.run(["chattr", "-i", str(probe)], check=True)
    probe.unlink()
    return made


def test_a_healthy_database_is_writable_and_the_check_keeps_nothing(sqlite_db: Database):
    path = sqlite_db.sqlite_file
    assert path is not None
    wal = path.with_name(path.name + "-wal")
    before = (path.stat().st_size, wal.stat().st_size, _count(sqlite_db))
    sqlite_db.check_writable()
    assert (path.stat().st_size, wal.stat().st_size, _count(sqlite_db)) == before


def test_sqlite_locked_by_another_process_fails_the_check_within_two_seconds(
    sqlite_db: Database,
):
    holder = subprocess.Popen(  # another process, as a backup tool or a script would be
        [sys.executable, "-c", LOCK_HOLDER, str(sqlite_db.sqlite_file), "6"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="locked"):
            sqlite_db.check_writable()
        assert time.monotonic() - started < 2.5
        started = time.monotonic()
        sqlite_db.ping()  # reads go on (WAL), and readiness's read check does not wait
        assert _count(sqlite_db) == 1
        assert time.monotonic() - started < 0.5
        # A write waits at most the busy timeout, then is refused with Retry-After.
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable) as refused:
            _insert(sqlite_db, "during the lock")
        assert time.monotonic() - started < 2.5
        assert refused.value.status == 503 and refused.value.details["retry_after"] >= 1
    finally:
        holder.kill()
        holder.wait()
    sqlite_db.check_writable()
    _insert(sqlite_db, "after the lock")
    assert _count(sqlite_db) == 2


def test_writers_queued_behind_a_lock_are_refused_within_one_busy_timeout(
    sqlite_db: Database,
):
    """Queued writers share one wait: the third is not refused after three timeouts."""
    import threading

    holder = sqlite3.connect(str(sqlite_db.sqlite_file), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    took: list[float] = []

    def write() -> None:
        started = time.monotonic()
        try:
            _insert(sqlite_db, f"queued {threading.get_ident()}")
        except DatabaseUnavailable:
            took.append(time.monotonic() - started)

    threads = [threading.Thread(target=write) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(took) == 3 and max(took) < 1.8, took


def test_a_deleted_sqlite_file_refuses_writes_instead_of_losing_them(sqlite_db: Database):
    path = sqlite_db.sqlite_file
    assert path is not None
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        name.unlink(missing_ok=True)
    with pytest.raises(DatabaseUnavailable, match="gone"):
        sqlite_db.check_writable()
    with pytest.raises(DatabaseUnavailable):
        _insert(sqlite_db, "into the void")
    # No empty database appears in its place.
    with pytest.raises(DatabaseUnavailable):
        _insert(sqlite_db, "into the void again")
    assert not path.exists()


def test_a_replaced_sqlite_file_is_refused_once_then_used(sqlite_db: Database, tmp_path: Path):
    path = sqlite_db.sqlite_file
    assert path is not None
    backup = tmp_path / "backup.db"
    with sqlite3.connect(str(path)) as source, sqlite3.connect(str(backup)) as target:
        source.backup(target)
    os.replace(backup, path)  # a restore from backup: a new file (inode) at the same path
    with pytest.raises(DatabaseUnavailable):
        _insert(sqlite_db, "into the old file")
    _insert(sqlite_db, "into the restored file")
    sqlite_db.check_writable()
    with sqlite3.connect(str(path)) as reader:
        names = [r[0] for r in reader.execute("SELECT name FROM integrations ORDER BY id")]
    assert names == ["first", "into the restored file"]


def test_a_read_only_sqlite_file_refuses_writes_and_recovers(sqlite_db: Database):
    """chattr +i (immutable) stops root too, unlike chmod; the -shm file is left alone
    because SQLite maps it into memory and a write there would be a SIGBUS."""
    path = sqlite_db.sqlite_file
    assert path is not None
    if not _can_make_immutable(path):
        pytest.skip("needs root and a file system with chattr +i")
    frozen = [str(path), str(path.with_name(path.name + "-wal"))]
    subprocess.run(["chattr", "+i", *frozen], check=True)
    try:
        with pytest.raises(DatabaseUnavailable, match="read-only"):
            sqlite_db.check_writable()
        with pytest.raises(DatabaseUnavailable):
            _insert(sqlite_db, "not kept")
        # Readers go on meanwhile, through connections SQLite opens read-only for good.
        assert _count(sqlite_db) == 1
    finally:
        subprocess.run(["chattr", "-i", *frozen], check=True)
    _insert(sqlite_db, "kept")  # the first write after the fault, not a second try
    sqlite_db.check_writable()
    assert _count(sqlite_db) == 2


def test_bugs_are_not_mistaken_for_an_unavailable_database(sqlite_db: Database):
    _insert(sqlite_db, "same")
    with pytest.raises(IntegrityError):
        _insert(sqlite_db, "same")
    with pytest.raises(Exception) as bad_sql, sqlite_db.session() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(bad_sql.value, DatabaseUnavailable)
    assert database_fault(bad_sql.value) is None


def test_an_unreachable_postgresql_fails_the_check_within_two_seconds():
    db = Database(f"postgresql+psycopg://haetae@127.0.0.1:{free_port()}/nothing")
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match="unreachable"):
            db.check_writable()
        assert time.monotonic() - started < 2.5
        with pytest.raises(DatabaseUnavailable), db.session() as session:
            session.execute(text("SELECT 1"))
    finally:
        db.dispose()


@pytest.mark.skipif(BACKEND != "postgresql", reason="needs the run's PostgreSQL")
def test_a_read_only_postgresql_fails_the_check_and_refuses_writes(
    pg_cluster: PostgresCluster | None, fresh_database_url: str
):
    upgrade_to_head(fresh_database_url)
    db = Database(fresh_database_url)
    name = fresh_database_url.rsplit("/", 1)[-1]
    try:
        db.check_writable()
        with db.engine.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            conn.commit()
        db.dispose()  # pooled connections keep the setting they started with
        with pytest.raises(DatabaseUnavailable, match="read-only"):
            db.check_writable()
        with pytest.raises(DatabaseUnavailable, match="read-only"):
            _insert(db, "refused")
        # Each statement its own transaction: the SET applies to the ALTER after it.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET default_transaction_read_only = off"))
            conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off'))
        db.dispose()
        db.check_writable()
        _insert(db, "kept")
        assert _count(db) == 1
    finally:
        db.dispose()
