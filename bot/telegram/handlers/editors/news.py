"""Editors and the news: review batches (Update record, Publish, Dismiss), /review, /reviews,
and the feeds: /feeds for editors, /addfeed and /removefeed for owners.

A review message carries its items' ids in its buttons only; a press re-reads those items, so
the message shows every item's state as the database has it, whoever pressed what and where.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from telegram.error import TelegramError

from bot.i18n import DEFAULT_LANGUAGE, using_language
from bot.services import admins, languages
from bot.services.events import RecordChanged
from bot.services.feeds import registry
from bot.services.feeds.urls import UnsafeFeedURLError, check_feed_url
from bot.services.news import items
from bot.services.news.items import NewsError
from bot.telegram.callbacks import decode
from bot.telegram.handlers.access import private_sender, require_role
from bot.telegram.handlers.base import ExpiredButtonError, Press, answers_refusals, button_press
from bot.telegram.handlers.editors.base import EditorHandlers, Step, arguments
from bot.telegram.keyboards import button
from bot.telegram.prepared import PreparedKeyboard
from bot.vocabulary import Actor, Language, NewsState, RecordType, Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Bot, InlineKeyboardMarkup, Message, Update
    from telegram.ext import ContextTypes

    from bot.models import NewsItem
    from bot.telegram.handlers.editors.edits import EditHandlers
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

# Publish, dismiss, update record, which record, and the state of an item with nothing left
# to do (its button keeps the item in the message when it is pressed again).
REVIEW_VERBS = ("np", "nd", "nu", "nr", "ns")
_EDITABLE_PREFIXES = {"pass": RecordType.PASS, "deal": RecordType.DEAL, "flight": RecordType.FLIGHT}


class NewsHandlers(EditorHandlers):
    def __init__(self, services: BotServices, edits: EditHandlers) -> None:
        super().__init__(services)
        self.edits = edits  # starts the guided edit behind "Update record"

    # --- Review --------------------------------------------------------------------------

    async def send_review_batch(self, bot: Bot) -> int:
        """Offer the new items (one batch per NEWS_REVIEW_SECONDS) to every reviewer, each in
        the language of their private chat with the bot (its id is theirs)."""
        now = self.services.clock()

        def take(
            session: Session,
        ) -> tuple[int, list[tuple[int, str, InlineKeyboardMarkup]]] | None:
            # Taking the batch and rendering it are one unit of work: a batch whose message
            # could not be built is not marked offered.
            batch = items.take_review_batch(
                session, now=now, every_seconds=self.services.settings.news_review_seconds
            )
            if not batch:
                return None
            rendered: dict[Language, tuple[str, InlineKeyboardMarkup]] = {}
            messages = []
            for user_id in admins.news_reviewers(session):
                language = languages.language_of(session, user_id) or DEFAULT_LANGUAGE
                if language not in rendered:
                    with using_language(language):
                        rendered[language] = self._review(session, batch)
                messages.append((user_id, *rendered[language]))
            return len(batch), messages

        taken = await self.services.run(take)
        if taken is None:
            return 0
        offered, messages = taken
        for user_id, text, keyboard in messages:
            try:
                await bot.send_message(user_id, text, reply_markup=keyboard)
            except TelegramError as error:  # an editor who never opened the bot, or left
                logger.info("News review not sent to %s: %s", user_id, error)
        logger.info("Offered %d news items to %d reviewers.", offered, len(messages))
        return offered

    @answers_refusals
    async def review(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/review: the items waiting for review, now, whatever was offered before."""
        sender = private_sender(update, "/review")
        if sender is None:
            return
        message, user = sender

        def pending(session: Session) -> tuple[str, InlineKeyboardMarkup | None]:
            require_role(session, user.id, Role.EDITOR, "/review")
            waiting = items.pending(session, limit=items.REVIEW_BATCH)
            if not waiting:
                return self.render("admin/news_none_pending.html.j2"), None
            return self._review(session, [item.id or 0 for item in waiting])

        text, keyboard = await self.services.run(pending)
        await self.reply(message, text, keyboard)

    @answers_refusals
    async def reviews(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reviews on|off: whether this owner or editor gets review messages."""
        sender = private_sender(update, "/reviews")
        if sender is None:
            return
        message, user = sender
        choice = " ".join(context.args or []).strip().lower()

        def switch(session: Session) -> str:
            require_role(session, user.id, Role.EDITOR, "/reviews")
            if choice not in ("on", "off"):
                return self.render("admin/usage.html.j2", command="reviews")
            admins.set_news_reviews(session, user.id, on=choice == "on")
            return self.render("admin/news_reviews_switched.html.j2", on=choice == "on")

        await self.reply(message, await self.services.run(switch))

    @button_press
    async def press(self, press: Press, context: ContextTypes.DEFAULT_TYPE) -> None:
        verb, user, now = press.action.verb, press.user, self.services.clock()
        item_id = int(press.action.arg("item"))
        shown = _items_of(press.message) or [item_id]

        def act(session: Session) -> tuple[Step | None, str | None]:
            require_role(session, user.id, Role.EDITOR, f"button {verb}")
            actor = Actor.telegram(user.id)
            if verb == "ns":
                item = _item_or_expired(session, item_id)
                return None, self._state_alert(item)
            if verb in ("np", "nd"):
                state = NewsState.PUBLISHED if verb == "np" else NewsState.DISMISSED
                try:
                    items.review(session, item_id, state, actor=actor, now=now)
                except NewsError as error:
                    if error.code == "news_unknown":
                        raise ExpiredButtonError from None
                    return None, self.render(
                        "admin/news_state.j2", item=items.get(session, item_id)
                    )
                text, keyboard = self._review(session, shown)
                return Step(text, keyboard, in_place=True), None
            item = _item_or_expired(session, item_id)
            targets = _editable_records(item)
            if verb == "nr":
                index = int(press.action.arg("record"))
                if index >= len(targets):
                    raise ExpiredButtonError
                targets = [targets[index]]
            if not targets:
                return Step(self.render("admin/news_no_record.html.j2", item=item)), None
            if len(targets) > 1:
                names = items.record_names(session)
                rows = [
                    [button(names.get(f"{kind}:{key}", key), "nr", item_id, index)]
                    for index, (kind, key) in enumerate(targets)
                ]
                text = self.render("admin/news_pick_record.html.j2", item=item)
                return Step(text, PreparedKeyboard(rows)), None
            kind, key = targets[0]
            step = self.edits.start_guided(
                session,
                press.message.chat.id,
                user.id,
                _EDITABLE_PREFIXES[kind],
                key,
                in_place=False,
                article=item,
            )
            return step, None

        step, alert = await self.services.run(act)
        await press.query.answer(alert, show_alert=alert is not None)
        if verb == "np" and alert is None:
            self.services.records_changed(
                RecordChanged(RecordType.NEWS, str(item_id), ("state",), Actor.telegram(user.id))
            )
        if step is not None:
            await self._show(press.message, step)

    def _state_alert(self, item: NewsItem) -> str:
        # A press's alert is plain text: the template's escaping is undone.
        return html.unescape(self.render("admin/news_state.j2", item=item)).strip()

    def _review(self, session: Session, ids: list[int]) -> tuple[str, InlineKeyboardMarkup]:
        shown = items.by_ids(session, ids)
        label = self.services.renderer.label
        rows = []
        for number, item in enumerate(shown, start=1):
            row = []
            if item.state is not NewsState.APPLIED and _editable_records(item):
                row.append(button(label("admin_news_update", number), "nu", item.id or 0))
            if item.state in (NewsState.NEW, NewsState.DISMISSED):
                row.append(button(label("admin_news_publish", number), "np", item.id or 0))
            if item.state is NewsState.NEW:
                row.append(button(label("admin_news_dismiss", number), "nd", item.id or 0))
            if not row:
                row.append(
                    button(label("admin_news_state", number, item.state), "ns", item.id or 0)
                )
            rows.append(row)
        text = self.render(
            "admin/news_review.html.j2", items=shown, names=items.record_names(session)
        )
        return text, PreparedKeyboard(rows)

    # --- Feeds ---------------------------------------------------------------------------

    @answers_refusals
    async def feeds(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/feeds: every feed with its health (editors)."""
        sender = private_sender(update, "/feeds")
        if sender is None:
            return
        message, user = sender

        def listing(session: Session) -> str:
            role = require_role(session, user.id, Role.EDITOR, "/feeds")
            feeds = registry.all_feeds(session)
            return self.render(
                "admin/feeds.html.j2",
                feeds=[(feed, registry.health(feed).value) for feed in feeds],
                owner=role is Role.OWNER,
                polling=self.services.settings.feed_poll_seconds > 0,
            )

        await self.reply(message, await self.services.run(listing))

    @answers_refusals
    async def add_feed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/addfeed URL [name] (owners)."""
        sender = private_sender(update, "/addfeed")
        if sender is None:
            return
        message, user = sender
        await self.services.run(
            lambda session: require_role(session, user.id, Role.OWNER, "/addfeed")
        )
        url, _, name = arguments(message).strip().partition(" ")
        if not url:
            await self.reply(message, self.render("admin/usage.html.j2", command="addfeed"))
            return
        settings = self.services.settings
        try:
            # Resolving the host is network I/O: here on the loop, never in a worker thread.
            checked = await check_feed_url(
                url, allow_private_hosts=settings.feed_allow_private_hosts
            )
        except UnsafeFeedURLError as refused:
            await self.reply(
                message, self.render("admin/feed_refused.html.j2", reason=str(refused))
            )
            return

        def add(session: Session) -> str:
            require_role(session, user.id, Role.OWNER, "/addfeed")
            feed = registry.add(
                session,
                url=checked,
                name=name.strip() or None,
                actor=Actor.telegram(user.id),
                now=self.services.clock(),
            )
            return self.render("admin/feed_added.html.j2", feed=feed)

        await self.reply(message, await self._feed_change(add))

    @answers_refusals
    async def remove_feed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/removefeed URL|id|name (owners); the feed's items stay."""
        sender = private_sender(update, "/removefeed")
        if sender is None:
            return
        message, user = sender
        query = arguments(message).strip()

        def remove(session: Session) -> str:
            require_role(session, user.id, Role.OWNER, "/removefeed")
            if not query:
                return self.render("admin/usage.html.j2", command="removefeed")
            feed = registry.remove(
                session, query=query, actor=Actor.telegram(user.id), now=self.services.clock()
            )
            return self.render("admin/feed_removed.html.j2", feed=feed)

        await self.reply(message, await self._feed_change(remove))

    async def _feed_change(self, work: Callable[[Session], str]) -> str:
        try:
            return await self.services.run(work)
        except registry.FeedError as error:
            return self.render("admin/feed_error.html.j2", code=error.code, **error.details)


def _items_of(message: Message) -> list[int]:
    """The item ids a review message's buttons name, in order (its items, as it shows them)."""
    ids: list[int] = []
    markup = message.reply_markup
    for row in markup.inline_keyboard if markup is not None else ():
        for pressed in row:
            action = decode(
                pressed.callback_data if isinstance(pressed.callback_data, str) else None
            )
            if action is not None and action.verb in REVIEW_VERBS:
                item_id = int(action.arg("item"))
                if item_id not in ids:
                    ids.append(item_id)
    return ids


def _item_or_expired(session: Session, item_id: int) -> NewsItem:
    try:
        return items.get(session, item_id)
    except NewsError:
        raise ExpiredButtonError from None


def _editable_records(item: NewsItem) -> list[tuple[str, str]]:
    """(kind, key) of the status records an item matched; trade series are edited otherwise."""
    found = []
    for record in item.records:
        kind, _, key = record.partition(":")
        if kind in _EDITABLE_PREFIXES and key:
            found.append((kind, key))
    return found
