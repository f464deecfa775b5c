"""The Jinja environments: every text a user sees comes from `templates/`, in its language.

Output is Telegram HTML, so autoescaping is on and values are escaped wherever they appear.
An operator can point TEMPLATES_DIR at a folder of overrides; anything not overridden
falls back to the shipped templates.
"""

from __future__ import annotations

import functools
import html
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from babel import Locale
from babel.dates import get_day_names
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import parse_pattern as parse_number_pattern
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_environment
from jinja2.filters import do_truncate

from bot.i18n import BABEL_LOCALES, active_language, translations
from bot.partial_date import PartialDate
from bot.resources import templates_dir
from bot.services.bilingual import Bilingual, pick
from bot.vocabulary import Language

if TYPE_CHECKING:
    from pathlib import Path

    from babel.support import NullTranslations

# Telegram's limit for one text message (telegram.constants.MessageLimit.MAX_TEXT_LENGTH),
# repeated here so services and tests can split text without importing telegram.
MAX_MESSAGE_LENGTH = 4096


class Formats:
    """How one language writes amounts and dates: Babel's patterns for its locale, and its
    words for what is missing. Bound to a language so templates need not pass one."""

    # (a day, a month) as the source gave it. Hindi spells months out: CLDR's Hindi
    # abbreviations ("दिस॰") read as clipped words, not as abbreviations.
    _DATE_PATTERNS: ClassVar = {
        Language.EN: ("d MMM y", "MMM y"),
        Language.HI: ("d MMMM y", "MMMM y"),
    }
    # Indian digit grouping in Hindi (1,00,000); the thousands grouping English readers use.
    _NUMBER_PATTERNS: ClassVar = {
        Language.EN: "#,##0.##########",
        Language.HI: "#,##,##0.##########",
    }

    def __init__(self, language: Language, translations: NullTranslations) -> None:
        self.language = language
        self.locale = Locale.parse(BABEL_LOCALES[language])
        self.gettext = translations.gettext
        day, month = self._DATE_PATTERNS[language]
        self._day_pattern, self._month_pattern = parse_date_pattern(day), parse_date_pattern(month)
        self._day_month_pattern = parse_date_pattern(day.removesuffix(" y"))
        self._day_time_pattern = parse_date_pattern(day.removesuffix(" y") + " HH:mm")
        self._number_pattern = parse_number_pattern(self._NUMBER_PATTERNS[language])
        # The same few hundred amounts and dates recur in every answer: each is formatted once.
        self._number = functools.lru_cache(maxsize=4096)(self._number_text)
        self._date = functools.lru_cache(maxsize=1024)(self._date_text)

    def amount(self, value: Decimal | None, places: int = 2) -> str:
        """'99.2', '113.45', '76.27': at most `places` decimals, trailing zeros dropped."""
        if value is None:
            return self.gettext("n/a")
        return self._number(value.quantize(Decimal(1).scaleb(-places)))

    def _number_text(self, value: Decimal) -> str:
        return str(self._number_pattern.apply(value, self.locale))

    def signed(self, value: Decimal | None, places: int = 2) -> str:
        """'+14.14', '−2.41' (a true minus sign), '0'."""
        if value is None:
            return self.gettext("n/a")
        sign = "+" if value > 0 else "−" if value < 0 else ""
        return sign + self.amount(abs(value), places)

    def partial_date(self, value: PartialDate) -> str:
        """'22 Apr 2020', 'Dec 2022' or '1992': the precision the source gave, no more."""
        return self._date(value)

    def _date_text(self, value: PartialDate) -> str:
        if value.month is None:
            return str(value.year)
        pattern = self._day_pattern if value.day is not None else self._month_pattern
        return str(pattern.apply(value.earliest, self.locale))

    def human_date(self, value: PartialDate | date | None) -> str:
        if value is None:
            return self.gettext("date not reported")
        return self.partial_date(value if isinstance(value, PartialDate) else PartialDate.of(value))

    def day_month(self, value: date) -> str:
        """'23 Nov' (a date this year or next, whose year goes without saying)."""
        return str(self._day_month_pattern.apply(value, self.locale))

    def weekday(self, value: int | date) -> str:
        """'Monday' for 0 (Monday first, as `date.weekday()` counts) or for a date."""
        day = value if isinstance(value, int) else value.weekday()
        return str(get_day_names("wide", locale=self.locale)[day])

    def day_time(self, value: datetime) -> str:
        """'15 Dec 14:05' (a recent moment in the operator's log of changes)."""
        return str(self._day_time_pattern.apply(value, self.locale))

    def date_span(self, start: PartialDate | None, end: PartialDate | None) -> str:
        """'Jun–Sep', '1 Jun – 30 Nov' within one year (the year is said once, by the caller);
        'Nov 2026 – Mar 2027' across years; 'from Jun 2026' or 'to Sep 2026' with one end."""
        if start is None or end is None:
            if start is not None:
                return self.gettext("from %(date)s") % {"date": self.partial_date(start)}
            return self.gettext("to %(date)s") % {"date": self.human_date(end)}
        whole = self.partial_date(start), self.partial_date(end)
        if start.year != end.year or start.month is None or end.month is None:
            return f"{whole[0]} – {whole[1]}"
        first, last = (text.removesuffix(f" {start.year}") for text in whole)
        if first == last:
            return first
        return f"{first}–{last}" if start.day is None and end.day is None else f"{first} – {last}"

    def readable(self, value: str | None) -> str:
        """A stored value as readers read it: '2025-12-15' is 15 Dec 2025, 'in_effect' in
        effect (in the reader's language when the catalog has the word)."""
        if value is None or value == "":
            return self.gettext("not set")
        try:
            return self.partial_date(PartialDate.parse(value))
        except ValueError:
            return self.gettext(value.replace("_", " "))


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


@pass_environment
def localized(
    environment: Environment,
    value: Bilingual | str | None,
    *hindi: str | None,
    truncate: int | None = None,
) -> str:
    """A text in the language the environment renders (its `language` global, English when
    unset): `passage.text | localized` for a `Bilingual`; `row.note | localized(row.note_hi)`
    for a row's English column and its Hindi one. A plain string without a Hindi argument is
    a name, the same in every language. Where Hindi is asked for and missing, the English text
    goes through the `untranslated` macro of `_macros.html.j2`, which marks it. `truncate`:
    cut the text (at a word, with "…") before any mark, so the mark stays whole."""
    if value is None:
        return ""
    if isinstance(value, str):
        if not hindi:
            return value
        value = Bilingual(value, hindi[0])
    picked = pick(value, str(environment.globals.get("language", "en")))
    text = picked.text
    if truncate is not None:
        text = do_truncate(environment, text, truncate, False, "…", 0)
    if not picked.fallback:
        return text
    macros: Any = environment.get_template("_macros.html.j2").module
    marked: str = macros.untranslated(text)  # Markup: the macro escaped the text
    return marked


class Renderer:
    """One Jinja environment per language, each with its catalog and formats installed, so
    a template, its macros and its filters all speak the language it is rendered in."""

    def __init__(self, override_dir: Path | None = None) -> None:
        folders = [str(templates_dir())]
        if override_dir is not None:
            folders.insert(0, str(override_dir))
        self._loader = FileSystemLoader(folders)
        # Each made when first rendered in: a process that only ever speaks English (`ask`, the
        # delivery worker for English chats) never compiles the Hindi catalog. Two threads
        # making the same one at once is harmless: the one stored last is used from then on.
        self._environments: dict[Language, Environment] = {}

    @staticmethod
    def _environment(loader: FileSystemLoader, language: Language) -> Environment:
        environment = Environment(
            loader=loader,
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            extensions=["jinja2.ext.i18n"],
        )
        # A translated block's line breaks and indentation are the template's layout, not
        # part of the message: translators see one line per block.
        environment.policies["ext.i18n.trimmed"] = True
        catalog = translations(language)
        environment.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
        formats = Formats(language, catalog)
        environment.globals["language"] = language.value
        environment.filters.update(
            amount=formats.amount,
            signed=formats.signed,
            human_date=formats.human_date,
            day_time=formats.day_time,
            day_month=formats.day_month,
            weekday=formats.weekday,
            date_span=formats.date_span,
            readable=formats.readable,
            capitalize_first=capitalize_first,
            localized=localized,
        )
        return environment

    def environment(self, language: Language | None = None) -> Environment:
        language = language or active_language()
        found = self._environments.get(language)
        if found is None:
            found = self._environments[language] = self._environment(self._loader, language)
        return found

    def render(self, template: str, /, language: Language | None = None, **context: Any) -> str:
        """`template` in `language`, or in the language of the update being handled."""
        return self.environment(language).get_template(template).render(**context).strip()

    def label(self, name: str, *args: Any, language: Language | None = None) -> str:
        """A short plain-text label from a macro in `buttons.j2` (or `inline.j2` as `inline.x`)."""
        template, _, macro = name.rpartition(".")
        module = self.environment(language).get_template(f"{template or 'buttons'}.j2").module
        text = str(getattr(module, macro)(*args))
        return html.unescape(text).strip()


def utf16_length(text: str) -> int:
    """Telegram counts a message's length in UTF-16 code units: an emoji outside the Basic
    Multilingual Plane is two of them."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split at blank lines (then lines) so no tag is cut: templates close tags per line."""
    if utf16_length(text) <= limit:
        return [text]
    pieces: list[str] = []
    for block in text.split("\n\n"):
        if utf16_length(block) <= limit:
            pieces.append(block)
            continue
        # A paragraph longer than a message: pack its lines (a longer line is cut, rarely).
        lines = [piece for line in block.split("\n") for piece in _cut(line, limit)]
        pieces.extend(_pack(lines, "\n", limit))
    return _pack(pieces, "\n\n", limit)


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    """Join consecutive parts with `separator` into as few chunks of at most `limit` as fit."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if utf16_length(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks


def _cut(line: str, limit: int) -> list[str]:
    """`line` in pieces of at most `limit` UTF-16 units (an empty line stays one piece)."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for character in line:
        units = 2 if ord(character) > 0xFFFF else 1
        if used + units > limit:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(character)
        used += units
    return [*pieces, "".join(current)]
