"""Who may do what: every role and chat-rights check of the handlers, in one place.

Checks happen at the moment of each command, button press and typed reply, never when a menu
was drawn. A role is read from the database inside the action's own unit of work
(`require_role` within `BotServices.run`), so the check and the change it allows are one
transaction. Editing happens in private chats only. Refusals are neutral and logged with the
user id; they are raised as `RefusalError`, which names the template that words them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden

from bot.services import admins, subscriptions
from bot.vocabulary import Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Bot, Chat, Message, Update, User

logger = logging.getLogger(__name__)

RANK = {Role.EDITOR: 1, Role.OWNER: 2}
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
ADMINISTRATORS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

NOT_ALLOWED = "admin/not_allowed.html.j2"
PRIVATE_ONLY = "admin/private_only.html.j2"
SUBSCRIPTION_REFUSED = "subscriptions/refused.html.j2"
# A draft button pressed by someone else than its editor, or after the draft expired.
DRAFT_EXPIRED = "admin/draft_expired.html.j2"


class RefusalError(Exception):
    """The sender may not do this; `template` (with `context`) words the refusal."""

    def __init__(self, template: str, **context: Any) -> None:
        super().__init__(template)
        self.template = template
        self.context = context


def private_sender(update: Update, action: str) -> tuple[Message, User] | None:
    """The message and its sender, when sent in a private chat (editors' commands); None
    when there is no message; RefusalError anywhere but a private chat."""
    message, user = update.effective_message, update.effective_user
    if message is None:
        return None
    if user is None or message.chat.type != ChatType.PRIVATE:
        logger.warning("Refused %s outside a private chat (chat %s)", action, message.chat.id)
        raise RefusalError(PRIVATE_ONLY)
    return message, user


def require_role(session: Session, user_id: int, minimum: Role, action: str) -> Role:
    """The user's role when it is `minimum` or more; else RefusalError."""
    role = admins.role_of(session, user_id)
    if role is None or RANK[role] < RANK[minimum]:
        logger.warning("Refused %s from user %s (role %s)", action, user_id, role)
        raise RefusalError(NOT_ALLOWED)
    return role


@dataclass(frozen=True, slots=True)
class SubscriptionManager:
    """Who manages chat `target`'s subscription, as far as Telegram could tell.

    An editor managing a channel from their private chat (`editor_id`) is confirmed in the
    database, by `confirm` inside the unit of work that makes the change.
    """

    target: int
    editor_id: int | None = None

    def confirm(self, session: Session) -> None:
        if self.editor_id is None:
            return
        subscriber = subscriptions.find(session, chat_id=self.target)
        if (
            admins.role_of(session, self.editor_id) is None
            or subscriber is None
            or subscriber.chat_type != ChatType.CHANNEL
        ):
            logger.warning(
                "Refused managing chat %s from user %s (no role)", self.target, self.editor_id
            )
            raise RefusalError(SUBSCRIPTION_REFUSED, reason="not_allowed")


async def subscription_manager(
    bot: Bot,
    *,
    chat: Chat,
    user: User | None,
    target: int,
    sender_chat: Chat | None = None,
) -> SubscriptionManager:
    """Whether this user, in `chat`, may manage the subscription of chat `target`.

    Anyone in their own private chat; in a group only its administrators (an anonymous one
    posts as the group); another chat's only a channel's, by an editor, from their private chat
    (`SubscriptionManager.confirm` finishes that check). RefusalError otherwise.
    """
    user_id = user.id if user is not None else None
    if target == chat.id:
        if chat.type == ChatType.PRIVATE:
            return SubscriptionManager(target)
        if chat.type in GROUPS:
            if sender_chat is not None and sender_chat.id == chat.id:
                return SubscriptionManager(target)
            if user is not None and await is_chat_administrator(bot, chat.id, user.id):
                return SubscriptionManager(target)
            reason = "group_admins_only"
        else:
            reason = "not_allowed"
    elif chat.type == ChatType.PRIVATE and user is not None:
        return SubscriptionManager(target, editor_id=user.id)
    else:
        reason = "not_allowed"
    logger.warning("Refused managing chat %s in chat %s from %s", target, chat.id, user_id)
    raise RefusalError(SUBSCRIPTION_REFUSED, reason=reason)


async def is_chat_administrator(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden) as error:
        logger.info("No member status for %s in %s: %s", user_id, chat_id, error)
        return False
    return member.status in ADMINISTRATORS
