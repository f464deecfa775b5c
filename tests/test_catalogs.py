"""The Hindi catalogs against the templates: every message translated, nothing stale, every
placeholder and HTML tag kept (as `python -m devtools.messages check` reports)."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from bot.i18n import read_catalog
from bot.vocabulary import Language
from devtools import messages
from devtools.messages import check, extracted


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extracted()


def test_the_templates_have_messages_to_translate(template: Catalog) -> None:
    assert len([message for message in template if message.id]) > 500


def test_every_message_has_its_hindi(template: Catalog) -> None:
    assert check(Language.HI, template).missing == []


def test_no_translation_lost_a_placeholder_or_a_tag(template: Catalog) -> None:
    assert check(Language.HI, template).broken == []


def test_no_translation_is_left_without_its_message(template: Catalog) -> None:
    assert check(Language.HI, template).stale == []


def test_the_check_catches_a_lost_placeholder(
    monkeypatch: pytest.MonkeyPatch, template: Catalog
) -> None:
    catalog = read_catalog(Language.HI)
    message = catalog.get("from %(date)s")
    assert message is not None
    assert message.string == "%(date)s से"
    message.string = "से"  # the date dropped
    monkeypatch.setattr(messages, "read_catalog", lambda language: catalog)
    assert any("from %(date)s" in line for line in check(Language.HI, template).broken)
