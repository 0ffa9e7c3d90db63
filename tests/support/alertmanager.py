"""Real Prometheus Alertmanagers on loopback, sending webhooks to a receiver under test.

Debian's `prometheus-alertmanager` (scripts/system-deps installs it) runs as a child
process with its own port, its own storage folder and a generated configuration: one
route, one webhook receiver. Nothing is shared with the system's Alertmanager service or
its /etc/prometheus/alertmanager.yml, and gossip is off, so that two of them started
with `AlertmanagerPair` behave as an HA pair whose peers cannot see each other: each
sends every notification, which is the duplicate a receiver must absorb.

    with Alertmanager(receiver_url, token=token) as am:
        am.post_alerts([firing({"alertname": "DiskFull", "severity": "critical"})])
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import httpx

from tests.support.pg import free_port
from tests.support.started import Started

BINARY = "/usr/bin/prometheus-alertmanager"


def rfc3339(moment: datetime) -> str:
    """A time as Alertmanager's API takes it: UTC, `Z`, milliseconds."""
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def firing(
    labels: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    generator_url: str = "",
) -> dict[str, Any]:
    """A firing alert for POST /api/v2/alerts (ends an hour from now unless told)."""
    now = datetime.now(UTC)
    alert: dict[str, Any] = {
        "labels": dict(labels),
        "annotations": dict(annotations or {}),
        "startsAt": rfc3339(starts_at or now),
        "endsAt": rfc3339(ends_at or now + timedelta(hours=1)),
    }
    if generator_url:
        alert["generatorURL"] = generator_url
    return alert


def resolved(
    labels: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> dict[str, Any]:
    """The same alert again with `endsAt` in the past: Alertmanager marks it resolved."""
    ends = ends_at or datetime.now(UTC) - timedelta(seconds=1)
    if ends <= starts_at:
        raise ValueError("endsAt must be after startsAt")
    return firing(labels, annotations, starts_at=starts_at, ends_at=ends)


class AlertmanagerError(RuntimeError):
    pass


class Alertmanager(Started):
    """One `prometheus-alertmanager` process with one webhook receiver.

    receiver_url: where the webhook posts (e.g. Haetae's /ingest/alertmanager URL).
    token: sent as `Authorization: Bearer <token>` (token_in="header", through
        http_config.authorization) or appended as `?token=<token>` (token_in="query").
    group_by, group_wait, group_interval, repeat_interval: the route's timers, as
        Alertmanager durations ("1s", "5m"); the defaults are small, for tests.
    max_alerts: the webhook's max_alerts (0 = all); over it, the payload's
        truncatedAlerts counts the alerts left out.
    """

    def __init__(
        self,
        receiver_url: str,
        *,
        token: str | None = None,
        token_in: Literal["header", "query"] = "header",
        group_by: Sequence[str] = ("alertname",),
        group_wait: str = "1s",
        group_interval: str = "1s",
        repeat_interval: str = "1h",
        send_resolved: bool = True,
        max_alerts: int = 0,
        resolve_timeout: str = "5m",
        log_level: str = "info",
        binary: str = BINARY,
    ) -> None:
        if not os.access(binary, os.X_OK):
            raise AlertmanagerError(
                f"{binary} was not found; install Debian's prometheus-alertmanager "
                "(scripts/system-deps does)."
            )
        self.binary = binary
        self.receiver_url = receiver_url
        self.token = token
        self.token_in = token_in
        self.group_by = list(group_by)
        self.group_wait = group_wait
        self.group_interval = group_interval
        self.repeat_interval = repeat_interval
        self.send_resolved = send_resolved
        self.max_alerts = max_alerts
        self.resolve_timeout = resolve_timeout
        self.log_level = log_level
        self.port = 0
        self.dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    # -- configuration -------------------------------------------------------------

    def webhook_url(self) -> str:
        if self.token is None or self.token_in == "header":
            return self.receiver_url
        joiner = "&" if urlsplit(self.receiver_url).query else "?"
        return f"{self.receiver_url}{joiner}{urlencode({'token': self.token})}"

    def config(self) -> dict[str, Any]:
        """The Alertmanager configuration this instance runs with (JSON is valid YAML)."""
        webhook: dict[str, Any] = {
            "url": self.webhook_url(),
            "send_resolved": self.send_resolved,
            "max_alerts": self.max_alerts,
        }
        if self.token is not None and self.token_in == "header":
            webhook["http_config"] = {
                "authorization": {"type": "Bearer", "credentials": self.token}
            }
        return {
            "global": {"resolve_timeout": self.resolve_timeout},
            "route": {
                "receiver": "haetae",
                "group_by": self.group_by,
                "group_wait": self.group_wait,
                "group_interval": self.group_interval,
                "repeat_interval": self.repeat_interval,
            },
            "receivers": [{"name": "haetae", "webhook_configs": [webhook]}],
        }

    # -- process -------------------------------------------------------------------

    @property
    def url(self) -> str:
        if not self.port:
            raise AlertmanagerError("not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30) -> Alertmanager:
        if self._proc is not None:
            raise AlertmanagerError("already started")
        self.dir = Path(tempfile.mkdtemp(prefix="haetae-am-"))
        config_file = self.dir / "alertmanager.yml"
        config_file.write_text(json.dumps(self.config(), indent=2, ensure_ascii=False))
        (self.dir / "data").mkdir()
        # A port can be taken between free_port() and the bind: try a few.
        for _attempt in range(3):
            self.port = free_port()
            self._log_file = (self.dir / "alertmanager.log").open("ab")
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={config_file}",
                    f"--storage.path={self.dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    f"--web.external-url=http://127.0.0.1:{self.port}",
                    "--cluster.listen-address=",
                    f"--log.level={self.log_level}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                self.wait_ready(timeout)
                return self
            except AlertmanagerError:
                if self._proc.poll() is None or "address already in use" not in self.log():
                    self.stop()
                    raise
                self._log_file.close()
                self._proc = None
        self.stop()
        raise AlertmanagerError("no free port for Alertmanager after 3 tries")

    def wait_ready(self, timeout: float = 30) -> None:
        """Poll /-/ready until it answers 200; raise with the log's tail if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            if self._proc is None:
                raise AlertmanagerError("not started")
            if self._proc.poll() is not None:
                raise AlertmanagerError(
                    f"Alertmanager exited with {self._proc.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AlertmanagerError(
                    f"Alertmanager not ready after {timeout}s:\n{self.log()[-3000:]}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the process (idempotent) and remove its folder."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> Alertmanager:
        return self if self.running else self.start()

    def log(self) -> str:
        """Everything the process has written so far (stderr and stdout)."""
        if self.dir is None or not (self.dir / "alertmanager.log").exists():
            return ""
        return (self.dir / "alertmanager.log").read_text(errors="replace")

    # -- API -----------------------------------------------------------------------

    def post_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> None:
        """POST /api/v2/alerts, as Prometheus does; raise unless Alertmanager takes them."""
        body = [dict(alert) for alert in alerts]
        response = httpx.post(f"{self.url}/api/v2/alerts", json=body, timeout=30)
        if response.status_code != 200:
            raise AlertmanagerError(
                f"POST /api/v2/alerts answered {response.status_code}: {response.text}"
            )

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts: what Alertmanager itself holds (active ones by default)."""
        response = httpx.get(f"{self.url}/api/v2/alerts", params=filters, timeout=30)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def notifications(self) -> dict[str, int]:
        """Webhook notifications attempted and failed so far, from Alertmanager's /metrics."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        counts = {"total": 0, "failed": 0}
        for name, key in (
            ("alertmanager_notifications_total", "total"),
            ("alertmanager_notifications_failed_total", "failed"),
        ):
            for match in re.finditer(
                rf'^{name}\{{[^}}]*integration="webhook"[^}}]*\}} (\S+)$', text, re.M
            ):
                counts[key] += int(float(match.group(1)))
        return counts


class AlertmanagerPair(Started):
    """Two Alertmanagers with the same configuration and no gossip between them.

    post_alerts() sends every alert to both, as Prometheus sends to each Alertmanager it
    knows; each then notifies the receiver on its own, so every notification arrives
    twice (same fingerprints, same groupKey, different externalURL).
    """

    def __init__(self, receiver_url: str, **options: Any) -> None:
        self.members = (
            Alertmanager(receiver_url, **options),
            Alertmanager(receiver_url, **options),
        )

    def start(self, timeout: float = 30) -> AlertmanagerPair:
        try:
            for member in self.members:
                member.start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for member in self.members:
            member.stop()

    @property
    def urls(self) -> list[str]:
        return [member.url for member in self.members]

    def post_alerts(self, alerts: Iterable[Mapping[str, Any]]) -> None:
        body = [dict(alert) for alert in alerts]
        for member in self.members:
            member.post_alerts(body)

    def notifications(self) -> dict[str, int]:
        counts = [member.notifications() for member in self.members]
        return {key: sum(count[key] for count in counts) for key in ("total", "failed")}

    def log(self) -> str:
        return "\n".join(
            f"--- {member.url if member.port else '?'}\n{member.log()}" for member in self.members
        )
