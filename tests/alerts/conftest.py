"""Factories for ingest tests: integrations made through the API, posts to the ingest paths."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import RunningServer


def am_fixtures() -> list[dict[str, Any]]:
    """Real Alertmanager 0.25 webhook bodies (a copy is kept next to the tests)."""
    path = Path(__file__).with_name("alertmanager-0.25.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Sender:
    """One integration and a client that posts as it."""

    def __init__(self, server: RunningServer, created: dict[str, Any]) -> None:
        self.server = server
        self.id = created["id"]
        self.name = created["name"]
        self.token = created["token"]
        self.url = created["url"]
        self.client = httpx.Client(base_url=server.url, timeout=30)

    def post(self, path: str, body: Any, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.post(path, json=body, headers=headers, **kwargs)

    def alertmanager(self, body: Any) -> httpx.Response:
        return self.post("/ingest/alertmanager", body)

    def generic(self, body: Any) -> httpx.Response:
        return self.post("/ingest/generic", body)

    def pagerduty(self, **event: Any) -> httpx.Response:
        return self.client.post("/v2/enqueue", json={"routing_key": self.token, **event})


@pytest.fixture
def make_sender(api: httpx.Client, server: RunningServer) -> Iterator[Callable[..., Sender]]:
    made: list[Sender] = []

    def make(kind: str = "alertmanager", name: str | None = None) -> Sender:
        response = api.post(
            "/api/v1/integrations", json={"name": name or f"{kind}-{len(made)}", "type": kind}
        )
        assert response.status_code == 201, response.text
        sender = Sender(server, response.json())
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.client.close()


def am_alert(name: str, *, status: str = "firing", **labels: str) -> dict[str, Any]:
    fingerprint = hashlib.sha256(repr((name, sorted(labels.items()))).encode()).hexdigest()[:16]
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} on {labels.get('instance', '-')}"},
        "startsAt": "2026-11-21T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-21T10:30:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fingerprint,
    }


def am_body(*alerts: dict[str, Any], group: str = "{}:{alertname}", truncated: int = 0) -> dict:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": truncated,
        "status": "firing" if firing else "resolved",
        "receiver": "haetae",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": list(alerts),
    }
