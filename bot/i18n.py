"""Languages: the language an update is answered in, and the translation catalogs.

Catalogs are gettext `.po` files under `bot/locale/<language>/LC_MESSAGES/`, one per feature
area (answers, digests, editors...), so each area's strings sit together. They are read and
compiled in memory when the renderer is built: no compiled `.mo` file is committed or made by
hand, and an edited `.po` file takes effect at the next start.

Which language an update is answered in is a context variable, bound by the application's
first handler (the chat's choice, else the user's Telegram language, else English) and
narrowed for one answer with `using_language` (a question asked in Devanagari is answered in
Hindi). PTB handles each update in a task of its own, whose context is its own; work carried
to a thread by `BotServices.run` copies the context, so the language follows it there.
Deliveries name their language explicitly: they run outside any update.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import TYPE_CHECKING

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.resources import locale_dir
from bot.vocabulary import Language

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_LANGUAGE = Language.EN
# The language the templates are written in: it needs no catalog.
SOURCE_LANGUAGE = Language.EN
# Babel's locale for each language's dates and numbers.
BABEL_LOCALES = {Language.EN: "en", Language.HI: "hi_IN"}

_active: ContextVar[Language] = ContextVar("language", default=DEFAULT_LANGUAGE)


def active_language() -> Language:
    return _active.get()


def bind_update_language(language: Language) -> None:
    """The language of the update being handled, for all its handlers (see above)."""
    _active.set(language)


@contextmanager
def using_language(language: Language) -> Iterator[None]:
    """Render in `language` inside the block (this task and the threads it hands work to)."""
    token = _active.set(language)
    try:
        yield
    finally:
        _active.reset(token)


def catalog_files(language: Language, folder: Path | None = None) -> list[Path]:
    messages = (folder or locale_dir()) / language.value / "LC_MESSAGES"
    return sorted(messages.glob("*.po"))


def read_catalog(language: Language, folder: Path | None = None) -> Catalog:
    """Every area's catalog of `language` as one. A message translated in two areas must be
    translated alike: the later file would silently win otherwise."""
    merged = Catalog(locale=BABEL_LOCALES[language], domain="messages")
    for path in catalog_files(language, folder):
        with path.open("rb") as file:
            area = read_po(file, locale=BABEL_LOCALES[language])
        for message in area:
            if not message.id:
                continue  # the header
            known = merged.get(message.id, message.context)
            if known is not None and known.string and message.string != known.string:
                raise ValueError(
                    f"{path.name}: {message.id!r} is translated differently in another catalog"
                )
            merged[message.id] = message
    return merged


@cache
def translations(language: Language) -> NullTranslations:
    """`language`'s compiled catalog; the source language translates to itself. Fuzzy and
    untranslated messages are left out, so they show in English rather than wrongly."""
    if language is SOURCE_LANGUAGE:
        return NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(language), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain="messages")
