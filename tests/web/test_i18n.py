"""The translation layer: locale choice, and a Korean catalog that covers every console string."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from haetae import i18n

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cookie", "user", "header", "expected"),
    [
        ("ko", "en", "en-US", "ko"),  # the header switch wins
        (None, "ko", "en-US", "ko"),  # then the user's own setting
        (None, None, "fr-FR,ko;q=0.5,en;q=0.3", "ko"),  # then the browser, by q-value
        (None, None, "en-GB,ko;q=0.9", "en"),
        (None, None, "de, fr", "en"),  # nothing supported: English
        ("xx", None, None, "en"),  # a junk cookie is ignored
        (None, None, None, "en"),
    ],
)
def test_locale_choice_order(
    cookie: str | None, user: str | None, header: str | None, expected: str
) -> None:
    assert i18n.choose_locale(cookie=cookie, user_locale=user, accept_language=header) == expected


def test_korean_catalog_compiles_in_memory() -> None:
    ko = i18n.translations("ko")
    assert ko.gettext("Dashboard") == "대시보드"
    assert i18n.gettext_for("en", "Dashboard") == "Dashboard"
    many = "%(num)d incidents have an overdue status update."
    assert "건" in ko.ngettext("%(num)d incident has an overdue status update.", many, 2)


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "src" / "haetae", method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_console_string_has_a_korean_translation() -> None:
    """A string added to a template without a Korean entry would show English to Korean users."""
    ko = i18n.translations("ko")
    messages = _extracted()
    assert "Declare incident" in messages  # the extraction found the templates
    missing = sorted(m for m in messages if m and ko.gettext(m) == m and m not in ("IC", "ID"))
    assert missing == [], "add these to src/haetae/locale/ko/LC_MESSAGES/messages.po"
