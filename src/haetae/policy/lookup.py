"""A policy term (category, incident role, severity) from what a person typed: its id, or its
display name in either language, in any case."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Protocol

from haetae.errors import HaetaeError
from haetae.policy.terms import Text


class Term(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> Text: ...


def _folded(value: str) -> str:
    # NFKC first: a name typed on macOS arrives as decomposed Hangul (NFD), and full-width
    # letters from a Korean keyboard should match their ASCII ids.
    return unicodedata.normalize("NFKC", value).strip().casefold()


def _names(term: Term) -> list[str]:
    return [term.name] if isinstance(term.name, str) else list(term.name.values())


def _shown(term: Term) -> str:
    names = [n for n in dict.fromkeys(_names(term)) if n and n != term.id]
    return f"{term.id} ({' / '.join(names)})" if names else term.id


def resolve(terms: Sequence[Term], given: str, *, what: str, code: str, field: str) -> str:
    """The id of the term `given` names: its exact id, else its id in another case, else one of
    its display names (any language, any case). Unknown or ambiguous: a 422 with `code`, the
    field, and the candidates (the known terms, or those `given` could mean)."""
    if any(term.id == given for term in terms):
        return given
    wanted = _folded(given)
    for matches in (
        [t for t in terms if _folded(t.id) == wanted],
        [t for t in terms if any(_folded(n) == wanted for n in _names(t))],
    ):
        if len(matches) == 1:
            return matches[0].id
        if matches:
            raise HaetaeError(
                code,
                f"{what} '{given}' could be any of: {', '.join(_shown(t) for t in matches)}; "
                "give its id.",
                field=field,
                candidates=[t.id for t in matches],
            )
    known = ", ".join(_shown(t) for t in terms) or f"(the policy has no {what}s)"
    raise HaetaeError(
        code,
        f"{what} '{given}' is not one of: {known}.",
        field=field,
        candidates=[t.id for t in terms],
    )
