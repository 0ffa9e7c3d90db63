"""Seed 004's performance regression check, under the name the seed gives it.

    BENCH_PROFILE=staging BENCH_FAIL_THRESHOLD_MS=250 BENCH_FAIL_P95_THRESHOLD_MS=400 \
        python scripts/benchmark_queries.py

runs bench/api.py (the API's declare and read latency) with the same arguments and
environment; see bench/README.md for the profiles and what each threshold bounds.
"""

from __future__ import annotations

import runpy
from pathlib import Path

BENCH_API = Path(__file__).resolve().parents[1] / "bench" / "api.py"

if __name__ == "__main__":
    runpy.run_path(str(BENCH_API), run_name="__main__")
