"""Seed 004's commands, run as the seed writes them from the repository root: the schema
rollback `python -m alembic downgrade -1` and the benchmark with fail thresholds."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from haetae.migrations import current

ROOT = Path(__file__).resolve().parents[1]
# What a developer's shell may carry that would change what the commands do.
_SCRUBBED = ("DATABASE_URL", "HAETAE_DATA_DIR")


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and not k.startswith("BENCH_")}
    env.update(settings)
    return env


def _alembic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_alembic_downgrade_one_step_and_upgrade_head_from_the_repository_root(
    fresh_database_url,
):
    env = _env(DATABASE_URL=fresh_database_url)
    _alembic(env, "upgrade", "head")
    head = current(fresh_database_url)
    assert head is not None
    done = _alembic(env, "downgrade", "-1")
    previous = current(fresh_database_url)
    assert previous is not None and previous != head
    assert f"Running downgrade {head} -> {previous}" in done.stderr
    _alembic(env, "upgrade", "head")
    assert current(fresh_database_url) == head


def test_alembic_without_database_url_uses_the_apps_default_database(tmp_path):
    data_dir = tmp_path / "data"  # does not exist yet: created as `haetae serve` would
    env = _env(HAETAE_DATA_DIR=str(data_dir))
    done = _alembic(env, "upgrade", "head")
    assert "Running upgrade" in done.stderr
    database = data_dir / "haetae.db"
    assert current(f"sqlite:///{database}") is not None
    # `haetae db current` reads the same database.
    haetae = Path(sys.executable).parent / "haetae"
    shown = subprocess.run(
        [str(haetae), "db", "current"], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.stdout.strip() == current(f"sqlite:///{database}")


def test_alembic_ini_is_not_shipped_inside_the_package():
    assert (ROOT / "alembic.ini").is_file()
    assert not (ROOT / "src" / "haetae" / "alembic.ini").exists()
    assert '"alembic.ini"' not in (ROOT / "pyproject.toml").read_text()


def _bench(script: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, script],
        cwd=ROOT,
        env=_env(BENCH_PROFILE="smoke", **settings),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bench_exits_non_zero_naming_the_threshold_the_figures_exceed():
    done = _bench(
        "bench/api.py", BENCH_FAIL_THRESHOLD_MS="100000", BENCH_FAIL_P95_THRESHOLD_MS="0.001"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "over threshold: BENCH_FAIL_P95_THRESHOLD_MS" in done.stderr
    assert "FAIL BENCH_FAIL_P95_THRESHOLD_MS=0.001: SQLite declare p95" in done.stdout
    assert "PASS BENCH_FAIL_THRESHOLD_MS=100000: SQLite declare p50" in done.stdout
    assert "FAIL BENCH_FAIL_THRESHOLD_MS" not in done.stdout


def test_seed_command_passes_when_the_figures_are_within_the_thresholds():
    # The seed's own command line, with thresholds no run on any machine exceeds.
    done = _bench(
        "scripts/benchmark_queries.py",
        BENCH_FAIL_THRESHOLD_MS="100000",
        BENCH_FAIL_P95_THRESHOLD_MS="100000",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASS ") == 4  # two thresholds x (declare, read) on SQLite
    assert not [line for line in done.stdout.splitlines() if line.startswith("FAIL")]


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_api", ROOT / "bench" / "api.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_thresholds_bound_the_median_and_the_p95_and_are_off_when_unset():
    bench = _bench_module()
    figures = {"PostgreSQL": {"declare": {"rate": 100.0, "p50": 300.0, "p95": 350.0}}}
    assert bench.verdicts(figures, bench.thresholds({})) == ([], [])
    limits = bench.thresholds(
        {"BENCH_FAIL_THRESHOLD_MS": "250", "BENCH_FAIL_P95_THRESHOLD_MS": "400"}
    )
    lines, exceeded = bench.verdicts(figures, limits)
    assert exceeded == ["BENCH_FAIL_THRESHOLD_MS"]
    assert lines == [
        "FAIL BENCH_FAIL_THRESHOLD_MS=250: PostgreSQL declare p50 300.0 ms > 250 ms",
        "PASS BENCH_FAIL_P95_THRESHOLD_MS=400: PostgreSQL declare p95 350.0 ms <= 400 ms",
    ]


def test_a_mistyped_threshold_is_refused_before_anything_runs():
    done = _bench("bench/api.py", BENCH_FAIL_P95_THRESHOLD_MS="400ms")
    assert done.returncode == 2
    assert "BENCH_FAIL_P95_THRESHOLD_MS='400ms'" in done.stderr
