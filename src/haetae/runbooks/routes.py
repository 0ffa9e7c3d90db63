"""The runbook library's API under /api/v1: /runbooks (the loaded runbooks, one runbook)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from haetae import i18n
from haetae.deps import Context, viewer
from haetae.errors import HaetaeError
from haetae.policy.loader import PolicyProblem
from haetae.policy.terms import localized
from haetae.runbooks import library
from haetae.runbooks.schemas import ProblemOut, RunbookList, RunbookOut, RunbookSummary

router = APIRouter(tags=["runbooks"])


def _locale(request: Request, lang: str | None, ctx: Context) -> str:
    return (
        i18n.supported(lang)
        or i18n.from_accept_language(request.headers.get("accept-language"))
        or i18n.supported(ctx.principal.locale)
        or i18n.DEFAULT_LOCALE
    )


def problem_out(problem: PolicyProblem) -> ProblemOut:
    return ProblemOut(
        file=problem.file, line=problem.line, field=problem.field, message=problem.message
    )


def summary(loaded: library.Loaded, locale: str) -> dict[str, object]:
    runbook = loaded.runbook
    return {
        "id": runbook.id,
        "title": localized(runbook.title, locale),
        "titles": runbook.title,
        "kind": runbook.kind,
        "source": runbook.source,
        "symptoms": runbook.symptoms,
        "match": runbook.match.model_dump(mode="json"),
        "steps": len(runbook.steps),
        "shipped": loaded.shipped,
        "path": library.relative_path(loaded),
        "digest": loaded.digest,
    }


@router.get("/runbooks", response_model=RunbookList)
def list_runbooks(
    request: Request,
    ctx: Context = viewer,
    lang: str | None = Query(default=None, max_length=16),
) -> RunbookList:
    """Every loaded runbook by id, with the library's problems (files left out) and warnings."""
    locale = _locale(request, lang, ctx)
    with ctx.read() as session:
        found = library.current(ctx.settings, ctx.policy, session)
    return RunbookList(
        runbooks=[
            RunbookSummary.model_validate(summary(r, locale)) for r in found.runbooks.values()
        ],
        problems=[problem_out(p) for p in found.problems],
        warnings=[problem_out(p) for p in found.warnings],
    )


@router.get("/runbooks/{runbook_id}", response_model=RunbookOut)
def get_runbook(
    runbook_id: str,
    request: Request,
    ctx: Context = viewer,
    lang: str | None = Query(default=None, max_length=16),
) -> RunbookOut:
    """The whole runbook: symptoms, matchers, severity guidance, steps, verify, body."""
    found = library.current(ctx.settings, ctx.policy).get(runbook_id)
    if found is None:
        raise HaetaeError("NOT_FOUND", f"No runbook has the id '{runbook_id}'.")
    data = summary(found, _locale(request, lang, ctx))
    return RunbookOut.model_validate({**data, "runbook": found.runbook.model_dump(mode="json")})
