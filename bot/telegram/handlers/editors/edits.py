"""Editors change records: /set, the guided /edit, /addfigure, /addsource, /undo, /changes.

An edit is previewed as readers will see it and stored as a draft; Confirm applies it. Each
command, press and typed step is one unit of work (the role check, the draft, the change and
the text to show), followed by the Telegram calls.

A little over 500 lines, on purpose: the one-line and the guided edit share their drafts,
preview and confirmation, and a guided edit started from a news item is the same flow.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from telegram.ext import ApplicationHandlerStop

from bot.partial_date import PartialDate
from bot.services import answers as a
from bot.services import drafts, editing, figure_editing, records
from bot.services.edit_parsing import SourceRef
from bot.services.editing import EDITABLE, KIND_NAMES, Edit, EditError, Preview
from bot.services.events import RecordChanged
from bot.services.history import STATUS_SINCE
from bot.services.news import items as news_items
from bot.telegram.handlers.access import DRAFT_EXPIRED, RefusalError, private_sender, require_role
from bot.telegram.handlers.base import Press, answers_refusals, button_press
from bot.telegram.handlers.editors.base import EditorHandlers, Step, arguments, confirm_keyboard
from bot.telegram.keyboards import button
from bot.telegram.prepared import PreparedKeyboard
from bot.telegram.presenter import rendered_html
from bot.vocabulary import Actor, PassStatus, RecordType, Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Update
    from telegram.ext import ContextTypes

    from bot.models import BorderPass, CommodityDeal, EditDraft, FlightRoute, NewsItem
    from bot.services.timeline import Freshness
    from bot.telegram.handlers.editors.imports import ImportHandlers
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

# A pass's expected reopening date, which opening it may leave behind (see `_preview`).
REOPENING = "expected_reopening"
# A guided edit started from a news item: the article's date, and the item to mark applied.
SINCE = "since"
NEWS_ITEM = "news_item"

# Typed instead of pressing Skip in a guided edit.
SKIP_WORDS = frozenset({"skip", "-", "none", "no"})
_SPAN = re.compile(r"^(\d{1,3})\s*([dh])$")


class EditHandlers(EditorHandlers):
    def __init__(self, services: BotServices, imports: ImportHandlers) -> None:
        super().__init__(services)
        self.imports = imports  # confirms import drafts

    async def channel_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command posted in a channel: nobody can be identified there, so it is refused."""
        message = update.effective_message
        if message is not None:
            command = (message.text or "").split(maxsplit=1)[0][:40]
            logger.warning("Refused %s posted in channel %s", command, message.chat.id)

    async def ticker(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/changes [7d|24h|DATE]: recent changes to records, newest first."""
        message = update.effective_message
        if message is None:
            return
        try:
            since = _since(" ".join(context.args or []), self.services.clock())
        except EditError as error:
            await self.reply(message, self._error(error))
            return
        text = await self.services.run(
            lambda session: self.render(
                "admin/changes.html.j2",
                rows=editing.recent_changes(session, since=since),
                since=since,
            )
        )
        await self.reply(message, text)

    @answers_refusals
    async def set(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/set")
        if sender is None:
            return
        message, user = sender
        text, chat_id = arguments(message), message.chat.id

        def preview(session: Session) -> Step:
            require_role(session, user.id, Role.EDITOR, "/set")
            edit = editing.parse_set(session, a.load_catalog(session), text)
            record = editing.load_record(session, edit.record_type, edit.key)
            edit = replace(edit, expected_version=record.version)
            shown = editing.preview(session, edit, self._today())
            draft = self._draft(session, chat_id, user.id, "set", edit.to_payload())
            return self._preview(shown, draft.id)

        step = await self._act(message, preview)
        if step is not None:
            await self._show(message, step)

    @answers_refusals
    async def add_source(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/addsource")
        if sender is None:
            return
        message, user = sender
        text = arguments(message)

        def add(session: Session) -> Step:
            require_role(session, user.id, Role.EDITOR, "/addsource")
            source = figure_editing.add_source(session, text, today=self._today())
            logger.info("User %s added source %s", user.id, source.key)
            return self._step("admin/source_added.html.j2", source=source)

        step = await self._act(message, add)
        if step is not None:
            await self._show(message, step)

    @answers_refusals
    async def add_figure(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/addfigure")
        if sender is None:
            return
        message, user = sender
        text, chat_id = arguments(message), message.chat.id

        def preview(session: Session) -> Step:
            require_role(session, user.id, Role.EDITOR, "/addfigure")
            figure_edit = figure_editing.parse_add_figure(session, text)
            shown = figure_editing.preview(session, figure_edit)
            draft = self._draft(session, chat_id, user.id, "figure", figure_edit.to_payload())
            reader_view = self.presenter.text(
                a.FiguresAnswer("deficit", shown.quantity, (shown.series_figures,))
            )
            return self._step(
                "admin/figure_preview.html.j2",
                keyboard=confirm_keyboard(self, draft.id),
                preview=shown,
                reader_view=rendered_html(reader_view),
            )

        step = await self._act(message, preview)
        if step is not None:
            await self._show(message, step)

    @answers_refusals
    async def undo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/undo")
        if sender is None:
            return
        message, user = sender

        def undo(session: Session) -> Step:
            require_role(session, user.id, Role.EDITOR, "/undo")
            applied = editing.undo(
                session, actor=Actor.telegram(user.id), now=self.services.clock()
            )
            text = self.render("admin/undone.html.j2", applied=applied)
            return Step(text, changes=(self._published(applied, user.id),))

        step = await self._act(message, undo)
        if step is not None:
            await self._show(message, step)

    @answers_refusals
    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/cancel")
        if sender is None:
            return
        message, user = sender
        chat_id = message.chat.id

        def cancel(session: Session) -> None:
            require_role(session, user.id, Role.EDITOR, "/cancel")
            draft = drafts.awaiting_input(
                session, user_id=user.id, chat_id=chat_id, now=self.services.clock()
            )
            if draft is not None:
                drafts.discard(session, draft)

        await self.services.run(cancel)
        await self.reply(message, self.render("admin/cancelled.html.j2"))

    @answers_refusals
    async def edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "/edit")
        if sender is None:
            return
        message, user = sender
        await self.services.run(
            lambda session: require_role(session, user.id, Role.EDITOR, "/edit")
        )
        label = self.services.renderer.label
        keyboard = PreparedKeyboard(
            [[button(label("kind", kind), "ek", kind) for kind in KIND_NAMES]]
        )
        await self.reply(message, self.render("admin/edit_start.html.j2"), keyboard)

    async def typed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text an editor types while a guided edit waits for a value, a note or a source."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        if not await self.services.is_admin(user.id):
            return  # readers' messages are questions: no query for them
        typed, chat_id = message.text, message.chat.id

        def advance(session: Session) -> tuple[bool, Step | None]:
            """Whether a guided edit took the text, and the step it led to."""
            draft = drafts.awaiting_input(
                session, user_id=user.id, chat_id=chat_id, now=self.services.clock()
            )
            if draft is None:
                return False, None  # not editing: the message is a question
            try:
                require_role(session, user.id, Role.EDITOR, "guided edit input")
            except RefusalError:
                drafts.discard(session, draft)
                return False, None
            return True, self._advance(session, draft, typed=typed)

        try:
            editing_input, step = await self.services.run(advance)
        except EditError as error:
            await self.reply(message, self._error(error))
            raise ApplicationHandlerStop from None
        if not editing_input:
            return
        if step is not None:
            await self._show(message, step)
        raise ApplicationHandlerStop

    @button_press
    async def press(self, press: Press, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Buttons of confirmations and of the guided edit; roles are checked on every press."""
        try:
            step = await self.services.run(lambda session: self._pressed(session, press))
        except EditError as error:
            # Answered: a refusal from here on is a message, not a second answer to the press.
            await press.query.answer()
            await self.reply(press.message, self._error(error))
            return
        await press.query.answer()
        if step is not None:
            await self._show(press.message, step)

    def _pressed(self, session: Session, press: Press) -> Step | None:
        action, user, now = press.action, press.user, self.services.clock()
        require_role(session, user.id, Role.EDITOR, f"button {action.verb}")
        label = self.services.renderer.label
        if action.verb == "ek":
            kind = KIND_NAMES[action.arg("kind")]
            rows = [
                [button(label("record", name), "er", kind.value, key)]
                for key, name in editing.records_of(session, kind)
            ]
            text = self.render("admin/edit_pick_record.html.j2", kind=kind.value)
            return Step(text, PreparedKeyboard(rows), in_place=True)
        if action.verb == "er":
            kind = KIND_NAMES[action.arg("kind")]
            return self.start_guided(
                session, press.message.chat.id, user.id, kind, action.arg("key"), in_place=True
            )
        draft = drafts.get(session, action.arg("draft"), user_id=user.id, now=now)
        if draft is None or not _fits(draft, action.verb):
            raise RefusalError(DRAFT_EXPIRED)
        if action.verb == "no":
            drafts.discard(session, draft)
            return Step(self.render("admin/cancelled.html.j2"), in_place=True)
        if action.verb == "ok":
            return self._confirm(session, draft, user.id)
        if action.verb == "oc":
            # The editor chose to clear the expected reopening along with the opening.
            edit = Edit.from_payload(draft.payload)
            cleared = replace(edit, changes={**edit.changes, REOPENING: None})
            drafts.update(draft, stage=draft.stage, payload=cleared.to_payload(), now=now)
            return self._confirm(session, draft, user.id)
        if action.verb == "ef":
            return self._field_chosen(draft, action.arg("option"))
        if action.verb == "ev":
            return self._advance(session, draft, chosen=action.arg("value"))
        return self._advance(session, draft, skip=True)  # "es"

    def start_guided(
        self,
        session: Session,
        chat_id: int,
        user_id: int,
        kind: RecordType,
        key: str,
        *,
        in_place: bool,
        article: NewsItem | None = None,
    ) -> Step:
        """A guided edit of one record, at its first step (which field).

        From a news item (`article`), the article is the edit's source and its date the
        status's "since", both shown before confirming and both replaceable.
        """
        record = editing.load_record(session, kind, key)
        edit = Edit(kind, key, {}, expected_version=record.version)
        extra: dict[str, object] = {}
        if article is not None:
            edit = replace(
                edit,
                source=SourceRef(
                    url=article.url,
                    title=article.title,
                    publisher=article.publisher,
                    published_on=article.published_at.date().isoformat(),
                ),
            )
            extra = {SINCE: article.published_at.date().isoformat(), NEWS_ITEM: article.id}
        payload = {**edit.to_payload(), **extra}
        started = self._draft(session, chat_id, user_id, "guided", payload, stage="field")
        label = self.services.renderer.label
        rows = [
            [button(label("option", option), "ef", started.id, option)] for option in EDITABLE[kind]
        ]
        text = self.render(
            "admin/edit_pick_field.html.j2", name=editing.display_name(record), article=article
        )
        return Step(text, PreparedKeyboard(rows), in_place=in_place)

    def _field_chosen(self, draft: EditDraft, option: str) -> Step:
        edit = Edit.from_payload(draft.payload)
        spec = EDITABLE[edit.record_type].get(option)
        if spec is None:
            raise EditError(
                "unknown_option",
                kind=edit.record_type.value,
                option=option,
                allowed=tuple(EDITABLE[edit.record_type]),
            )
        payload = {**draft.payload, "option": option}
        drafts.update(draft, stage="value", payload=payload, now=self.services.clock())
        label = self.services.renderer.label
        if spec.vocabulary:
            keyboard = PreparedKeyboard(
                [
                    [button(label("deal_status", value), "ev", draft.id, value)]
                    for value in spec.vocabulary
                ]
            )
        else:  # every other field is optional: it can be cleared
            keyboard = PreparedKeyboard([[button(label("clear_value"), "ev", draft.id, "clear")]])
        return self._step(
            "admin/edit_ask_value.html.j2", keyboard=keyboard, option=option, spec=spec
        )

    def _advance(
        self,
        session: Session,
        draft: EditDraft,
        *,
        typed: str | None = None,
        chosen: str | None = None,
        skip: bool = False,
    ) -> Step | None:
        """Move a guided edit one step on: value -> note -> its Hindi (when there is a note)
        -> source -> preview."""
        now = self.services.clock()
        edit = Edit.from_payload(draft.payload)
        payload = dict(draft.payload)
        if typed is not None and typed.strip().lower() in SKIP_WORDS:
            typed, skip = None, True
        if draft.stage == "value":
            if skip:
                raise EditError("value_needed")
            column, value = editing.parse_value(
                edit.record_type, payload["option"], chosen or typed or ""
            )
            changes = {**edit.changes, column: value}
            since_column = STATUS_SINCE.get(edit.record_type)
            if column == "status" and since_column and SINCE in payload:
                # From a news item: the new status holds since the article's date.
                changes.setdefault(since_column, PartialDate.parse(payload[SINCE]))
            edit = replace(edit, changes=changes)
            stage = "note"
        elif draft.stage == "note":
            if not skip and typed:
                edit = replace(edit, note=editing.history_note(typed))
            stage = "note_hi" if edit.note else "source"
        elif draft.stage == "note_hi":
            if not skip and typed:
                edit = replace(edit, note_hi=editing.history_note(typed, hindi=True))
            stage = "source"
        elif draft.stage == "source":
            if not skip and typed:
                source = editing.parse_source(typed)
                if source.key is not None and editing.find_source(session, source) is None:
                    raise EditError("unknown_source", value=source.key)
                edit = replace(edit, source=source)
            stage = "preview"
        else:
            return None  # already at the preview: its Confirm and Cancel buttons decide
        payload.update(edit.to_payload())
        drafts.update(draft, stage=stage, payload=payload, now=now)
        if stage == "preview":
            return self._preview(editing.preview(session, edit, now.date()), draft.id)
        # A source already given (a news item's) is kept by "skip": the button says so.
        keeps = stage == "source" and edit.source is not None
        skip_keyboard = PreparedKeyboard(
            [[button(self.services.renderer.label("keep" if keeps else "skip"), "es", draft.id)]]
        )
        return self._step(
            f"admin/edit_ask_{stage}.html.j2", keyboard=skip_keyboard, source=edit.source
        )

    def _confirm(self, session: Session, draft: EditDraft, user_id: int) -> Step:
        actor = Actor.telegram(user_id)
        if draft.kind == "import":
            return self.imports.confirm(session, draft, actor)
        if draft.kind == "figure":
            figure_edit = figure_editing.FigureEdit.from_payload(draft.payload)
            result = figure_editing.apply(
                session, figure_edit, actor=actor, now=self.services.clock()
            )
            drafts.discard(session, draft)
            return Step(
                self.render("admin/figure_saved.html.j2", result=result),
                in_place=True,
                changes=(RecordChanged(RecordType.FIGURE, result.key, result.fields, actor),),
            )
        now = self.services.clock()
        applied = editing.apply(session, Edit.from_payload(draft.payload), actor=actor, now=now)
        if draft.payload.get(NEWS_ITEM) is not None:
            news_items.mark_applied(session, draft.payload[NEWS_ITEM], actor=actor, now=now)
        drafts.discard(session, draft)
        session.flush()
        view = self._reader_view(session, applied.record_type, applied.key)
        return Step(
            self.render("admin/saved.html.j2", applied=applied, reader_view=rendered_html(view)),
            in_place=True,
            changes=(self._published(applied, user_id),),
        )

    def _preview(self, shown: Preview, draft_id: str) -> Step:
        reader_view = self.presenter.text(_answer_for(shown, self.services.freshness()))
        keeps = _reopening_left_behind(shown)
        keyboard = confirm_keyboard(self, draft_id)
        if keeps is not None:
            label = self.services.renderer.label
            keyboard = PreparedKeyboard(
                [
                    [button(label("confirm_clear_reopening"), "oc", draft_id)],
                    [
                        button(label("confirm_keep_reopening", keeps.human()), "ok", draft_id),
                        button(label("cancel"), "no", draft_id),
                    ],
                ]
            )
        return self._step(
            "admin/preview.html.j2",
            keyboard=keyboard,
            preview=shown,
            reader_view=rendered_html(reader_view),
            keeps_reopening=keeps,
        )

    def _reader_view(self, session: Session, record_type: RecordType, key: str) -> str:
        freshness = self.services.freshness()
        answer: a.Answer | None
        if record_type is RecordType.PASS:
            answer = a.pass_detail(session, key, freshness)
        elif record_type is RecordType.DEAL:
            answer = a.DealsAnswer(tuple(records.deals(session, freshness, slugs=(key,))))
        else:
            answer = a.FlightsAnswer(tuple(records.flights(session, freshness, slugs=(key,))))
        return self.presenter.text(answer) if answer is not None else ""


def _fits(draft: EditDraft, verb: str) -> bool:
    """Whether a draft button's verb applies to the draft: the guided steps to a guided edit,
    Confirm to a draft at its preview (a forged or stale button is an expired one)."""
    if verb in ("ef", "ev", "es"):
        return draft.kind == "guided"
    if verb == "oc":
        edit = Edit.from_payload(draft.payload) if draft.kind in ("set", "guided") else None
        return draft.stage == "preview" and edit is not None and edit.record_type is RecordType.PASS
    return verb != "ok" or draft.stage == "preview"


def _reopening_left_behind(shown: Preview) -> PartialDate | None:
    """A pass this edit opens whose expected reopening date would stay: asked, not assumed."""
    if shown.edit.record_type is not RecordType.PASS or REOPENING in shown.edit.changes:
        return None
    if shown.edit.changes.get("status") != PassStatus.OPEN:
        return None
    return cast("PartialDate | None", getattr(shown.record, REOPENING))


def _answer_for(shown: Preview, freshness: Freshness) -> a.Answer:
    """The readers' answer for the previewed record (its type follows the edit's kind), as
    readers would see it today: the edit is its latest update."""
    record, source = shown.record, shown.source
    if shown.edit.record_type is RecordType.PASS:
        return a.PassAnswer(records.view_of(cast("BorderPass", record), source, freshness))
    if shown.edit.record_type is RecordType.DEAL:
        return a.DealsAnswer((records.view_of(cast("CommodityDeal", record), source, freshness),))
    return a.FlightsAnswer((records.view_of(cast("FlightRoute", record), source, freshness),))


def _since(text: str, now: datetime) -> datetime:
    """'7d', '24h' or a date; seven days when empty."""
    text = text.strip().lower()
    if not text:
        return now - timedelta(days=7)
    span = _SPAN.fullmatch(text)
    if span is not None:
        amount = int(span[1])
        return now - (timedelta(days=amount) if span[2] == "d" else timedelta(hours=amount))
    day = editing.parse_date(text, option="since").earliest
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
