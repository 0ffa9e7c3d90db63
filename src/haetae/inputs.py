"""Rules every piece of client input follows, checked once at the edge.

Text must not carry NUL or lone surrogates (PostgreSQL refuses NUL in text, and a lone
surrogate cannot be encoded at all), and timestamps must convert to UTC: without these
checks the database raises deep inside a request and the client gets a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from haetae.errors import HaetaeError


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _check_text(value: Any) -> Any:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    return value


class Input(BaseModel):
    """Base of every request body: unknown fields refused, text checked."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return _check_text(value)


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
