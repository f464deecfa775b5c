"""Type aliases shared by the Telegram layer (kept apart so that no module imports the
composition root for a type)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

# PTB's Application is generic over six types we do not customise.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
