"""Owners and editors from the command line: first set-up and recovery."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot import db
from bot.bootstrap import open_database
from bot.cli.common import EXIT_FAILURE, Commands

if TYPE_CHECKING:
    from bot.config import Settings


def add_commands(commands: Commands) -> None:
    admin = commands.add_parser(
        "admin", help="owners and editors: grant, revoke, list (first set-up and recovery)"
    )
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    grant = admin_commands.add_parser("grant", help="give a Telegram user a role")
    grant.add_argument("user_id", type=int, help="the user's numeric Telegram id")
    grant.add_argument("role", choices=("editor", "owner"))
    grant.set_defaults(handler=_admin_grant)
    revoke = admin_commands.add_parser("revoke", help="remove a user's role (not the last owner)")
    revoke.add_argument("user_id", type=int)
    revoke.set_defaults(handler=_admin_revoke)
    listing = admin_commands.add_parser("list", help="show the owners and editors")
    listing.set_defaults(handler=_admin_list)


def _admin_grant(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import admins
    from bot.vocabulary import Actor, Role

    engine = open_database(settings)
    with db.session_scope(engine) as session:
        change = admins.grant(
            session, by=Actor.CLI, by_user=None, user_id=args.user_id, role=Role(args.role)
        )
    print(f"user {change.user_id}: {change.old or 'no role'} -> {change.new}")
    return 0


def _admin_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import admins
    from bot.vocabulary import Actor

    engine = open_database(settings)
    try:
        with db.session_scope(engine) as session:
            change = admins.revoke(session, by=Actor.CLI, user_id=args.user_id)
    except admins.RoleError as error:
        print(f"tradewatch: {error}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"user {change.user_id}: {change.old} -> no role")
    return 0


def _admin_list(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import admins

    engine = open_database(settings)
    with db.session_scope(engine) as session:
        team = admins.admins(session)
    if not team:
        print("no owners or editors yet: `tradewatch admin grant USER_ID owner` (or ADMIN_IDS)")
    for member in team:
        print(f"{member.user_id}\t{member.role.value}\tsince {member.added_at:%Y-%m-%d}")
    return 0
