"""Running the bot: `run`, `healthcheck`, and the terminal front end (`chat`, `ask`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from bot.bootstrap import open_database
from bot.cli.common import EXIT_FAILURE, EXIT_USAGE, Commands, steady_state

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.config import Settings


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
    chat.set_defaults(handler=_chat)
    ask = commands.add_parser(
        "ask", help='send one message and print the reply, e.g. ask "is nathula open"'
    )
    ask.add_argument("text", help="a question or a command such as '/pass shipki la'")
    ask.set_defaults(handler=_ask)


def _run(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    if settings.telegram_bot_token is None:
        print(
            "tradewatch: TELEGRAM_BOT_TOKEN is not set: put your bot's token from @BotFather in "
            "the environment or in .env (see .env.example) to start the Telegram bot.\n"
            "Without Telegram: `python -m bot chat` to talk to the bot here, or "
            '`python -m bot ask "is nathula open"` for one answer.',
            file=sys.stderr,
        )
        if sys.stdin.isatty() and sys.stdout.isatty():
            print("Starting the terminal chat now.\n", file=sys.stderr)
            return _chat_with(settings, engine)
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


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    engine = open_database(settings)
    from bot.telegram.terminal import TerminalSession, format_replies  # PTB loads only here

    async def one_message() -> None:
        async with TerminalSession(settings, engine, charts_dir=settings.data_dir) as session:
            format_replies(await session.send(args.text), sys.stdout)

    asyncio.run(one_message())
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    return _chat_with(settings, open_database(settings))


def _chat_with(settings: Settings, engine: Engine) -> int:
    from bot.telegram.terminal import TerminalSession, format_replies  # PTB loads only here

    async def conversation() -> None:
        async with TerminalSession(settings, engine, charts_dir=settings.data_dir) as session:
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
                        print(f"There is no button {line}; choose 1 to {len(session.buttons)}.")
                        continue
                else:
                    replies = await session.send(line)
                format_replies(replies, sys.stdout)

    asyncio.run(conversation())
    return 0
