"""Read one runbook file (YAML front matter, then Markdown) and report every mistake in it as
file:line: field: message, the way `policy check` and `haetae apply` do."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from haetae.configfile.schema import (
    MAX_FILE_CHARS,
    ConfigError,
    _within_limits,
    field_name,
)
from haetae.inputs import check_text
from haetae.policy.loader import PolicyProblem, line_of, plain
from haetae.policy.routing import compile_regex
from haetae.policy.schema import Policy
from haetae.runbooks.schema import Runbook

FENCE = "---"
NO_FRONT_MATTER = (
    "no front matter: a runbook starts with a '---' line, its YAML fields, then another '---' "
    "line and the Markdown"
)


class RunbookError(Exception):
    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Parsed:
    """A valid runbook file, with the line of each field the later checks may point at."""

    runbook: Runbook
    digest: str
    # "steps[2].owner" -> 14 (lines in the file, front matter fence counted).
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, name: str) -> int | None:
        return self.lines.get(name)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_runbook(path: Path, filename: str | None = None) -> Parsed:
    """The runbook in `path`, or RunbookError naming each problem (named as `filename`)."""
    name = filename or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RunbookError([PolicyProblem(name, None, "", exc.strerror or str(exc))]) from None
    return parse_runbook(data, name)


def _split(text: str, filename: str) -> tuple[str, str]:
    """(front matter, Markdown body). The front matter's line n is the file's line n + 1."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n").rstrip() != FENCE:
        raise RunbookError([PolicyProblem(filename, 1, "", NO_FRONT_MATTER)])
    for end in range(1, len(lines)):
        if lines[end].rstrip("\r\n").rstrip() in (FENCE, "..."):
            return "".join(lines[1:end]), "".join(lines[end + 1 :])
    message = "the front matter has no closing '---' line"
    raise RunbookError([PolicyProblem(filename, 1, "", message)])


def parse_runbook(data: bytes, filename: str = "<runbook>") -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RunbookError([PolicyProblem(filename, line, "", "not UTF-8 text")]) from None
    if len(text) > MAX_FILE_CHARS:
        message = f"the file is larger than {MAX_FILE_CHARS} characters"
        raise RunbookError([PolicyProblem(filename, None, "", message)])
    front, body = _split(text, filename)
    yaml = YAML(typ="rt")
    try:
        _within_limits(yaml, front, filename)
        document = yaml.load(front)
    except ConfigError as exc:
        raise RunbookError([_shift(p) for p in exc.problems]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.line + 2 if mark else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        raise RunbookError([PolicyProblem(filename, at, "", message)]) from None
    except YAMLError as exc:  # the reader's: a control character
        raise RunbookError([PolicyProblem(filename, None, "", f"not valid YAML: {exc}")]) from None
    if not isinstance(document, CommentedMap):
        message = "the front matter is a YAML mapping (id:, title:, steps: ...)"
        raise RunbookError([PolicyProblem(filename, 2, "", message)])
    data_ = plain(document)
    problems: list[PolicyProblem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        line = line_of(document, loc)
        problems.append(
            PolicyProblem(filename, line + 1 if line else None, field_name(loc), message)
        )

    if "body" in data_:
        problem(("body",), "the body is the Markdown after the front matter, not a field")
        data_.pop("body")
    try:
        check_text(data_)
        check_text(body)
    except ValueError as exc:
        problems.append(PolicyProblem(filename, None, "", str(exc)))
    twice = _repeated_steps(data_)
    for loc, step_id in twice:
        problem(loc, f"step id '{step_id}' is used twice (steps and verify share ids)")
    try:
        runbook = Runbook.model_validate({**data_, "body": body})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            if not loc and twice:
                continue  # the schema's own word on repeated step ids, told above with a line
            problem(loc, str(err["msg"]).removeprefix("Value error, "))
        raise RunbookError(problems) from None
    if problems:
        raise RunbookError(problems)
    for i, labels in enumerate(runbook.match.alerts):
        for label, value in labels.items():
            if value.startswith("~"):
                try:
                    compile_regex(value[1:])
                except ValueError as exc:
                    problem(("match", "alerts", i, label), str(exc))
    if problems:
        raise RunbookError(problems)
    lines: dict[str, int] = {}
    for name, loc in _located(runbook):
        found = line_of(document, loc)
        if found is not None:
            lines[name] = found + 1
    return Parsed(runbook, digest(data), lines)


def _repeated_steps(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each step whose id an earlier step (of steps or verify) has, where it is."""
    seen: set[str] = set()
    found: list[tuple[tuple[str | int, ...], str]] = []
    for section in ("steps", "verify"):
        steps = data.get(section)
        if not isinstance(steps, list):
            continue
        for i, step in enumerate(steps):
            step_id = step.get("id") if isinstance(step, dict) else None
            if not isinstance(step_id, str):
                continue
            if step_id in seen:
                found.append(((section, i, "id"), step_id))
            seen.add(step_id)
    return found


def _shift(problem: PolicyProblem) -> PolicyProblem:
    line = problem.line + 1 if problem.line else None
    return PolicyProblem(problem.file, line, problem.field, problem.message)


def _located(runbook: Runbook) -> Iterable[tuple[str, tuple[str | int, ...]]]:
    yield "id", ("id",)
    for section, steps in (("steps", runbook.steps), ("verify", runbook.verify)):
        for i, _step in enumerate(steps):
            for name in ("owner", "check"):
                loc: tuple[str | int, ...] = (section, i, name)
                yield field_name(loc), loc
    for i, _guidance in enumerate(runbook.severity):
        loc = ("severity", i, "severity")
        yield field_name(loc), loc


def policy_warnings(parsed: Parsed, filename: str, policy: Policy) -> list[PolicyProblem]:
    """What the policy in force does not know: a step owner that is no role, severity guidance
    naming no severity. Warnings: a runbook may be shared by teams with other policies."""
    warnings = []
    runbook = parsed.runbook
    roles = [r.id for r in policy.roles]
    for section, steps in (("steps", runbook.steps), ("verify", runbook.verify)):
        for i, step in enumerate(steps):
            if step.owner is not None and step.owner not in roles:
                name = field_name((section, i, "owner"))
                message = f"'{step.owner}' is not a role of the policy (one of: {', '.join(roles)})"
                warnings.append(PolicyProblem(filename, parsed.line(name), name, message))
    severities = [s.id for s in policy.severities]
    for i, guidance in enumerate(runbook.severity):
        if guidance.severity not in severities:
            name = field_name(("severity", i, "severity"))
            message = (
                f"'{guidance.severity}' is not a severity of the policy "
                f"(one of: {', '.join(severities)})"
            )
            warnings.append(PolicyProblem(filename, parsed.line(name), name, message))
    return warnings


def check_warnings(parsed: Parsed, filename: str, checks: set[str]) -> list[PolicyProblem]:
    """A step naming a configured check (by id) that the database does not have."""
    warnings = []
    runbook = parsed.runbook
    for section, steps in (("steps", runbook.steps), ("verify", runbook.verify)):
        for i, step in enumerate(steps):
            if isinstance(step.check, str) and step.check not in checks:
                name = field_name((section, i, "check"))
                message = f"no configured check has the id '{step.check}'"
                warnings.append(PolicyProblem(filename, parsed.line(name), name, message))
    return warnings
