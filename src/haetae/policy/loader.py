"""Read a policy file and report every error with its file, line and field."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from haetae.policy.schema import Policy, PolicyReferenceError

DEFAULT_POLICY = "default.yaml"


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class PolicyError(Exception):
    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def line_of(document: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node on `loc` that the YAML document has."""
    node, line = document, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(document, CommentedMap):
        line = document.lc.line + 1
    return line


def parse_policy(text: str, filename: str = "<policy>") -> Policy:
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        if exc.problem and exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            message += f" ({exc.context}, which starts on line {exc.context_mark.line + 1})"
        raise PolicyError([PolicyProblem(filename, line, "", message)]) from None
    if not isinstance(document, CommentedMap):
        raise PolicyError([PolicyProblem(filename, 1, "", "a policy file is a YAML mapping")])
    try:
        return Policy.model_validate(plain(document))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, PolicyReferenceError):
                located = [((*loc, *where), message) for where, message in cause.problems]
            else:
                located = [(loc, err["msg"].removeprefix("Value error, "))]
            for where, message in located:
                field = ".".join(str(p) for p in where)
                problems.append(PolicyProblem(filename, line_of(document, where), field, message))
        raise PolicyError(problems) from None


def plain(node: Any) -> Any:
    """A parsed YAML document as plain dicts and lists (keys as text), for Pydantic."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


def load_policy_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([PolicyProblem(str(path), None, "", exc.strerror or str(exc))]) from None
    return parse_policy(text, str(path))


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    text = resources.files("haetae.policy").joinpath("defaults", DEFAULT_POLICY).read_text("utf-8")
    return parse_policy(text, DEFAULT_POLICY)


def load_policy(path: Path | None) -> Policy:
    return load_policy_file(path) if path else default_policy()
