"""An in-memory Telegram Bot API server for tests and benchmarks (see `emulator`)."""

from devtools.botapi.emulator import (
    BOT_ID,
    BOT_USERNAME,
    ApiCall,
    BotApiEmulator,
    CallbackAnswer,
    InlineAnswer,
    RateLimits,
    SentMessage,
    WebhookAttempt,
)

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "ApiCall",
    "BotApiEmulator",
    "CallbackAnswer",
    "InlineAnswer",
    "RateLimits",
    "SentMessage",
    "WebhookAttempt",
]
