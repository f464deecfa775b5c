"""Which language each chat reads in (see `ChatLanguage`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlmodel import select

from bot.models import ChatLanguage
from bot.vocabulary import Language

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

logger = logging.getLogger(__name__)


def chat_languages(session: Session) -> dict[int, Language]:
    """Every chat that has a language, with it: few rows (chats that chose, or subscribed)."""
    return {row.chat_id: row.language for row in session.exec(select(ChatLanguage)).all()}


def language_of(session: Session, chat_id: int) -> Language | None:
    row = session.get(ChatLanguage, chat_id)
    return None if row is None else row.language


def choose(session: Session, *, chat_id: int, language: Language, now: datetime) -> bool:
    """Set the chat's language; whether it changed."""
    row = session.get(ChatLanguage, chat_id)
    if row is not None and row.language is language:
        return False
    if row is None:
        row = ChatLanguage(chat_id=chat_id, language=language, updated_at=now)
    row.language, row.updated_at = language, now
    session.add(row)
    session.flush()
    logger.info("Chat %s reads in %s", chat_id, language.value)
    return True


def keep_if_unset(session: Session, *, chat_id: int, language: Language, now: datetime) -> None:
    """Record `language` for a chat that has none yet (a private chat subscribing: its digests
    go out in the language its user reads Telegram in, until the chat chooses)."""
    if session.get(ChatLanguage, chat_id) is None:
        session.add(ChatLanguage(chat_id=chat_id, language=language, updated_at=now))
        session.flush()


def move(session: Session, *, old_chat_id: int, new_chat_id: int, now: datetime) -> None:
    """A group that became a supergroup keeps its language (unless the supergroup has chosen
    one already: Telegram tells of the move in both chats, in either order)."""
    old = session.get(ChatLanguage, old_chat_id)
    if old is not None:
        keep_if_unset(session, chat_id=new_chat_id, language=old.language, now=now)
