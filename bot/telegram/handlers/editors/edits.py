"""Editors change records: /set, the guided /edit, /addfigure, /addsource, /undo, /changes.

An edit is previewed as readers will see it and stored as a draft; Confirm applies it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from telegram.ext import ApplicationHandlerStop

from bot.services import admins, drafts, editing, figure_editing, records
from bot.services import answers as a
from bot.services.editing import EDITABLE, KIND_NAMES, Edit, EditError, Preview
from bot.services.events import RecordChanged
from bot.services.records import RecordView
from bot.telegram.callbacks import Action, read_press
from bot.telegram.handlers.editors.base import EditorHandlers, arguments, confirm_keyboard
from bot.telegram.keyboards import button
from bot.telegram.prepared import PreparedKeyboard
from bot.telegram.presenter import rendered_html
from bot.vocabulary import Actor, RecordType, Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import CallbackQuery, Message, Update
    from telegram.ext import ContextTypes

    from bot.models import BorderPass, CommodityDeal, EditDraft, FlightRoute
    from bot.telegram.handlers.editors.imports import ImportHandlers
    from bot.telegram.services import BotServices

logger = logging.getLogger(__name__)

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
        now = self.services.clock()
        try:
            since = _since(" ".join(context.args or []), now)
        except EditError as error:
            await self._reply(message, "admin/error.html.j2", error=error)
            return
        with self.services.session() as session:
            rows = editing.recent_changes(session, since=since)
        await self._reply(message, "admin/changes.html.j2", rows=rows, since=since)

    async def set(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "/set")
        if allowed is None:
            return
        message, user = allowed
        text = arguments(message)
        try:
            with self.services.session() as session:
                edit = editing.parse_set(session, a.load_catalog(session), text)
                record = editing.load_record(session, edit.record_type, edit.key)
                edit = replace(edit, expected_version=record.version)
                shown = editing.preview(session, edit, self._today())
                draft = self._draft(session, message, user, "set", edit.to_payload())
                await self._send_preview(message, shown, draft.id)
        except EditError as error:
            await self._reply(message, "admin/error.html.j2", error=error)

    async def add_source(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "/addsource")
        if allowed is None:
            return
        message, user = allowed
        try:
            with self.services.session() as session:
                source = figure_editing.add_source(session, arguments(message), today=self._today())
        except EditError as error:
            await self._reply(message, "admin/error.html.j2", error=error)
            return
        logger.info("User %s added source %s", user.id, source.key)
        await self._reply(message, "admin/source_added.html.j2", source=source)

    async def add_figure(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "/addfigure")
        if allowed is None:
            return
        message, user = allowed
        try:
            with self.services.session() as session:
                figure_edit = figure_editing.parse_add_figure(session, arguments(message))
                shown = figure_editing.preview(session, figure_edit)
                draft = self._draft(session, message, user, "figure", figure_edit.to_payload())
                reader_view = self.presenter.text(
                    a.FiguresAnswer("deficit", shown.quantity, (shown.series_figures,))
                )
        except EditError as error:
            await self._reply(message, "admin/error.html.j2", error=error)
            return
        await self._reply(
            message,
            "admin/figure_preview.html.j2",
            keyboard=confirm_keyboard(self, draft.id),
            preview=shown,
            reader_view=rendered_html(reader_view),
        )

    async def undo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "/undo")
        if allowed is None:
            return
        message, user = allowed
        try:
            with self.services.session() as session:
                applied = editing.undo(
                    session, actor=Actor.telegram(user.id), now=self.services.clock()
                )
        except EditError as error:
            await self._reply(message, "admin/error.html.j2", error=error)
            return
        self._published(applied, user.id)
        await self._reply(message, "admin/undone.html.j2", applied=applied)

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "/cancel")
        if allowed is None:
            return
        message, user = allowed
        with self.services.session() as session:
            draft = drafts.awaiting_input(
                session, user_id=user.id, chat_id=message.chat.id, now=self.services.clock()
            )
            if draft is not None:
                drafts.discard(session, draft)
        await self._reply(message, "admin/cancelled.html.j2")

    async def edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "/edit")
        if allowed is None:
            return
        label = self.services.renderer.label
        keyboard = PreparedKeyboard(
            [[button(label("kind", kind), "ek", kind) for kind in KIND_NAMES]]
        )
        await self._reply(allowed[0], "admin/edit_start.html.j2", keyboard=keyboard)

    async def typed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text an editor types while a guided edit waits for a value, a note or a source."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        now = self.services.clock()
        with self.services.session() as session:
            draft = drafts.awaiting_input(
                session, user_id=user.id, chat_id=message.chat.id, now=now
            )
            if draft is None:
                return  # not editing: the message is a question for the question handlers
            if admins.role_of(session, user.id) is None:
                drafts.discard(session, draft)
                return
            try:
                await self._advance(session, message, draft, typed=message.text)
            except EditError as error:
                await self._reply(message, "admin/error.html.j2", error=error)
        raise ApplicationHandlerStop

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Buttons of confirmations and of the guided edit; roles are checked on every press."""
        query = update.callback_query
        if query is None:
            return
        pressed = read_press(query)
        if pressed is None:
            await self.presenter.expired(query)
            return
        action, message = pressed
        if not await self._allowed_press(query, Role.EDITOR, action.verb):
            return
        try:
            with self.services.session() as session:
                await self._pressed(session, query, message, action)
        except EditError as error:
            await query.answer()
            await self._reply(message, "admin/error.html.j2", error=error)

    async def _pressed(
        self, session: Session, query: CallbackQuery, message: Message, action: Action
    ) -> None:
        user, now = query.from_user, self.services.clock()
        label = self.services.renderer.label
        if action.verb == "ek":
            kind = KIND_NAMES[action.arg("kind")]
            rows = [
                [button(label("record", name), "er", kind.value, key)]
                for key, name in editing.records_of(session, kind)
            ]
            await query.answer()
            await message.edit_text(
                self.services.renderer.render("admin/edit_pick_record.html.j2", kind=kind.value),
                reply_markup=PreparedKeyboard(rows),
            )
            return
        if action.verb == "er":
            kind = KIND_NAMES[action.arg("kind")]
            record = editing.load_record(session, kind, action.arg("key"))
            payload = Edit(
                kind, action.arg("key"), {}, expected_version=record.version
            ).to_payload()
            started = self._draft(session, message, user, "guided", payload, stage="field")
            rows = [
                [button(label("option", option), "ef", started.id, option)]
                for option in EDITABLE[kind]
            ]
            await query.answer()
            await message.edit_text(
                self.services.renderer.render(
                    "admin/edit_pick_field.html.j2", name=editing.display_name(record)
                ),
                reply_markup=PreparedKeyboard(rows),
            )
            return
        draft = drafts.get(session, action.arg("draft"), user_id=user.id, now=now)
        if draft is None or not _fits(draft, action.verb):
            await query.answer(
                self.services.renderer.render("admin/draft_expired.html.j2"), show_alert=True
            )
            return
        await query.answer()
        # Answered: a refusal from here on is a message, not a second answer to the press.
        try:
            if action.verb == "no":
                drafts.discard(session, draft)
                await message.edit_text(
                    self.services.renderer.render("admin/cancelled.html.j2"),
                )
            elif action.verb == "ok":
                await self._confirm(session, message, draft, user.id)
            elif action.verb == "ef":
                await self._field_chosen(session, message, draft, action.arg("option"))
            elif action.verb == "ev":
                await self._advance(session, message, draft, chosen=action.arg("value"))
            elif action.verb == "es":
                await self._advance(session, message, draft, skip=True)
        except EditError as error:
            await self._reply(message, "admin/error.html.j2", error=error)

    async def _field_chosen(
        self, session: Session, message: Message, draft: EditDraft, option: str
    ) -> None:
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
        keyboard = None
        if spec.vocabulary:
            keyboard = PreparedKeyboard(
                [
                    [button(label("deal_status", value), "ev", draft.id, value)]
                    for value in spec.vocabulary
                ]
            )
        await message.reply_text(
            self.services.renderer.render("admin/edit_ask_value.html.j2", option=option, spec=spec),
            reply_markup=keyboard,
        )

    async def _advance(
        self,
        session: Session,
        message: Message,
        draft: EditDraft,
        *,
        typed: str | None = None,
        chosen: str | None = None,
        skip: bool = False,
    ) -> None:
        """Move a guided edit one step on: value -> note -> source -> preview."""
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
            edit = replace(edit, changes={**edit.changes, column: value})
            stage = "note"
        elif draft.stage == "note":
            if not skip and typed:
                edit = replace(edit, note=editing.history_note(typed))
            stage = "source"
        elif draft.stage == "source":
            if not skip and typed:
                source = editing.parse_source(typed)
                if source.key is not None and editing.find_source(session, source) is None:
                    raise EditError("unknown_source", value=source.key)
                edit = replace(edit, source=source)
            stage = "preview"
        else:
            return  # already at the preview: its Confirm and Cancel buttons decide
        payload.update(edit.to_payload())
        drafts.update(draft, stage=stage, payload=payload, now=now)
        if stage == "preview":
            await self._send_preview(message, editing.preview(session, edit, now.date()), draft.id)
            return
        skip_keyboard = PreparedKeyboard(
            [[button(self.services.renderer.label("skip"), "es", draft.id)]]
        )
        await message.reply_text(
            self.services.renderer.render(f"admin/edit_ask_{stage}.html.j2"),
            reply_markup=skip_keyboard,
        )

    async def _confirm(
        self, session: Session, message: Message, draft: EditDraft, user_id: int
    ) -> None:
        actor = Actor.telegram(user_id)
        if draft.kind in ("set", "guided"):
            applied = editing.apply(
                session, Edit.from_payload(draft.payload), actor=actor, now=self.services.clock()
            )
            drafts.discard(session, draft)
            session.flush()
            view = self._reader_view(session, applied.record_type, applied.key)
            self._published(applied, user_id)
            await message.edit_text(
                self.services.renderer.render(
                    "admin/saved.html.j2", applied=applied, reader_view=rendered_html(view)
                ),
            )
        elif draft.kind == "figure":
            figure_edit = figure_editing.FigureEdit.from_payload(draft.payload)
            result = figure_editing.apply(
                session, figure_edit, actor=actor, now=self.services.clock()
            )
            drafts.discard(session, draft)
            self.services.records_changed(
                RecordChanged(RecordType.FIGURE, result.key, result.fields, actor)
            )
            await message.edit_text(
                self.services.renderer.render("admin/figure_saved.html.j2", result=result),
            )
        elif draft.kind == "import":
            await self.imports.confirm(session, message, draft, actor)

    async def _send_preview(self, message: Message, shown: Preview, draft_id: str) -> None:
        reader_view = self.presenter.text(_answer_for(shown))
        await self._reply(
            message,
            "admin/preview.html.j2",
            keyboard=confirm_keyboard(self, draft_id),
            preview=shown,
            reader_view=rendered_html(reader_view),
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
    return verb != "ok" or draft.stage == "preview"


def _answer_for(shown: Preview) -> a.Answer:
    """The readers' answer for the previewed record (its type follows the edit's kind)."""
    record, source = shown.record, shown.source
    if shown.edit.record_type is RecordType.PASS:
        return a.PassAnswer(RecordView(cast("BorderPass", record), source, stale=False))
    if shown.edit.record_type is RecordType.DEAL:
        return a.DealsAnswer((RecordView(cast("CommodityDeal", record), source, stale=False),))
    return a.FlightsAnswer((RecordView(cast("FlightRoute", record), source, stale=False),))


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
