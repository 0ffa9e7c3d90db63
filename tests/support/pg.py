"""A throwaway PostgreSQL cluster on loopback, for tests and benchmarks."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise RuntimeError(
        f"PostgreSQL's {name} was not found; install Debian's postgresql (scripts/test does)."
    )


class PostgresCluster:
    """initdb + pg_ctl in a temporary folder, owned by the postgres user when run as root."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="haetae-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self._running = False

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> PostgresCluster:
        """Create the cluster and start it; after stop(remove=False), start it again (same
        port, same data)."""
        if self.data.exists():
            self._pg_ctl_start()
            return self
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            _bin("initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "haetae",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self._pg_ctl_start()
        return self

    def _pg_ctl_start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.dir / "log"),
            "start",
        )
        self._running = True

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://haetae@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database: empty, or a copy of `template` (which nobody may be connected to)."""
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=haetae dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            copy = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def stop(self, *, remove: bool = True, mode: str = "immediate") -> None:
        """Stop the server (idempotent) and remove its files; with remove=False the files
        stay and start() starts it again, as after a database outage. `mode`: pg_ctl -m."""
        if not self.dir.exists():
            return
        try:
            if self._running:
                self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
                self._running = False
        finally:
            if remove:
                shutil.rmtree(self.dir, ignore_errors=True)
