"""What the runbook library's API answers: the list with the library's problems, one runbook."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ProblemOut(BaseModel):
    file: str
    line: int | None
    field: str
    message: str


class RunbookSummary(BaseModel):
    id: str
    # In the caller's language (?lang=, Accept-Language, else their profile's), and both.
    title: str
    titles: str | dict[str, str]
    kind: str
    source: str
    symptoms: list[str | dict[str, str]]
    match: dict[str, Any]
    steps: int
    shipped: bool
    # Within its directory.
    path: str
    digest: str


class RunbookList(BaseModel):
    runbooks: list[RunbookSummary]
    problems: list[ProblemOut]
    warnings: list[ProblemOut]


class RunbookOut(RunbookSummary):
    runbook: dict[str, Any]
