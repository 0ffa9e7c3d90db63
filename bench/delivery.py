"""What one send costs: `delivery.send` to a json:// receiver on loopback, CPU and wall time.

The receiver is an asyncio server in its own process (HTTP/1.1, keeps connections open,
answers 200 at once), so the CPU time measured is the sender's alone. Three runs:

- **same**: every send to one contact method (its Apprise object and connection reused);
- **new**: every send to a contact method not sent to before (a new Apprise object each
  time, over the connection kept to the same host), as in a burst paging many people;
- **threads**: `--threads` senders at once, each to its own contact method, as the
  worker's send pool does.

Printed per run: ms of CPU per send (this process, all threads) and sends/s.

    .venv/bin/python bench/delivery.py
    .venv/bin/python bench/delivery.py --sends 5000 --threads 16
    .venv/bin/python bench/delivery.py --delivery /tmp/old/delivery.py   # another version
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.receiver import receiver  # noqa: E402


def load(path: str | None) -> ModuleType:
    if path is None:
        sys.path.insert(0, str(ROOT / "src"))
        from haetae.notify import delivery

        return delivery
    spec = importlib.util.spec_from_file_location("delivery_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=3000, help="sends per run")
    parser.add_argument("--threads", type=int, default=16, help="senders at once (threads run)")
    parser.add_argument("--delivery", help="a delivery.py to measure instead of this tree's")
    args = parser.parse_args()
    delivery = load(args.delivery)
    with receiver() as address:
        body = "🚨 INCIDENT DECLARED 🚨\n서비스: payments\n심각도: P1 (치명)\n" * 3
        counter = iter(range(10**9))

        def one(path: str) -> None:
            n = next(counter)
            result = delivery.send(
                f"json://{address}{path}", subject="[P1] bench", body=body, idem_key=f"k{n}"
            )
            if not result.ok:
                raise RuntimeError(result.error)

        for i in range(200):  # warm-up: imports, Apprise's plugin table, threads
            one(f"/warm/{i}")
        load_average = os.getloadavg()[0]
        print(
            f"{args.sends} sends per run; {args.delivery or 'this tree'}; "
            f"load average {load_average:.1f} on {os.cpu_count()} CPUs"
        )

        def threaded() -> None:
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(one, [f"/t/{i}" for i in range(args.sends)]))

        def same() -> None:
            for _ in range(args.sends):
                one("/same")

        def new() -> None:
            for i in range(args.sends):
                one(f"/new/{i}")

        runs = {"same": same, "new": new, "threads": threaded}
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            label = f"{name} ({args.threads} threads)" if name == "threads" else name
            print(
                f"  {label:<22} {cpu / args.sends * 1000:5.2f} ms CPU per send, "
                f"{args.sends / wall:6.0f} sends/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
