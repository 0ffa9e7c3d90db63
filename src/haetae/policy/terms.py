"""The small terms every part of a policy file uses: ids, texts in two languages, durations."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _text(value: object) -> object:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return value
    raise ValueError("must be text or a {locale: text} mapping such as {en: Major, ko: 주요}")


# A label is plain text or a {locale: text} mapping.
Text = Annotated[str | dict[str, str], BeforeValidator(_text)]


def parse_duration(value: str) -> timedelta:
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a duration like 90s, 15m, 2h or 1d")
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


def localized(text: Text, locale: str) -> str:
    if isinstance(text, str):
        return text
    return text.get(locale) or text.get("en") or next(iter(text.values()), "")
