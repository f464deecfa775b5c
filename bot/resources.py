"""Where the files that ship beside the code live: templates and migrations.

In a wheel they are inside the package (`bot/templates`, `bot/alembic`, see pyproject's
force-include); in a source checkout or an editable install they are at the repository root.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE_DIR / name
    return inside if inside.is_dir() else _PACKAGE_DIR.parent / name


def templates_dir() -> Path:
    return _shipped("templates")


def migrations_dir() -> Path:
    return _shipped("alembic")


def locale_dir() -> Path:
    """The translation catalogs (`bot/locale`, inside the package in every install)."""
    return _PACKAGE_DIR / "locale"
