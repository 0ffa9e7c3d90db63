"""Finding a policy term from what a person typed: id first, then id in any case, then a
display name; an ambiguous name is refused with the candidates."""

from __future__ import annotations

import unicodedata

import pytest

from haetae.errors import HaetaeError
from haetae.policy.lookup import resolve
from haetae.policy.schema import Category, Role

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

CATEGORIES = [
    Category(id="db", name={"en": "Database", "ko": "데이터베이스"}),
    Category(id="Net", name="Network"),
    Category(id="net", name="Legacy network"),
    Category(id="app", name={"en": "Application", "ko": "앱"}),
    Category(id="mobile", name={"en": "Application", "ko": "모바일 앱"}),
]


def _category(given: str) -> str:
    return resolve(CATEGORIES, given, what="category", code="VALIDATION_ERROR", field="category")


def test_an_exact_id_wins_over_other_spellings():
    assert _category("Net") == "Net"
    assert _category("net") == "net"


def test_a_display_name_in_any_case_or_language_gives_the_id():
    assert _category("DATABASE") == "db"
    assert _category(" 데이터베이스 ") == "db"
    assert _category("DB") == "db"
    # Hangul typed on macOS arrives decomposed (NFD).
    assert _category(unicodedata.normalize("NFD", "모바일 앱")) == "mobile"


def test_an_ambiguous_value_is_refused_naming_the_candidates():
    with pytest.raises(HaetaeError) as refused:
        _category("application")
    assert refused.value.status == 422
    assert refused.value.details["candidates"] == ["app", "mobile"]
    assert "app (Application / 앱), mobile (Application / 모바일 앱)" in refused.value.message
    with pytest.raises(HaetaeError) as refused:
        _category("NET")
    assert refused.value.details["candidates"] == ["Net", "net"]


def test_an_unknown_value_is_refused_with_the_callers_code():
    roles = [Role(id="ic", name="Incident Commander")]
    with pytest.raises(HaetaeError) as refused:
        resolve(roles, "janitor", what="role", code="UNKNOWN_ROLE", field="role")
    assert (refused.value.code, refused.value.details["field"]) == ("UNKNOWN_ROLE", "role")
    assert "is not one of: ic (Incident Commander)" in refused.value.message
