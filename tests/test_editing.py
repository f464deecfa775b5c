"""Editing services without Telegram: what an undo restores, and errors that name the mistake."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, select

from bot.db import session_scope
from bot.models import BorderPass
from bot.services import editing
from bot.services.answers import load_catalog
from bot.vocabulary import PassStatus
from tests.conftest import TODAY

if TYPE_CHECKING:
    from sqlalchemy import Engine

EDITOR, OTHER = "tg:1002", "tg:1004"


def nathu(engine: Engine) -> BorderPass:
    with Session(engine) as session:
        return session.exec(select(BorderPass).where(BorderPass.slug == "nathu-la")).one()


def set_(engine: Engine, text: str, *, actor: str = EDITOR, minutes: int = 0) -> editing.Applied:
    with session_scope(engine) as session:
        edit = editing.parse_set(session, load_catalog(session), text)
        return editing.apply(session, edit, actor=actor, now=TODAY + timedelta(minutes=minutes))


def undo(engine: Engine, *, actor: str = EDITOR, minutes: int = 0) -> editing.Applied:
    with session_scope(engine) as session:
        return editing.undo(session, actor=actor, now=TODAY + timedelta(minutes=minutes))


def test_an_undo_restores_source_as_of_and_who_updated_it(seeded_engine: Engine) -> None:
    before = nathu(seeded_engine).model_dump()
    set_(seeded_engine, "pass nathu-la status=open source=https://example.org/x")
    set_(seeded_engine, 'pass nathu-la season="May to November"', minutes=1)

    undo(seeded_engine, minutes=2)
    undo(seeded_engine, minutes=3)

    after = nathu(seeded_engine).model_dump()
    assert after.pop("version") == before.pop("version") + 4
    assert after == before


def test_an_undo_is_refused_once_someone_else_changed_the_record(seeded_engine: Engine) -> None:
    set_(seeded_engine, "pass nathu-la open")
    set_(seeded_engine, 'pass nathu-la season="May to November"', actor=OTHER, minutes=1)
    changed = nathu(seeded_engine).model_dump()

    with pytest.raises(editing.EditError) as refused:
        undo(seeded_engine, minutes=2)

    assert (refused.value.code, refused.value.details) == (
        "undo_conflict",
        {"key": "nathu-la", "field": None, "updated_by": OTHER},
    )
    assert nathu(seeded_engine).model_dump() == changed
    assert nathu(seeded_engine).status is PassStatus.OPEN


# --- errors that point at the mistake -------------------------------------------------------------


def set_error(engine: Engine, text: str) -> editing.EditError:
    with Session(engine) as session, pytest.raises(editing.EditError) as caught:
        editing.parse_set(session, load_catalog(session), text)
    return caught.value


def parsed_key(engine: Engine, text: str) -> str:
    with Session(engine) as session:
        return editing.parse_set(session, load_catalog(session), text).key


def test_a_mistyped_status_is_blamed_with_the_closest_statuses(seeded_engine: Engine) -> None:
    for text in ("pass nathu opne", "pass nathu-la opne", "pass nathu la oepn"):
        error = set_error(seeded_engine, text)
        assert (error.code, error.details["value"], error.details["suggestions"]) == (
            "bad_status",
            text.split()[-1],
            ("open",),
        ), text
    error = set_error(seeded_engine, "deal urea in_efect")
    assert (error.code, error.details["suggestions"]) == ("bad_status", ("in_effect",))
    with pytest.raises(editing.EditError) as caught:
        editing.parse_value(editing.KIND_NAMES["flight"], "status", "operatign")
    assert caught.value.details["suggestions"] == ("operating",)


def test_a_partial_name_names_one_record_or_asks_which(seeded_engine: Engine) -> None:
    assert parsed_key(seeded_engine, "pass nathu open") == "nathu-la"
    assert parsed_key(seeded_engine, "pass nathu la since=2026-05-01") == "nathu-la"
    assert parsed_key(seeded_engine, "pass shipki la open") == "shipki-la"
    for text, candidates in (
        ("pass la open", ("Shipki La", "Nathu La")),
        ("pass la opne", ("Shipki La", "Nathu La")),
        ("flight delhi operating", ("Shanghai–Delhi", "Delhi–Guangzhou", "Delhi–Shanghai")),
    ):
        error = set_error(seeded_engine, text)
        assert (error.code, error.details["candidates"]) == ("ambiguous", candidates), text
    error = set_error(seeded_engine, "pass atlantis opne")
    assert (error.code, error.details["name"]) == ("unknown_record", "atlantis")


def test_a_source_made_from_a_figures_web_address_exports(seeded_engine: Engine) -> None:
    from bot.services import figure_editing
    from bot.services.export import build_dataset

    with session_scope(seeded_engine) as session:
        edit = figure_editing.parse_add_figure(
            session, "india_fy FY2025-26 exports=18.1 source=https://www.example.org/fy26"
        )
        figure_editing.apply(session, edit, actor=EDITOR, now=TODAY)
    with Session(seeded_engine) as session:
        keys = [source.key for source in build_dataset(session).sources]
    assert "example-org-2026-11-21" in keys
