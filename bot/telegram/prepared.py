"""Reply parts serialised once: a cached answer is sent many times with the same buttons.

python-telegram-bot turns every keyboard and option object into a dict on each send; for a
cached answer that is most of the cost beyond a bare echo (bench/qa.py), so these keep the
dict they were built with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from telegram._utils.types import JSONDict


class PreparedKeyboard(InlineKeyboardMarkup):
    __slots__ = ("_wire",)

    def __init__(self, rows: Sequence[Sequence[InlineKeyboardButton]], **kwargs: Any) -> None:
        super().__init__(rows, **kwargs)
        with self._unfrozen():
            self._wire = super().to_dict()

    def to_dict(self, recursive: bool = True) -> JSONDict:
        return self._wire if recursive else super().to_dict(recursive=False)


class PreparedLinkPreview(LinkPreviewOptions):
    # No __slots__ of its own (the wire form lives in the instance dict): as the application's
    # Defaults, PTB merges a caller's own options with it field by field, reading the fields
    # from `__slots__`, which must then be LinkPreviewOptions' own.

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        with self._unfrozen():
            self._wire = super().to_dict()

    def to_dict(self, recursive: bool = True) -> JSONDict:
        return self._wire if recursive else super().to_dict(recursive=False)
