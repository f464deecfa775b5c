"""Telegram's HTML parse mode: what Telegram keeps of a message (plain text and entities).

Shared by the in-process Bot API (`bot.telegram.offline`) and the HTTP emulator the tests and
benchmarks run (`devtools.botapi`, outside the package), so both store and refuse exactly what
Telegram would: an unsupported or unbalanced tag raises `HtmlEntityError` with Telegram's wording.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Final

_HTML_TAGS: Final[dict[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES: Final[dict[str, str]] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class HtmlEntityError(Exception):
    """Telegram would refuse the text (400 "can't parse entities"); the message says why."""


@dataclass(slots=True)
class _OpenTag:
    tag: str
    offset: int  # UTF-16 offset of the tag's content in the plain text
    kind: str | None  # entity type; None when the tag makes no entity of its own
    extra: dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    """Telegram's HTML parse mode: plain text plus entities, or Telegram's error wording.

    Entity offsets are in UTF-16 code units, as the Bot API counts them. Only the four named
    entities Telegram knows are decoded; other `&name;` stay literal, as on Telegram.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts: list[int] | None = None
        self._parts: list[str] = []
        self._length = 0
        self._open: list[_OpenTag] = []
        self._entities: list[dict[str, Any]] = []

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        # The trailing newline ends a final "&name" that HTMLParser would otherwise swallow
        # the "&" of; it is dropped from the plain text again below.
        self.feed(self._source + "\n")
        self.close()
        if self._open:
            tag = self._open[-1].tag
            raise HtmlEntityError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self._entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self._parts)[:-1], self._entities

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        if kind is None:
            raise HtmlEntityError(
                f'Unsupported start tag "{tag}" at byte offset {self._byte_pos()}'
            )
        attributes = dict(attrs)
        extra: dict[str, Any] = {}
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlEntityError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_pos()}'
            )
        if tag == "a":
            href = (attributes.get("href") or "").strip()
            if href.startswith("tg://user?id=") and href[13:].isdigit():
                kind = "text_mention"
                extra["user"] = {"id": int(href[13:]), "is_bot": False, "first_name": "User"}
            elif href:
                extra["url"] = href
            else:
                kind = None
        elif tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id")
            if not emoji_id:
                raise HtmlEntityError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                    f"{self._byte_pos()}"
                )
            extra["custom_emoji_id"] = emoji_id
        elif tag == "blockquote" and "expandable" in attributes:
            kind = "expandable_blockquote"
        elif tag == "code" and self._open and self._open[-1].tag == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            language = attributes.get("class") or ""
            if language.startswith("language-"):
                self._open[-1].extra["language"] = language[len("language-") :]
            kind = None
        self._open.append(_OpenTag(tag, self._length, kind, extra))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            raise HtmlEntityError(f"Unexpected end tag at byte offset {self._byte_pos()}")
        top = self._open.pop()
        if top.tag != tag:
            raise HtmlEntityError(
                f'Unmatched end tag at byte offset {self._byte_pos()}, expected "</{top.tag}>", '
                f'found "</{tag}>"'
            )
        if top.kind is not None and self._length > top.offset:
            self._entities.append(
                {
                    "type": top.kind,
                    "offset": top.offset,
                    "length": self._length - top.offset,
                    **top.extra,
                }
            )

    def handle_data(self, data: str) -> None:
        # With convert_charrefs off, a "<" reaching here was not part of any tag.
        if "<" in data:
            index = self._char_pos() + data.index("<")
            end = index + 1
            while end < len(self._source) and self._source[end] not in " \t\r\n>":
                end += 1
            offset = len(self._source[:index].encode())
            if end == len(self._source):
                raise HtmlEntityError(f"Unclosed start tag at byte offset {offset}")
            name = self._source[index + 1 : end].lower()
            raise HtmlEntityError(f'Unsupported start tag "{name}" at byte offset {offset}')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        char = _NAMED_ENTITIES.get(name)
        if char is None:
            end = self._char_pos() + 1 + len(name)
            char = f"&{name};" if self._source.startswith(";", end) else f"&{name}"
        self._append(char)

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[0] in "xX" else int(name)
            self._append(chr(code))
        except (ValueError, OverflowError):
            self._append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        raise HtmlEntityError(f'Unsupported start tag "!--" at byte offset {self._byte_pos()}')

    def handle_decl(self, decl: str) -> None:
        raise HtmlEntityError(f'Unsupported start tag "!" at byte offset {self._byte_pos()}')

    def handle_pi(self, data: str) -> None:
        raise HtmlEntityError(f'Unsupported start tag "?" at byte offset {self._byte_pos()}')

    def unknown_decl(self, data: str) -> None:
        raise HtmlEntityError(f'Unsupported start tag "!" at byte offset {self._byte_pos()}')

    def _append(self, text: str) -> None:
        self._parts.append(text)
        self._length += utf16_len(text)

    def _char_pos(self) -> int:
        line, column = self.getpos()
        if line == 1:
            return column
        if self._line_starts is None:
            self._line_starts = [0]
            self._line_starts.extend(i + 1 for i, ch in enumerate(self._source) if ch == "\n")
        return self._line_starts[line - 1] + column

    def _byte_pos(self) -> int:
        return len(self._source[: self._char_pos()].encode())


@functools.lru_cache(maxsize=1024)
def parse_html(text: str) -> tuple[str, list[dict[str, Any]] | None]:
    # Cached: a broadcast sends one text to every chat. Callers must not mutate the result.
    plain, entities = _TelegramHtml(text).parse()
    return plain, entities or None
