"""SQLite's one-worker-at-a-time lease: the holder works, the others stand by."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta

from haetae.db import Database
from haetae.notify.models import EngineLease

log = logging.getLogger("haetae.worker")

LEASE_NAME = "engine"


class EngineLeaseHolder:
    def __init__(self, db: Database, holder: str, duration: timedelta) -> None:
        self.db = db
        self.holder = holder
        self.duration = duration
        self.held = False

    def hold(self, now: datetime) -> bool:
        """Take or renew the lease; False while another live worker holds it."""
        self.held = False  # until the renewal commits
        with self.db.session() as session:
            lease = session.get(EngineLease, LEASE_NAME)
            until = now + self.duration
            if lease is None:
                session.add(
                    EngineLease(
                        name=LEASE_NAME, holder=self.holder, lease_until=until, acquired_at=now
                    )
                )
            elif (
                lease.holder == self.holder or lease.lease_until < now or _holder_gone(lease.holder)
            ):
                if lease.holder != self.holder:
                    lease.acquired_at = now
                    log.info("engine lease taken", extra={"f_from": lease.holder})
                lease.holder, lease.lease_until = self.holder, until
            else:
                return False
        self.held = True
        return True

    def release(self) -> None:
        self.held = False
        with self.db.session() as session:
            lease = session.get(EngineLease, LEASE_NAME)
            if lease is not None and lease.holder == self.holder:
                session.delete(lease)


def _holder_gone(holder: str) -> bool:
    """A lease held by a process on this host that no longer exists can be taken at once."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
