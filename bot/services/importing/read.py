"""A file to import → its dataset: the bytes decoded, the format read, every item validated."""

from __future__ import annotations

import logging
from pathlib import Path, PurePath

from bot.services.importing.problems import ImportFileError, ImportProblem, Problems
from bot.services.importing.read_csv import read_csv
from bot.services.importing.read_json import read_json
from bot.services.importing.read_yaml import read_yaml
from bot.services.importing.validate import ImportedDataset, validate_csv, validate_document

logger = logging.getLogger(__name__)

FORMATS = (".json", ".yaml", ".yml", ".csv")


def read_import_file(path: Path) -> ImportedDataset:
    """Read a file to import; raise `ImportFileError` listing every problem found."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            [ImportProblem(path.name, f"cannot be read: {exc.strerror or exc}")]
        ) from None
    return read_import_bytes(path.name, content)


def read_import_bytes(name: str, content: bytes) -> ImportedDataset:
    """Read a document sent to the bot: `name` (its file name) tells the format."""
    origin = PurePath(name).name or "file"
    problems = Problems(origin)
    suffix = PurePath(origin).suffix.lower()
    if suffix not in FORMATS:
        what = f"{suffix} files" if suffix else "a file without an extension"
        raise problems.fail(
            f"cannot import {what}: use .json (an export backup), .yaml/.yml (like bot/data) "
            "or .csv (one section, as export writes it)"
        )
    text = _decode(content, problems)
    try:
        dataset = _read(suffix, text, problems)
    except RecursionError:
        raise problems.fail("is nested too deeply to be a dataset") from None
    logger.debug("Read %s: %d items", origin, dataset.item_count)
    return dataset


def _read(suffix: str, text: str, problems: Problems) -> ImportedDataset:
    if suffix == ".csv":
        return validate_csv(read_csv(text, problems), problems)
    if suffix == ".json":
        return validate_document(*read_json(text, problems), problems)
    return validate_document(*read_yaml(text, problems), problems)


def _decode(content: bytes, problems: Problems) -> str:
    try:
        text = content.decode("utf-8-sig")  # a spreadsheet's byte order mark is no problem
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise problems.fail(
            f"is not UTF-8 text (byte 0x{content[exc.start]:02x} cannot be read): save it as UTF-8",
            line=line,
        ) from None
    if "\x00" in text:
        raise problems.fail("is not a text file (it contains NUL bytes)")
    if not text.strip():
        raise problems.fail("is empty")
    return text
