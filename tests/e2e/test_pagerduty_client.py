"""PagerDuty's own Python client (`pagerduty`, its Events API v2 client) talks to Haetae.

The library only accepts an https:// base URL, as a Haetae in production sits behind TLS;
here a small TLS-terminating proxy on loopback, with a throwaway CA from `trustme`, stands
in front of the running test server, and the client trusts that CA. Nothing else about
the client is changed: its base_url points at Haetae, its routing key is the token of a
`pagerduty` integration, and its own code builds and posts every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pagerduty
import pytest
import trustme

from tests.support.server import RunningServer


class TlsProxy:
    """Accept TLS on a loopback port and pipe the bytes to a plain-HTTP upstream."""

    def __init__(self, upstream_port: int, context: ssl.SSLContext) -> None:
        self.upstream_port = upstream_port
        self.context = context
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> TlsProxy:
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError("the TLS proxy did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            return

        async def pipe(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, half_close: bool
        ) -> None:
            try:
                while chunk := await reader.read(65_536):
                    writer.write(chunk)
                    await writer.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                if half_close and writer.can_write_eof():
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                else:
                    writer.close()

        await asyncio.gather(pipe(client_r, upstream_w, True), pipe(upstream_r, client_w, False))
        for writer in (upstream_w, client_w):
            writer.close()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_url(
    server: RunningServer, ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Haetae's base URL over TLS (certificate for 127.0.0.1, signed by the test CA)."""
    pem = Path(tmp_path_factory.mktemp("tls")) / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pem))
    port = int(server.url.rsplit(":", 1)[1])
    proxy = TlsProxy(port, context).start()
    yield f"https://127.0.0.1:{proxy.port}"
    proxy.stop()


@pytest.fixture
def client_for(https_url: str, ca: trustme.CA) -> Iterator[Any]:
    """Make EventsApiV2Client instances for a routing key, aimed at Haetae."""
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    made: list[pagerduty.EventsApiV2Client] = []

    def make(routing_key: str) -> pagerduty.EventsApiV2Client:
        client = pagerduty.EventsApiV2Client(routing_key, base_url=https_url, verify=trust)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def routing_key(api: httpx.Client) -> str:
    response = api.post("/api/v1/integrations", json={"name": "backups", "type": "pagerduty"})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def alerts(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/v1/alerts", params={**params, "limit": 200})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"]), page
    return list(page["items"])


def incidents(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/api/v1/incidents", params={"limit": 200})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_trigger_acknowledge_resolve_through_the_pagerduty_client(
    api: httpx.Client, client_for: Any, routing_key: str
) -> None:
    client = client_for(routing_key)
    dedup_key = "backup-nightly/db-1"
    returned = client.trigger(
        summary="Nightly backup of db-1 failed",
        source="backup-runner-3",
        dedup_key=dedup_key,
        severity="error",
        custom_details={"job": "pg_dump", "exit_code": 2, "stderr": "disk full"},
        links=[{"href": "https://runbooks.example/backups", "text": "Backup runbook"}],
    )
    assert returned == dedup_key

    [alert] = alerts(api)
    assert alert["dedup_key"] == dedup_key
    assert alert["status"] == "firing"
    assert alert["incident_id"]
    [opened] = incidents(api)
    assert opened["id"] == alert["incident_id"]
    assert opened["severity"] == "P2"  # "error" -> the default policy's second severity
    assert opened["acknowledged_at"] is None

    assert client.acknowledge(dedup_key) == dedup_key
    [alert] = alerts(api)
    assert alert["status"] == "acknowledged"
    [acknowledged] = incidents(api)
    assert acknowledged["id"] == opened["id"]
    assert acknowledged["acknowledged_at"] is not None

    assert client.resolve(dedup_key) == dedup_key
    [alert] = alerts(api)
    assert (alert["dedup_key"], alert["status"]) == (dedup_key, "resolved")
    [settled] = incidents(api)
    assert settled["id"] == opened["id"]
    assert settled["status"] == "monitoring"


def test_a_trigger_without_a_dedup_key_gets_one_made_and_returned(
    api: httpx.Client, client_for: Any, routing_key: str
) -> None:
    client = client_for(routing_key)
    made = client.trigger(summary="Certificate expires in 3 days", source="cert-watch")
    assert isinstance(made, str) and made
    [alert] = alerts(api)
    assert alert["dedup_key"] == made
    assert alert["status"] == "firing"

    # The made key is the alert's handle from then on.
    assert client.acknowledge(made) == made
    [alert] = alerts(api)
    assert (alert["dedup_key"], alert["status"]) == (made, "acknowledged")


def test_a_wrong_routing_key_is_refused_with_401(
    api: httpx.Client, client_for: Any, routing_key: str
) -> None:
    client = client_for(secrets.token_hex(16))
    with pytest.raises(pagerduty.HttpError) as refused:
        client.trigger(summary="Should not land", source="nowhere", dedup_key="x-1")
    assert refused.value.response.status_code == 401
    assert alerts(api) == []
    assert incidents(api) == []


def test_an_invalid_event_is_refused_with_400_in_pagerdutys_shape(
    api: httpx.Client, client_for: Any, routing_key: str
) -> None:
    client = client_for(routing_key)
    with pytest.raises(pagerduty.HttpError) as refused:
        # A trigger with no payload at all: PagerDuty calls it an invalid event.
        client.send_event("trigger", dedup_key="no-payload")
    response = refused.value.response
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["errors"]
    assert alerts(api) == []
    assert incidents(api) == []
