"""POST /api/v1/apply: a config file applied (or tried with dry_run) over the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from haetae.configfile.apply import ApplyResult, apply_config
from haetae.configfile.schema import ConfigError, parse_config
from haetae.deps import Context, admin
from haetae.errors import HaetaeError

router = APIRouter(tags=["config"])


class _DryRun(Exception):
    def __init__(self, result: ApplyResult) -> None:
        self.result = result


def _apply(ctx: Context, text: str, *, dry_run: bool, prune: bool) -> ApplyResult:
    try:
        loaded = parse_config(text, "<request>")
        with ctx.write() as session:
            result = apply_config(
                session, ctx.policy, loaded, actor=ctx.actor, now=ctx.now(), prune=prune
            )
            if dry_run:
                raise _DryRun(result)  # rolls the transaction back
        return result
    except _DryRun as done:
        return done.result
    except ConfigError as exc:
        fields = [{"field": p.field, "line": p.line, "message": p.message} for p in exc.problems]
        summary = "; ".join(str(p) for p in exc.problems[:5])
        raise HaetaeError("VALIDATION_ERROR", summary, fields=fields) from None


@router.post(
    "/apply",
    openapi_extra={
        "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}}
    },
)
async def apply_file(
    request: Request,
    dry_run: bool = Query(default=False, description="report the changes; write nothing"),
    prune: bool = Query(default=False, description="also remove what the file no longer names"),
    ctx: Context = admin,
) -> dict[str, Any]:
    """Apply a config file (the body, as YAML) like `haetae apply`: all or nothing. The
    answer lists each change; new integrations' tokens are in it once."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HaetaeError("VALIDATION_ERROR", "The body is not UTF-8 text.") from None
    result = await run_in_threadpool(_apply, ctx, text, dry_run=dry_run, prune=prune)
    if not dry_run and result.tokens:
        request.app.state.tokens.forget()
    return {
        "dry_run": dry_run,
        "summary": result.summary(),
        "changes": [c.as_json() for c in result.changes],
        "tokens": {} if dry_run else result.tokens,
    }
