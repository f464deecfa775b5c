"""Documents editors send: the import plan first, applied on Confirm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services import drafts
from bot.services.events import RecordChanged
from bot.telegram.handlers.editors.base import EditorHandlers, confirm_keyboard
from bot.vocabulary import RecordType, Role

if TYPE_CHECKING:
    from sqlmodel import Session
    from telegram import Message, Update
    from telegram.ext import ContextTypes

    from bot.models import EditDraft

MAX_IMPORT_BYTES = 2 * 1024 * 1024
# The record type of each table an import can change, for its change events.
TABLE_RECORD_TYPES = {
    "trade_figure": RecordType.FIGURE,
    "border_pass": RecordType.PASS,
    "commodity_deal": RecordType.DEAL,
    "flight_route": RecordType.FLIGHT,
    "context_note": RecordType.NOTE,
}


class ImportHandlers(EditorHandlers):
    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        allowed = await self._allowed(update, Role.EDITOR, "document import")
        if allowed is None:
            return
        message, user = allowed
        document = message.document
        if document is None:
            return
        if (document.file_size or 0) > MAX_IMPORT_BYTES:
            await self._reply(
                message, "admin/import_too_large.html.j2", limit=MAX_IMPORT_BYTES // 1024
            )
            return
        from bot.services import importing  # the importer loads only when a file arrives

        name = document.file_name or "upload.csv"
        content = bytes(await (await document.get_file()).download_as_bytearray())
        try:
            dataset = importing.read_import_bytes(name, content)
            with self.services.session() as session:
                plan = importing.plan_import(session, dataset)
                payload = {"name": name, "content": content.decode("utf-8")}
                draft = self._draft(session, message, user, "import", payload)
        except importing.ImportFileError as error:
            await self._reply(
                message,
                "admin/import_errors.html.j2",
                name=name,
                problems=error.problems[:20],
                more=max(0, len(error.problems) - 20),
            )
            return
        await self._reply(
            message,
            "admin/import_plan.html.j2",
            name=name,
            plan=plan,
            keyboard=confirm_keyboard(self, draft.id),
        )

    async def confirm(
        self, session: Session, message: Message, draft: EditDraft, actor: str
    ) -> None:
        from bot.services import importing

        dataset = importing.read_import_bytes(
            draft.payload["name"], draft.payload["content"].encode("utf-8")
        )
        plan = importing.apply_import(session, dataset)
        drafts.discard(session, draft)
        touched = [*plan.changed_records, *((row.kind, row.key) for row in plan.inserted)]
        for table, key in dict.fromkeys(touched):
            record_type = TABLE_RECORD_TYPES.get(table)
            if record_type is not None:
                fields = tuple(c.field for c in plan.changes if (c.kind, c.key) == (table, key))
                self.services.records_changed(RecordChanged(record_type, key, fields, actor))
        await message.edit_text(
            self.services.renderer.render(
                "admin/import_applied.html.j2", name=draft.payload["name"], plan=plan
            ),
        )
