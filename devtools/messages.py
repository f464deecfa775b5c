"""The translatable messages: extracted from the templates (and the renderer's own words) as
`babel.cfg` says, and set beside each language's catalogs.

    python -m devtools.messages check     # what is missing, stale or broken, per language
    python -m devtools.messages update    # write bot/locale/messages.pot (not committed) and
                                          # each language's untranslated messages to new.po

The test suite runs the same check (tests/test_i18n.py), so a template string without a Hindi
translation, or a translation that lost a placeholder, fails CI.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from bot.i18n import BABEL_LOCALES, SOURCE_LANGUAGE, catalog_files, read_catalog
from bot.resources import locale_dir
from bot.vocabulary import Language

ROOT = Path(__file__).resolve().parent.parent
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")
_TAG = re.compile(r"</?([a-z]+)[^>]*>")


def extracted() -> Catalog:
    """Every message the templates and the renderer can show, with where each is used."""
    template = Catalog(domain="messages", project="Trade Watch", fuzzy=False)
    method_map = [("templates/**.j2", "jinja2"), ("bot/rendering.py", "python")]
    options_map = {"templates/**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    for filename, line, message, comments, context in extract_from_dir(
        ROOT, method_map=method_map, options_map=options_map
    ):
        template.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return template


@dataclass
class Problems:
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.stale or self.broken)


def check(language: Language, template: Catalog | None = None) -> Problems:
    """What `language`'s catalogs lack (untranslated or fuzzy), hold in vain (no template uses
    it) or got wrong (a placeholder or an HTML tag of the message lost or added)."""
    template = template or extracted()
    translated = read_catalog(language)
    problems = Problems()
    for message in template:
        if not message.id:
            continue
        found = translated.get(message.id, message.context)
        forms = _forms(found.string) if found is not None and found.string else ()
        if found is None or not forms or not all(forms) or found.fuzzy:
            problems.missing.append(str(message.id))
            continue
        # A plural message's forms each say what its plural source says.
        source = _forms(message.id)[-1]
        for pattern in (_PLACEHOLDER, _TAG):
            if any(sorted(pattern.findall(source)) != sorted(pattern.findall(f)) for f in forms):
                problems.broken.append(f"{message.id!r} → {found.string!r}")
                break
    used = {(message.id, message.context) for message in template}
    problems.stale = [
        str(message.id)
        for message in translated
        if message.id and (message.id, message.context) not in used
    ]
    return problems


def _forms(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (text,) if isinstance(text, str) else tuple(text)


def update() -> None:
    """Write the template catalog, and the untranslated messages of each language to its
    `new.po` for translators (to be moved into an area's catalog once translated)."""
    template = extracted()
    with (locale_dir() / "messages.pot").open("wb") as file:
        write_po(file, template, width=100, sort_by_file=True)
    for language in Language:
        if language is SOURCE_LANGUAGE:
            continue
        missing = set(check(language, template).missing)
        new = Catalog(locale=BABEL_LOCALES[language], domain="messages", project="Trade Watch")
        for message in template:
            if str(message.id) in missing:
                new.add(message.id, "", message.locations, context=message.context)
        target = locale_dir() / language.value / "LC_MESSAGES" / "new.po"
        if len(new):
            with target.open("wb") as file:
                write_po(file, new, width=100, omit_header=False)
        print(f"{language.value}: {len(new)} to translate in {target.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("check", "update"))
    action = parser.parse_args().action
    if action == "update":
        update()
        return 0
    failed = False
    for language in Language:
        if language is SOURCE_LANGUAGE:
            continue
        problems = check(language)
        files = ", ".join(path.name for path in catalog_files(language))
        print(f"{language.value} ({files}): {len(problems.missing)} missing, ", end="")
        print(f"{len(problems.stale)} stale, {len(problems.broken)} broken")
        for kind in ("missing", "stale", "broken"):
            for text in getattr(problems, kind):
                print(f"  {kind}: {text}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
