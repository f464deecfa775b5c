"""Who may edit: owners and editors, checked at the moment of every action.

ADMIN_IDS bootstraps owners. Owners grant and revoke roles; the last owner cannot be removed
(or demoted), so there is always someone who can. Every role change is written to the same
audit log as record changes (record type "admin").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import col, select

from bot.models import Admin, StatusChange, utcnow
from bot.vocabulary import RecordType, Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlmodel import Session


class RoleError(Exception):
    """A role change that is not allowed; the message says why."""


@dataclass(frozen=True, slots=True)
class RoleChange:
    user_id: int
    old: Role | None
    new: Role | None


def bootstrap_owners(session: Session, owner_ids: Iterable[int]) -> list[int]:
    """Make every ADMIN_IDS user an owner (the first set-up); returns those added."""
    added = []
    for user_id in owner_ids:
        admin = session.exec(select(Admin).where(Admin.user_id == user_id)).first()
        if admin is None:
            session.add(Admin(user_id=user_id, role=Role.OWNER))
            _audit(session, user_id, None, Role.OWNER, actor="config")
            added.append(user_id)
        elif admin.role is not Role.OWNER:
            _audit(session, user_id, admin.role, Role.OWNER, actor="config")
            admin.role = Role.OWNER
            added.append(user_id)
    return added


def role_of(session: Session, user_id: int) -> Role | None:
    admin = session.exec(select(Admin).where(Admin.user_id == user_id)).first()
    return admin.role if admin is not None else None


def admins(session: Session) -> list[Admin]:
    return list(session.exec(select(Admin).order_by(col(Admin.role).desc(), col(Admin.added_at))))


def admin_ids(session: Session) -> frozenset[int]:
    return frozenset(session.exec(select(Admin.user_id)).all())


def news_reviewers(session: Session) -> list[int]:
    """The owners and editors who get new news items to review."""
    return list(session.exec(select(Admin.user_id).where(col(Admin.news_reviews))).all())


def set_news_reviews(session: Session, user_id: int, *, on: bool) -> bool:
    """Turn an owner's or editor's review messages on or off; False if they have no role."""
    admin = session.exec(select(Admin).where(Admin.user_id == user_id)).first()
    if admin is None:
        return False
    admin.news_reviews = on
    session.add(admin)
    return True


def grant(
    session: Session, *, by: str, by_user: int | None, user_id: int, role: Role
) -> RoleChange:
    admin = session.exec(select(Admin).where(Admin.user_id == user_id)).first()
    if admin is None:
        session.add(Admin(user_id=user_id, role=role, added_by=by_user))
        _audit(session, user_id, None, role, actor=by)
        return RoleChange(user_id, None, role)
    if admin.role is role:
        return RoleChange(user_id, role, role)
    if admin.role is Role.OWNER:
        _keep_an_owner(session, user_id)
    old = admin.role
    admin.role = role
    _audit(session, user_id, old, role, actor=by)
    return RoleChange(user_id, old, role)


def revoke(session: Session, *, by: str, user_id: int) -> RoleChange:
    admin = session.exec(select(Admin).where(Admin.user_id == user_id)).first()
    if admin is None:
        raise RoleError(f"user {user_id} has no role")
    if admin.role is Role.OWNER:
        _keep_an_owner(session, user_id)
    session.delete(admin)
    _audit(session, user_id, admin.role, None, actor=by)
    return RoleChange(user_id, admin.role, None)


def _keep_an_owner(session: Session, leaving: int) -> None:
    others = session.exec(
        select(Admin.user_id).where(Admin.role == Role.OWNER, Admin.user_id != leaving)
    ).first()
    if others is None:
        raise RoleError(f"user {leaving} is the last owner; grant another owner first")


def _audit(
    session: Session, user_id: int, old: Role | None, new: Role | None, *, actor: str
) -> None:
    session.add(
        StatusChange(
            record_type=RecordType.ADMIN,
            record_key=str(user_id),
            field="role",
            old_value=old.value if old else None,
            new_value=new.value if new else "none",
            actor=actor,
            at=utcnow(),
        )
    )
