"""Generated requests for every documented operation (schemathesis): bad input never gets a 500."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_KEY

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
# Fixed so a CI failure reproduces; set these to explore further on a workstation.
SEED = os.environ.get("HAETAE_FUZZ_SEED", "2")
# Per operation: with 100+ operations, 30 each keeps the run near a minute per database.
EXAMPLES = os.environ.get("HAETAE_FUZZ_EXAMPLES", "30")


def test_no_generated_request_gets_a_server_error(server, tmp_path):
    # The hooks add out-of-range times and integers, and YAML bodies for /api/v1/apply.
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks",
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    proc = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{server.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {ADMIN_KEY}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "ST101" not in proc.stdout
