"""Editors and owners: roles, edits with preview and confirm, undo, imports."""

from bot.telegram.handlers.editors.edits import EditHandlers
from bot.telegram.handlers.editors.imports import ImportHandlers
from bot.telegram.handlers.editors.roles import RoleHandlers

__all__ = ["EditHandlers", "ImportHandlers", "RoleHandlers"]
