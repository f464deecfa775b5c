"""The one Jinja environment: every text a user sees comes from `templates/`.

Output is Telegram HTML, so autoescaping is on and values are escaped wherever they appear.
An operator can point TEMPLATES_DIR at a folder of overrides; anything not overridden
falls back to the shipped templates.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.partial_date import PartialDate
from bot.resources import templates_dir

if TYPE_CHECKING:
    from pathlib import Path


def amount(value: Decimal | None, places: int = 2) -> str:
    """'99.2', '113.45', '76.27': at most `places` decimals, trailing zeros dropped."""
    if value is None:
        return "n/a"
    text = f"{value.quantize(Decimal(1).scaleb(-places)):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def human_date(value: PartialDate | None) -> str:
    return "date not reported" if value is None else value.human()


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

    def render(self, name: str, **context: Any) -> str:
        return self.environment.get_template(name).render(**context).strip()
