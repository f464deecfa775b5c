"""Documents editors send: the import plan first, applied on Confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services import drafts
from bot.services.events import RecordChanged
from bot.telegram.handlers.access import private_sender, require_role
from bot.telegram.handlers.base import answers_refusals
from bot.telegram.handlers.editors.base import EditorHandlers, Step, confirm_keyboard
from bot.vocabulary import RecordType, Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Update
    from telegram.ext import ContextTypes

    from bot.models import EditDraft

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 20
# The record type of each table an import can change, for its change events.
TABLE_RECORD_TYPES = {
    "trade_figure": RecordType.FIGURE,
    "border_pass": RecordType.PASS,
    "commodity_deal": RecordType.DEAL,
    "flight_route": RecordType.FLIGHT,
    "context_note": RecordType.NOTE,
    "trade_composition": RecordType.COMPOSITION,
}


class ImportHandlers(EditorHandlers):
    @answers_refusals
    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender = private_sender(update, "document import")
        if sender is None:
            return
        message, user = sender
        # The role is checked before the file is fetched, and again with the plan it leads to.
        await self.services.run(
            lambda session: require_role(session, user.id, Role.EDITOR, "document import")
        )
        document = message.document
        if document is None:
            return
        if (document.file_size or 0) > MAX_IMPORT_BYTES:
            text = self.render("admin/import_too_large.html.j2", limit=MAX_IMPORT_BYTES // 1024)
            await self.reply(message, text)
            return
        name = document.file_name or "upload.csv"
        content = bytes(await (await document.get_file()).download_as_bytearray())
        chat_id = message.chat.id
        from bot.services import importing  # the importer loads only when a file arrives

        def plan(session: Session) -> Step:
            require_role(session, user.id, Role.EDITOR, "document import")
            planned = importing.plan_import(session, importing.read_import_bytes(name, content))
            payload = {"name": name, "content": content.decode("utf-8")}
            draft = self._draft(session, chat_id, user.id, "import", payload)
            return self._step(
                "admin/import_plan.html.j2",
                name=name,
                plan=planned,
                keyboard=confirm_keyboard(self, draft.id),
            )

        try:
            step = await self.services.run(plan)
        except importing.ImportFileError as error:
            step = self._step(
                "admin/import_errors.html.j2",
                name=name,
                problems=error.problems[:MAX_PROBLEMS_SHOWN],
                more=max(0, len(error.problems) - MAX_PROBLEMS_SHOWN),
            )
        await self._show(message, step)

    def confirm(self, session: Session, draft: EditDraft, actor: str) -> Step:
        """Apply a confirmed import draft (in the press's unit of work)."""
        from bot.services import importing

        dataset = importing.read_import_bytes(
            draft.payload["name"], draft.payload["content"].encode("utf-8")
        )
        plan = importing.apply_import(session, dataset)
        drafts.discard(session, draft)
        touched = [*plan.changed_records, *((row.kind, row.key) for row in plan.inserted)]
        changes = []
        for table, key in dict.fromkeys(touched):
            record_type = TABLE_RECORD_TYPES.get(table)
            if record_type is not None:
                fields = tuple(c.field for c in plan.changes if (c.kind, c.key) == (table, key))
                changes.append(RecordChanged(record_type, key, fields, actor))
        text = self.render("admin/import_applied.html.j2", name=draft.payload["name"], plan=plan)
        return Step(text, in_place=True, changes=tuple(changes))
