"""Edits awaiting an editor's confirmation, kept in the database (see models.EditDraft)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import col, delete, select

from bot.models import EditDraft

if TYPE_CHECKING:
    from sqlmodel import Session

LIFETIME = timedelta(minutes=30)
# Stages at which a guided edit waits for the editor to type something.
TYPED_STAGES = ("value", "note", "note_hi", "source")


def create(
    session: Session,
    *,
    user_id: int,
    chat_id: int,
    kind: str,
    stage: str,
    payload: dict[str, Any],
    now: datetime,
) -> EditDraft:
    # A new draft replaces any unfinished one of the same editor in the same chat, and
    # drafts nobody confirmed in time are cleared away.
    session.exec(
        delete(EditDraft).where(
            col(EditDraft.user_id) == user_id, col(EditDraft.chat_id) == chat_id
        )
    )
    purge_expired(session, now=now)
    draft = EditDraft(
        id=secrets.token_hex(6),
        user_id=user_id,
        chat_id=chat_id,
        kind=kind,
        stage=stage,
        payload=payload,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    session.add(draft)
    session.flush()
    return draft


def get(session: Session, draft_id: str, *, user_id: int, now: datetime) -> EditDraft | None:
    """The draft, if it exists, has not expired, and belongs to this user (never another's)."""
    draft = session.get(EditDraft, draft_id)
    if draft is None or draft.user_id != user_id or draft.expires_at <= now:
        return None
    return draft


def awaiting_input(
    session: Session, *, user_id: int, chat_id: int, now: datetime
) -> EditDraft | None:
    return session.exec(
        select(EditDraft).where(
            EditDraft.user_id == user_id,
            EditDraft.chat_id == chat_id,
            col(EditDraft.stage).in_(TYPED_STAGES),
            col(EditDraft.expires_at) > now,
        )
    ).first()


def update(draft: EditDraft, *, stage: str, payload: dict[str, Any], now: datetime) -> None:
    draft.stage = stage
    draft.payload = payload  # a new dict, so the JSON column is written
    draft.expires_at = now + LIFETIME


def discard(session: Session, draft: EditDraft) -> None:
    session.delete(draft)


def purge_expired(session: Session, *, now: datetime) -> None:
    session.exec(delete(EditDraft).where(col(EditDraft.expires_at) <= now))
