"""The webhook receiver the benchmarks page: an asyncio HTTP/1.1 server in a process of its
own (connections kept open, every request answered 200), so the CPU time a benchmark measures
is the sender's alone.

It counts requests per idempotency key (`GET /_keys`); with `--log` it also keeps, per
request, when it came, its path, its key and the incident ids its body names (`GET /_log`).
`--delay S` holds each answer S seconds, as a slow chat service would.

    with receiver() as address:            # "127.0.0.1:PORT", from the benchmark
        ...                                 # json://{address}/alice is a contact method
        received_keys(address)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

INCIDENT_ID = re.compile(rb"INC-\d{8}-\d+")


def serve(port_file: str, *, delay: float = 0.0, log: bool = False) -> None:
    """Run the receiver until killed; its port is written to `port_file` once it listens."""
    keys: Counter[str] = Counter()
    entries: list[list[Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                at = time.time()
                lines = head.split(b"\r\n")
                length, key = 0, ""
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"x-haetae-idempotency-key":
                        key = value.strip().decode()
                body = await reader.readexactly(length) if length else b""
                if lines[0].startswith(b"GET /_keys"):
                    answer = json.dumps(keys).encode()
                elif lines[0].startswith(b"GET /_log"):
                    answer = json.dumps(entries).encode()
                else:
                    keys[key] += 1
                    if log:
                        request = lines[0].split(b" ")
                        path = request[1].decode() if len(request) > 1 else ""
                        ids = sorted({m.decode() for m in INCIDENT_ID.findall(body)})
                        entries.append([at, path, key, ids])
                    answer = b"{}"
                    if delay:
                        await asyncio.sleep(delay)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        await server.serve_forever()

    asyncio.run(main())


@contextmanager
def receiver(*, delay: float = 0.0, log: bool = False) -> Iterator[str]:
    """The receiver running in a child process, as "127.0.0.1:PORT"; RuntimeError if it does
    not start within 20 s."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        command = [sys.executable, __file__, str(port_file), "--delay", str(delay)]
        proc = subprocess.Popen(
            [*command, *(["--log"] if log else [])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while not port_file.exists() or not port_file.read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise RuntimeError(
                        f"the webhook receiver did not start: {proc.communicate()[1]}"
                    )
                time.sleep(0.05)
            yield f"127.0.0.1:{port_file.read_text()}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def received_keys(address: str) -> Counter[str]:
    """How many requests came with each idempotency key."""
    return Counter(httpx.get(f"http://{address}/_keys", timeout=10).json())


def received_log(address: str) -> list[list[Any]]:
    """[time, path, key, incident ids] per request, in arrival order (the receiver's --log)."""
    rows: list[list[Any]] = httpx.get(f"http://{address}/_log", timeout=30).json()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port_file")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--log", action="store_true")
    args = parser.parse_args()
    serve(args.port_file, delay=args.delay, log=args.log)
