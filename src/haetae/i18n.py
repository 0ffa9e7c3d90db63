"""The translation layer: gettext catalogs (English source, Korean .po) and locale choice."""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

from babel.core import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "en"
LOCALES = ("en", "ko")
# What the language switch shows: each language in its own script.
LANGUAGE_NAMES = {"en": "EN", "ko": "한국어"}


def N_(message: str) -> str:
    """Marks a string for extraction without translating it (it is translated where shown)."""
    return message


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog for a locale, compiled from its .po in memory so there is no build step."""
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return gettext.NullTranslations()
    # messages.po, then one catalog per capability (postmortems.po, board.po ...) merged into it,
    # so that parts written side by side do not edit one file.
    folder = resources.files("haetae") / "locale" / locale / "LC_MESSAGES"
    names = sorted(f.name for f in folder.iterdir() if f.name.endswith(".po"))
    names.sort(key=lambda name: name != "messages.po")
    catalog = None
    for name in names:
        with (folder / name).open("rb") as source:
            part = read_po(source, locale=locale)
        if catalog is None:
            catalog = part
            continue
        for message in part:
            if message.id:
                catalog[message.id] = message
    assert catalog is not None, f"no catalog for {locale}"
    compiled = BytesIO()
    # Fuzzy entries are guesses a translator has not confirmed; showing English is safer.
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def gettext_for(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def ngettext_for(locale: str, singular: str, plural: str, n: int) -> str:
    return translations(locale).ngettext(singular, plural, n)


def supported(code: str | None) -> str | None:
    """The supported locale a code like 'ko', 'ko-KR' or 'en_US' stands for, if any."""
    if not code:
        return None
    language = code.replace("-", "_").split("_", 1)[0].strip().lower()
    return language if language in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The best supported locale from an Accept-Language header, honouring q-values."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    preferred = [tag.replace("-", "_") for _, _, tag in sorted(ranked)]
    for tag in preferred:
        if tag == "*":
            return DEFAULT_LOCALE
        try:
            found = Locale.negotiate([tag], list(LOCALES), sep="_")
        except (UnknownLocaleError, ValueError):
            found = None
        chosen = supported(str(found)) if found else supported(tag)
        if chosen:
            return chosen
    return None


def choose_locale(
    *, cookie: str | None, user_locale: str | None, accept_language: str | None
) -> str:
    """The page language: the header switch, else the user's setting, else the browser's."""
    return (
        supported(cookie)
        or supported(user_locale)
        or from_accept_language(accept_language)
        or DEFAULT_LOCALE
    )
