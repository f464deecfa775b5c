"""The one Jinja environment: every text a user sees comes from `templates/`.

Output is Telegram HTML, so autoescaping is on and values are escaped wherever they appear.
An operator can point TEMPLATES_DIR at a folder of overrides; anything not overridden
falls back to the shipped templates.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_environment
from jinja2.filters import do_truncate

from bot.partial_date import PartialDate
from bot.resources import templates_dir
from bot.services.bilingual import Bilingual, pick

if TYPE_CHECKING:
    from pathlib import Path

# Telegram's limit for one text message (telegram.constants.MessageLimit.MAX_TEXT_LENGTH),
# repeated here so services and tests can split text without importing telegram.
MAX_MESSAGE_LENGTH = 4096


def amount(value: Decimal | None, places: int = 2) -> str:
    """'99.2', '113.45', '76.27': at most `places` decimals, trailing zeros dropped."""
    if value is None:
        return "n/a"
    text = f"{value.quantize(Decimal(1).scaleb(-places)):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: Decimal | None, places: int = 2) -> str:
    """'+14.14', '−2.41' (a true minus sign), '0'."""
    if value is None:
        return "n/a"
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return sign + amount(abs(value), places)


def human_date(value: PartialDate | None) -> str:
    return "date not reported" if value is None else value.human()


def date_span(start: PartialDate | None, end: PartialDate | None) -> str:
    """'Jun–Sep', '1 Jun – 30 Nov' within one year (the year is said once, by the caller);
    'Nov 2026 – Mar 2027' across years; 'from Jun 2026' or 'to Sep 2026' with one end."""
    if start is None or end is None:
        return f"from {start.human()}" if start is not None else f"to {human_date(end)}"
    if start.year != end.year or start.month is None or end.month is None:
        return f"{start.human()} – {end.human()}"
    first, last = (part.human().removesuffix(f" {part.year}") for part in (start, end))
    if first == last:
        return first
    return f"{first}–{last}" if start.day is None and end.day is None else f"{first} – {last}"


def readable(value: str | None) -> str:
    """A stored value as readers read it: '2025-12-15' is 15 Dec 2025, 'in_effect' in effect."""
    if value is None or value == "":
        return "not set"
    try:
        return PartialDate.parse(value).human()
    except ValueError:
        return value.replace("_", " ")


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
    def __init__(self, override_dir: Path | None = None) -> None:
        folders = [str(templates_dir())]
        if override_dir is not None:
            folders.insert(0, str(override_dir))
        self.environment = Environment(
            loader=FileSystemLoader(folders),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.environment.filters["amount"] = amount
        self.environment.filters["human_date"] = human_date
        self.environment.filters["signed"] = signed
        self.environment.filters["capitalize_first"] = capitalize_first
        self.environment.filters["readable"] = readable
        self.environment.filters["date_span"] = date_span
        self.environment.filters["localized"] = localized

    def render(self, template: str, /, **context: Any) -> str:
        return self.environment.get_template(template).render(**context).strip()

    def label(self, name: str, *args: Any) -> str:
        """A short plain-text label from a macro in `buttons.j2` (or `inline.j2` as `inline.x`)."""
        template, _, macro = name.rpartition(".")
        module = self.environment.get_template(f"{template or 'buttons'}.j2").module
        text = str(getattr(module, macro)(*args))
        return html.unescape(text).strip()


def split_html(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split at blank lines (then lines) so no tag is cut: templates close tags per line."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for block in text.split("\n\n"):
        if len(block) <= limit:
            pieces.append(block)
            continue
        # A paragraph longer than a message: pack its lines (a longer line is cut, rarely).
        lines = [
            line[i : i + limit]
            for line in block.split("\n")
            for i in range(0, max(len(line), 1), limit)
        ]
        pieces.extend(_pack(lines, "\n", limit))
    return _pack(pieces, "\n\n", limit)


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    """Join consecutive parts with `separator` into as few chunks of at most `limit` as fit."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks
