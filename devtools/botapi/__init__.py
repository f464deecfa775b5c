"""An in-memory Telegram Bot API server for tests and benchmarks.

The real bot process runs against it unchanged: set
``TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT`` and python-telegram-bot sends
``POST /bot<TOKEN>/<method>`` here instead of to api.telegram.org. The server binds 127.0.0.1
only and opens no connection of its own, except to the webhook URL the bot sets.

In tests, run it in a background thread with its own event loop::

    with BotApiEmulator() as emulator:
        bot = Bot(TOKEN, base_url=f"{emulator.base_url}/bot",
                  base_file_url=f"{emulator.base_url}/file/bot")
        emulator.push_message(555, "/start")           # the bot receives it via getUpdates
        (reply,) = emulator.wait_for_messages(555, 1)   # what the bot sent back
        emulator.fail_next("sendMessage", 429, retry_after=3)

Every public method is thread-safe. From a coroutine on the loop that also runs the bot, use
``await emulator.wait_for_messages_async(...)``: the blocking version would stall that loop.

Webhooks work as Telegram's do, so a bot in webhook mode runs against the emulator too. While
``setWebhook`` has set a URL, getUpdates answers 409 Conflict and a pusher on the emulator's loop
POSTs each queued update (those already queued first) to the URL as JSON, with the
``X-Telegram-Bot-Api-Secret-Token`` header when a secret_token was set. A 2xx answer takes the
update off the queue; anything else (another status, a refused connection, a timeout) keeps it
queued, shows in getWebhookInfo's ``last_error_date`` and ``last_error_message`` in Telegram's
words, and is retried after a backoff (``webhook_retry_seconds`` doubling up to
``webhook_retry_max_seconds``: short, so tests stay fast). ``allowed_updates`` drops pushed
updates of other types, as Telegram never stores them. Unlike Telegram, a plain http:// URL is
accepted: a test's receiver has no certificate. ``webhook_attempts()`` lists every delivery and
its outcome; ``wait_for_webhook_idle()`` waits until the queue has drained::

    emulator.push_message(555, "/start")          # POSTed to the webhook, retried until a 2xx
    emulator.wait_for_webhook_idle()
    assert emulator.webhook_attempts()[0].status == 200

As a process, for benchmarks or a manual run of the bot, from the repository root (the
package is not installed)::

    python -m devtools.botapi --port 8081 [--enforce-limits]

The first stdout line is ``listening on http://127.0.0.1:PORT`` (``--port 0`` picks a free
port); SIGTERM or SIGINT stops it. Control endpoints, all JSON, answer
``{"ok": true, "result": ...}``:

- ``POST /_emulator/updates``: a raw update, or a shorthand ``{"message": {"chat_id": 1,
  "text": "/start"}}``, ``{"callback_query": {"chat_id", "message_id", "data"}}``,
  ``{"inline_query": {"user_id", "query"}}``; the result is ``{"update_id": N}``.
- ``GET /_emulator/messages?chat_id=&method=``: the sent-message log.
- ``GET /_emulator/calls?method=``, ``GET /_emulator/inline_answers``,
  ``GET /_emulator/callback_answers``, ``GET /_emulator/webhook_attempts``.
- ``POST /_emulator/faults``: an object whose keys name the fault methods (``fail_next``,
  ``block_chat``, ... in ``faults.py``, and ``set_chat_member``) and whose
  values are their keyword arguments (or a list of them), for example
  ``{"fail_next": {"method": "sendMessage", "error_code": 429, "retry_after": 5},
  "block_chat": {"chat_id": 42}, "set_delay": {"delay_seconds": 0.05},
  "enforce_limits": true}``.
- ``POST /_emulator/reset``; ``GET /_emulator/stats``.

The modules, by concern: ``api`` (identities, errors, parameters), ``content`` (parse modes,
entities, keyboards, photo sizes), ``state`` (records, chats, members, messages, the updates
queue, files), ``faults`` (injected errors and flood limits), ``users`` (pushed updates),
``inspection`` (reading and waiting for traffic), Bot API methods in ``messages``, ``callbacks``
(with the command menu), ``chats`` and ``updates`` (getUpdates and webhooks), ``http``
(tornado routes and control endpoints), and ``emulator``, which puts them together.
"""

from devtools.botapi.api import BOT_ID, BOT_USERNAME
from devtools.botapi.emulator import BotApiEmulator
from devtools.botapi.faults import RateLimits
from devtools.botapi.state import ApiCall, CallbackAnswer, InlineAnswer, SentMessage, WebhookAttempt

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
