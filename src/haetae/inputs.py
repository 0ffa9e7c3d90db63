"""Rules every piece of client input follows, checked once at the edge.

Text must not carry NUL or lone surrogates (PostgreSQL refuses NUL in text, and a lone
surrogate cannot be encoded at all), and timestamps must convert to UTC: without these
checks the database raises deep inside a request and the client gets a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from haetae.errors import HaetaeError


def is_number(text: str) -> bool:
    """Whether the text is ASCII digits 0-9. str.isdigit alone also takes "³" or "١", which
    int() then refuses: a 500 instead of a clear refusal."""
    return text.isascii() and text.isdigit()


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def check_text(value: Any) -> Any:
    """The value, if every text in it (nested too) follows the rule; else ValueError."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, list | tuple):
        for item in value:
            check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    return value


class Input(BaseModel):
    """Base of every request body: unknown fields refused, text checked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return check_text(value)


class Strict(BaseModel):
    """Base of the policy and config-file schemas: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# Integers that reach a column: PostgreSQL's `integer` is 32-bit and refuses more with an
# error deep in the request (a 500); SQLite would store it. Bounded here, both answer 422.
INT32_MAX = 2**31 - 1
Int32 = Annotated[int, Field(ge=-(2**31), le=INT32_MAX)]
# A count kept inside a JSON column: the largest integer JavaScript reads exactly.
JSON_INT_MAX = 2**53 - 1
Count = Annotated[int, Field(ge=0, le=JSON_INT_MAX)]
# A row id in a URL path: ids are 32-bit `integer` columns, so a larger number is a 422
# rather than a driver error.
RowId = Annotated[int, Path(ge=1, le=INT32_MAX)]


def _to_utc(value: datetime) -> datetime:
    """Naive times are taken as UTC; aware ones are converted."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of representable times") from None


Timestamp = Annotated[datetime, AfterValidator(_to_utc)]


def check_request_text(path: str, query: list[tuple[str, str]]) -> None:
    """Paths and query strings follow the same text rule as bodies."""
    for name, value in [("path", path), *query]:
        problem = text_problem(value)
        if problem:
            raise HaetaeError("VALIDATION_ERROR", f"{name} {problem}.", field=name)


def validation_error(errors: Iterable[Mapping[str, Any]], prefix: str = "") -> HaetaeError:
    """422 VALIDATION_ERROR naming each field Pydantic refused.

    FastAPI starts a body field's location with "body"; the name leaves that out.
    """
    fields = [
        {
            "field": prefix + ".".join(str(p) for p in _without_body(tuple(err["loc"]))),
            "message": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in errors
    ]
    summary = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields[:5])
    return HaetaeError("VALIDATION_ERROR", summary, fields=fields)


def problems_error(problems: Iterable[tuple[tuple[Any, ...], str]]) -> HaetaeError:
    """422 VALIDATION_ERROR for (location, message) problems found past Pydantic (an
    escalation policy or a service naming what does not exist)."""
    fields = [
        {"field": ".".join(str(p) for p in loc), "message": message} for loc, message in problems
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return HaetaeError("VALIDATION_ERROR", summary, fields=fields)


def _without_body(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return loc[1:] if loc[:1] == ("body",) else loc
