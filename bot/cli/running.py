"""Running the bot: `run`, `healthcheck`, and the terminal front end (`chat`, `ask`)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.bootstrap import open_database
from bot.cli.common import EXIT_FAILURE, EXIT_USAGE, Commands, steady_state
from bot.logs import configure_logging
from bot.vocabulary import Language

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from bot.config import Settings


# In `chat`, log lines go to this file in DATA_DIR (see `_log_to_file`).
CHAT_LOG = "chat.log"


def add_commands(commands: Commands) -> None:
    run = commands.add_parser(
        "run", help="start the bot's main job (migrates and seeds an empty database first)"
    )
    run.set_defaults(handler=_run)
    health = commands.add_parser(
        "healthcheck",
        help="ask the running bot's /healthz (or /readyz) on PORT; exit 0 when it answers OK",
    )
    health.add_argument(
        "--ready", action="store_true", help="check /readyz: database reachable, schema at head"
    )
    health.set_defaults(handler=_healthcheck)
    chat = commands.add_parser(
        "chat", help="talk to the bot in this terminal (no Telegram needed); buttons are numbers"
    )
    chat.add_argument("--language", type=_language, help="answer in this language: en or hi")
    chat.set_defaults(handler=_chat)
    ask = commands.add_parser(
        "ask", help='send one message and print the reply, e.g. ask "is nathula open"'
    )
    ask.add_argument("text", help="a question or a command such as '/pass shipki la'")
    ask.add_argument(
        "--today",
        type=_day,
        metavar="YYYY-MM-DD",
        help="answer as if today were this date (to see which dates have passed on a given day)",
    )
    ask.add_argument(
        "--language",
        type=_language,
        help="answer in this language: en or hi (without it, a question in Devanagari is "
        "answered in Hindi, anything else in English)",
    )
    ask.set_defaults(handler=_ask)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    if settings.telegram_bot_token is None:
        python = this_python()
        print(
            "tradewatch: TELEGRAM_BOT_TOKEN is not set: put your bot's token from @BotFather in "
            "the environment or in .env (see .env.example) to start the Telegram bot.\n"
            f"Without Telegram: `{python} -m bot chat` to talk to the bot here, or "
            f'`{python} -m bot ask "is nathula open"` for one answer.',
            file=sys.stderr,
        )
        if sys.stdin.isatty() and sys.stdout.isatty():
            print("Starting the terminal chat now.\n", file=sys.stderr)
            return _chat_with(settings, engine, _log_to_file(settings))
        return EXIT_USAGE
    from bot.telegram.runtime import run_bot

    steady_state()
    run_bot(settings, engine)
    return 0


def _healthcheck(settings: Settings, args: argparse.Namespace) -> int:
    port = settings.http_port
    if port is None:
        print("tradewatch: PORT is not set, so the bot serves no health endpoint", file=sys.stderr)
        return EXIT_USAGE
    url = f"http://127.0.0.1:{port}/{'readyz' if args.ready else 'healthz'}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as error:  # e.g. 503 from /readyz, with the reason
        print(f"tradewatch: {url}: {error.code} {error.read().decode()}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as error:
        print(f"tradewatch: {url}: {getattr(error, 'reason', error)}", file=sys.stderr)
    return EXIT_FAILURE


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-06") from None


def _language(text: str) -> Language:
    language = Language.from_code(text)
    if language is None:
        choices = ", ".join(language.value for language in Language)
        raise argparse.ArgumentTypeError(f"{text!r} is not a language I speak ({choices})")
    return language


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    from bot.telegram.terminal import TerminalSession, format_replies  # PTB loads only here

    clock: Callable[[], datetime] | None = None
    if args.today is not None:
        # Noon UTC of that day: the clock stands still, and its date is the day asked for.
        pinned = datetime.combine(args.today, time(12), tzinfo=UTC)

        def clock() -> datetime:
            return pinned

    async def one_message() -> None:
        async with TerminalSession(
            settings, engine, charts_dir=settings.data_dir, clock=clock, language=args.language
        ) as session:
            format_replies(await session.send(args.text), sys.stdout)

    asyncio.run(one_message())
    return 0


def this_python() -> str:
    """This interpreter as a fresh shell in this folder can run it (`.venv/bin/python` in a
    checkout), so the command printed works when copied."""
    executable = Path(sys.executable)
    try:
        return shlex.quote(str(executable.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(executable))


def _log_to_file(settings: Settings) -> Path | None:
    """The conversation's log lines go to a file, where they cannot interleave with it; unless
    LOG_LEVEL was set, which asks for them where they usually go (standard error)."""
    if "log_level" in settings.model_fields_set:
        return None
    path = settings.data_dir / CHAT_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(settings, stream=path.open("a", encoding="utf-8"))
    return path


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    log = _log_to_file(settings)
    return _chat_with(settings, open_database(settings), log, args.language)


def _chat_with(
    settings: Settings, engine: Engine, log: Path | None, language: Language | None = None
) -> int:
    from bot.telegram.terminal import TerminalSession, format_replies  # PTB loads only here

    async def conversation() -> None:
        async with TerminalSession(
            settings, engine, charts_dir=settings.data_dir, language=language
        ) as session:
            if log is not None:
                print(f"(Log lines go to {log}; set LOG_LEVEL to see them here.)\n")
            format_replies(await session.send("/start"), sys.stdout)
            steady_state()
            print("Type a question, a /command, or a button's number; 'quit' or Ctrl-D ends.")
            while True:
                try:
                    line = (await asyncio.to_thread(input, "you> ")).strip()
                except (EOFError, KeyboardInterrupt):
                    print()
                    return
                if line.lower() in ("quit", "exit"):
                    return
                if not line:
                    continue
                if line.isdigit() and session.buttons:
                    try:
                        replies = await session.press(int(line))
                    except IndexError:
                        shown = ", ".join(str(number) for number in session.buttons)
                        print(f"There is no button {line}; the buttons shown are {shown}.")
                        continue
                else:
                    replies = await session.send(line)
                format_replies(replies, sys.stdout)

    asyncio.run(conversation())
    return 0
