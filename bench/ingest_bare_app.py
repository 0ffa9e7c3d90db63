"""The floor for bench/ingest.py: one async FastAPI route that parses the JSON body, 202.

Served with the uvicorn settings `haetae serve` uses (no log config, no access log, no
proxy headers, the same worker count), so that the ratio Haetae / this app measures what
Haetae does per request beyond receiving and parsing it.

    .venv/bin/python bench/ingest_bare_app.py --port 8123 [--workers N]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/ingest/alertmanager")
async def ingest(request: Request) -> JSONResponse:
    body: Any = await request.json()
    alerts = body.get("alerts", []) if isinstance(body, dict) else []
    return JSONResponse({"status": "accepted", "accepted": len(alerts)}, status_code=202)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        "ingest_bare_app:app" if args.workers > 1 else app,
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        app_dir=str(Path(__file__).parent),
    )


if __name__ == "__main__":
    main()
