"""What the subscription and channel handlers both show: the settings page, "not subscribed",
setting errors, and the time-zone prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import ForceReply
from telegram.constants import ChatType

from bot.i18n import DEFAULT_LANGUAGE
from bot.services import languages, schedule
from bot.telegram import keyboards
from bot.telegram.handlers.access import GROUPS
from bot.telegram.handlers.base import HandlerGroup
from bot.telegram.prepared import PreparedKeyboard
from bot.telegram.presenter import rendered_html

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session
    from telegram import InlineKeyboardMarkup, Message, User

    from bot.models import Subscriber
    from bot.services.subscriptions import SettingError, Subscription

Page = tuple[str, "InlineKeyboardMarkup | None"]


class SubscriptionPages(HandlerGroup):
    """Base of the subscription and channel handler groups."""

    def subscribed(self, subscription: Subscription, *, channel: str | None) -> str:
        return self.render(
            "subscriptions/subscribed.html.j2",
            subscription=subscription,
            next_local=next_local(subscription.subscriber),
            channel=channel,
        )

    def settings_page(
        self, session: Session, subscriber: Subscriber, page: str, *, notice: str | None = None
    ) -> Page:
        """The settings page, read in the unit of work that loaded or changed `subscriber`."""
        text = self.render(
            "subscriptions/settings.html.j2",
            subscriber=subscriber,
            next_local=next_local(subscriber),
            page=page,
            notice=notice,
            # The language its digests and alerts go out in (as the delivery reads it).
            chat_language=languages.language_of(session, subscriber.chat_id) or DEFAULT_LANGUAGE,
        )
        return text, keyboards.subscription_settings(subscriber, page, self.services.renderer)

    def not_subscribed(self, chat_id: int, *, is_channel: bool, channel: str | None = None) -> Page:
        text = self.render(
            "subscriptions/not_subscribed.html.j2", is_channel=is_channel, channel=channel
        )
        if is_channel:
            return text, None
        return text, keyboards.subscribe_button(chat_id, self.services.renderer)

    def setting_error(self, error: SettingError) -> str:
        return self.render(
            "subscriptions/setting_error.html.j2", reason=error.reason, details=error.details
        )

    def suggestions(self, chat_id: int, error: SettingError) -> InlineKeyboardMarkup | None:
        """Buttons for the time zones a mistyped name may have meant (those that fit a button)."""
        rows = []
        for zone in error.details.get("suggestions", ()):
            try:
                rows.append(
                    [
                        keyboards.button(
                            self.services.renderer.label("sub_timezone", zone),
                            "opt",
                            chat_id,
                            "timezone",
                            zone,
                        )
                    ]
                )
            except ValueError:
                continue  # a name too long for Telegram's 64-byte button data
        return PreparedKeyboard(rows) if rows else None

    async def prompt_timezone(
        self,
        message: Message,
        subscriber: Subscriber,
        *,
        quote: bool,
        presser: User | None = None,
        error: str | None = None,
    ) -> None:
        """Ask for a time zone with a ForceReply; in groups only the asker is prompted."""
        bot = message.get_bot()
        in_group = subscriber.chat_type in GROUPS
        text = self.render(
            "subscriptions/timezone_prompt.html.j2",
            link=f"https://t.me/{bot.username}?start=tz_{subscriber.chat_id}",
            mention={"id": presser.id, "name": presser.first_name}
            if presser and in_group
            else None,
            title=subscriber.title if subscriber.chat_type != ChatType.PRIVATE else None,
            current=subscriber.timezone,
            error=rendered_html(error) if error else None,
        )
        placeholder = self.services.renderer.label("sub_timezone_placeholder")
        await message.reply_text(
            text,
            reply_markup=ForceReply(selective=True, input_field_placeholder=placeholder),
            do_quote=quote,
        )


def active(subscriber: Subscriber | None) -> Subscriber | None:
    return subscriber if subscriber is not None and subscriber.active else None


def next_local(subscriber: Subscriber) -> datetime | None:
    """The next digest on the subscriber's clock, for telling them when it arrives."""
    if subscriber.next_digest_at is None:
        return None
    return schedule.local_time(subscriber.next_digest_at, subscriber.timezone)
