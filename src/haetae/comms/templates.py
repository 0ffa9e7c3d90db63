"""Communication templates: the seeds' messages as sandboxed Jinja files, and their checks.

A template is `<kind>.<locale>.txt`: the first line `Subject: ...`, a blank line, then the
body (plain text or Markdown, never HTML). The shipped ones are in comms/templates/; a file
of the same name in the policy's `communications.templates_dir` (relative to the policy file)
or in COMMS_TEMPLATES_DIR takes their place, the policy's first (docs/communications.md).
"""

from __future__ import annotations

import functools
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChainableUndefined,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    nodes,
)
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from haetae.comms.template_context import CONFIGURED, context_for, sample_context
from haetae.errors import HaetaeError
from haetae.notify.messages import DRILL_MARK
from haetae.policy.communications import EVENT_KINDS, TEMPLATE_KINDS
from haetae.policy.loader import PolicyProblem
from haetae.policy.schema import Policy

__all__ = [
    "LOCALES",
    "SHIPPED",
    "Rendered",
    "check",
    "configure",
    "context_for",
    "directories",
    "kinds",
    "render",
    "sources",
]

SHIPPED = Path(__file__).parent / "templates"
LOCALES = ("ko", "en")
# A message is a chat post or a mail: anything longer is a template gone wrong (a loop).
MAX_OUTPUT = 20_000
# A template is rendered in a moment; one that runs longer is looping.
MAX_SECONDS = 2.0
# The largest number a template may hand to range(), `*` or a filter (center, indent ...).
MAX_NUMBER = 10_000
_NAME = re.compile(r"^(?P<kind>[a-z_]+)\.(?P<locale>[a-z]{2})\.txt$")
_WIDE_FORMAT = re.compile(r"%[-+ #0]*\d{4,}")


@dataclass(frozen=True)
class Rendered:
    kind: str
    locale: str
    subject: str
    body: str


def configure(
    *, templates_dir: str = "", policy_file: str | Path | None = None, public_url: str = ""
) -> None:
    """Remember COMMS_TEMPLATES_DIR, the policy file's path and PUBLIC_URL for the callers
    that have only a session and the policy (the worker's jobs): render() without `dirs`,
    context_for() without `base_url`. create_app and the CLI call it with their settings."""
    CONFIGURED["templates_dir"] = templates_dir or ""
    CONFIGURED["policy_file"] = str(policy_file or "")
    CONFIGURED["public_url"] = public_url or ""


def directories(
    policy: Policy, *, templates_dir: str | None = None, policy_file: str | Path | None = None
) -> list[Path]:
    """The override folders, strongest first: the policy's templates_dir, then
    COMMS_TEMPLATES_DIR. The shipped folder comes after them and is not listed."""
    if templates_dir is None:
        templates_dir = CONFIGURED["templates_dir"]
    if policy_file is None:
        policy_file = CONFIGURED["policy_file"]
    dirs: list[Path] = []
    if policy.communications.templates_dir:
        path = Path(policy.communications.templates_dir)
        base = Path(policy_file).parent if policy_file else Path.cwd()
        dirs.append(path if path.is_absolute() else base / path)
    if templates_dir:
        dirs.append(Path(templates_dir))
    return dirs


def kinds() -> tuple[str, ...]:
    """Every kind that has a shipped template, message kinds first, then event kinds."""
    return tuple(k for k in (*TEMPLATE_KINDS, *EVENT_KINDS) if (SHIPPED / f"{k}.en.txt").is_file())


def _locale(locale: str) -> str:
    return "ko" if (locale or "").lower().startswith("ko") else "en"


def sources(dirs: Sequence[Path]) -> dict[tuple[str, str], Path]:
    """(kind, locale) -> the file that is used for it, the overrides taking the shipped's place."""
    found: dict[tuple[str, str], Path] = {}
    for folder in (*dirs, SHIPPED):
        for kind in kinds():
            for locale in LOCALES:
                path = Path(folder) / f"{kind}.{locale}.txt"
                if (kind, locale) not in found and path.is_file():
                    found[(kind, locale)] = path
    return found


# The sandbox ------------------------------------------------------------------------------


class _Generator(CodeGenerator):
    """`a ~ b` goes through the environment's size check like the other operators, so
    doubling a string line after line cannot fill the memory."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Bounded(SandboxedEnvironment):
    """No attribute but a plain value's public ones, no big numbers, no long runs.

    The sandbox already refuses `__class__` and friends; here such a reach fails the render
    (instead of printing nothing), and every call, attribute and operator checks the clock,
    so a template that loops without writing anything still stops.
    """

    intercepted_binops = frozenset(["*", "**", "%", "+"])
    code_generator_class = _Generator
    # Per thread: the API's thread pool and the worker render with the same environment.
    clock = threading.local()

    def bounded(self, value: Any) -> Any:
        self._tick()
        if len(value) > MAX_OUTPUT:
            raise SecurityError("the template builds a value too large")
        return value

    def _tick(self) -> None:
        if time.monotonic() > getattr(self.clock, "deadline", 0.0):
            raise SecurityError("the template ran too long (a loop?)")

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to '{attribute}' is not allowed in a template")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self._tick()
        _small_numbers(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self._tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self._tick()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._tick()
        if operator in ("*", "**"):
            _small_numbers((left, right), {})
        if operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("a format that wide is not allowed in a template")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_OUTPUT:
            raise SecurityError("the template builds a value too large")
        return result


def _small_numbers(args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise SecurityError(f"numbers over {MAX_NUMBER} are not allowed in a template")


def _guarded(flt: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(flt)  # keeps jinja_pass_arg (pass_context ...)
    def run(*args: Any, **kwargs: Any) -> Any:
        _small_numbers(args[1:], kwargs)
        return flt(*args, **kwargs)

    return run


class _Files(BaseLoader):
    """Loads a template by its path, so errors name the file and its line."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        path = Path(template)
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            raise TemplateNotFound(template) from None
        mtime = path.stat().st_mtime
        return source, str(path), lambda: path.is_file() and path.stat().st_mtime == mtime


def _printable(value: Any) -> Any:
    # A printed method shows its object's address: a template prints values only.
    if callable(value) and not isinstance(value, Undefined):
        raise SecurityError("a template prints values, not functions")
    return value


def _environment(undefined: type[Undefined]) -> _Bounded:
    env = _Bounded(
        loader=_Files(),
        autoescape=False,  # plain text and Markdown messages, never HTML
        undefined=undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        cache_size=200,
        finalize=_printable,
    )
    env.filters = {name: _guarded(flt) for name, flt in env.filters.items()}
    env.globals["range"] = _guarded(range)
    # namespace() would let a loop grow a value; the others are of no use in a message.
    for name in ("namespace", "cycler", "joiner", "lipsum", "dict"):
        env.globals.pop(name, None)
    return env


@functools.cache
def _lenient() -> _Bounded:
    # A field the context lacks (a public context has no names) renders empty.
    return _environment(ChainableUndefined)


@functools.cache
def _strict() -> _Bounded:
    # The check: a name the full context lacks is a typo.
    return _environment(StrictUndefined)


def _line_of(exc: BaseException, path: Path) -> int | None:
    if isinstance(exc, TemplateSyntaxError):
        return exc.lineno
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return lines[-1] if lines else None


def _run(env: _Bounded, path: Path, context: dict[str, Any]) -> str:
    env.clock.deadline = time.monotonic() + MAX_SECONDS
    template = env.get_template(str(path))
    out: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"the message is longer than {MAX_OUTPUT} characters")
        out.append(chunk)
    return "".join(out)


def _split(text: str) -> tuple[str, str] | None:
    first, _, rest = text.strip("\n").partition("\n")
    if not first.startswith("Subject:"):
        return None
    return " ".join(first.removeprefix("Subject:").split()), rest.strip("\n")


def render(
    session: Session,
    policy: Policy,
    kind: str,
    context: dict[str, Any],
    locale: str,
    *,
    dirs: Sequence[Path] | None = None,
) -> Rendered:
    """The subject and body of `kind` in `locale` (ko, else en) for `context` (context_for)."""
    if kind not in kinds():
        raise HaetaeError(
            "UNKNOWN_TEMPLATE",
            f"No template is named '{kind}' (one of: {', '.join(kinds())}).",
        )
    lang = _locale(locale)
    found = sources(directories(policy) if dirs is None else dirs)
    path = found.get((kind, lang)) or found[(kind, "en")]
    try:
        text = _run(_lenient(), path, context)
    except (TemplateError, SecurityError, RecursionError, ArithmeticError, TypeError) as exc:
        line = _line_of(exc, path)
        where = f"{path.name}:{line}" if line else path.name
        # The message says what went wrong in the template, never what a value holds.
        raise HaetaeError(
            "TEMPLATE_ERROR", f"{where}: {type(exc).__name__}: {_reason(exc)}", kind=kind
        ) from None
    parts = _split(text)
    if parts is None:
        raise HaetaeError("TEMPLATE_ERROR", f"{path.name}:1: the first line must be 'Subject: ...'")
    subject, body = parts
    if context.get("drill"):
        # A drill's message says so first, as every notification does (docs/drills.md).
        subject, body = f"{DRILL_MARK[lang]} {subject}", f"{DRILL_MARK[lang]} {body}"
    return Rendered(kind=kind, locale=lang, subject=subject, body=body)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return exc.message or "syntax error"
    if isinstance(exc, RecursionError):
        return "the template calls itself without end"
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def check(dirs: Iterable[str | Path]) -> list[PolicyProblem]:
    """file:line: message for each broken template in `dirs` (folders or single files)."""
    problems: list[PolicyProblem] = []
    files: list[Path] = []
    for entry in dirs:
        path = Path(entry)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix == ".txt")
        elif path.is_file():
            files.append(path)
        else:
            problems.append(PolicyProblem(str(path), None, "", "no such file or folder"))
    known = kinds()
    for path in files:
        match = _NAME.match(path.name)
        if match is None or match["kind"] not in known or match["locale"] not in LOCALES:
            problems.append(
                PolicyProblem(
                    str(path),
                    None,
                    "",
                    f"the name must be <kind>.<ko|en>.txt with a kind of: {', '.join(known)}",
                )
            )
            continue
        problems += _check_file(path, match["locale"])
    return problems


def _check_file(path: Path, locale: str) -> list[PolicyProblem]:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [PolicyProblem(str(path), None, "", f"cannot be read: {exc}")]
    lines = source.splitlines()
    if not lines or not lines[0].startswith("Subject:"):
        return [PolicyProblem(str(path), 1, "", "the first line must be 'Subject: ...'")]
    if len(lines) > 1 and lines[1].strip():
        return [PolicyProblem(str(path), 2, "", "the subject is followed by a blank line")]
    for public in (False, True):
        env = _strict() if not public else _lenient()
        try:
            _run(env, path, sample_context(locale, public=public))
        except (TemplateError, SecurityError, RecursionError, ArithmeticError, TypeError) as exc:
            return [PolicyProblem(str(path), _line_of(exc, path), "", _reason(exc))]
    return []
