"""Reading the import CSV files (spec 10.1, 10.2) with the standard library's `csv`: UTF-8, a
header line naming the columns, then one record per data row. Whole-file problems (encoding,
header) raise `CsvFileError`; a bad row (wrong number of fields, an empty mandatory field, a
control character the database could not store) is a row with an `error`, so the importer can
report it and go on or stop. A blank line is a row marked `blank`: skipped, not a failure.

Rows are numbered as Spryker's importers count them: row 1 is the first data row (the header is
not a row); messages also give the file's line, where the row starts."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

UTF16_BOMS = {codecs.BOM_UTF16_LE: "UTF-16 LE", codecs.BOM_UTF16_BE: "UTF-16 BE"}


class CsvFileError(ValueError):
    """The file cannot be read at all (nothing of it is applied)."""


@dataclass(frozen=True)
class CsvRow:
    number: int  # 1 = the first data row
    line: int  # the file's line where the row starts (the header is line 1)
    values: dict[str, str]
    error: str | None = None  # set for a malformed row: `where` + what is wrong
    blank: bool = False  # an empty line (or blanks only): skipped and counted as such

    def where(self, column: str | None = None) -> str:
        place = f"row {self.number} (line {self.line})"
        return f"{place}, column {column}" if column else place


@dataclass
class CsvFile:
    columns: list[str]
    rows: list[CsvRow]
    digest: str  # SHA-256 of the file's bytes: the same file gives the same row message ids
    notes: list[str] = field(default_factory=list)  # tolerated oddities (a UTF-8 BOM)


def _decode(data: bytes) -> tuple[str, list[str]]:
    notes = []
    for bom, name in UTF16_BOMS.items():
        if data.startswith(bom):
            raise CsvFileError(f"line 1: the file is {name} (byte order mark); save it as UTF-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        notes.append("line 1: a UTF-8 byte order mark (BOM) was found and ignored")
    try:
        return data.decode("utf-8"), notes
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise CsvFileError(
            f"line {line}: not valid UTF-8 (byte 0x{data[error.start]:02x} at column {column}); "
            "save the file as UTF-8"
        ) from None


def _header(names: list[str], required: Sequence[str], optional: Sequence[str]) -> list[str]:
    columns = [name.strip() for name in names]
    expected = ", ".join([*required, *(f"[{name}]" for name in optional)])
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise CsvFileError(f"line 1 (header): column {', '.join(duplicates)} appears twice")
    missing = [name for name in required if name not in columns]
    unknown = [name for name in columns if name not in (*required, *optional)]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(repr(u) for u in unknown)}")
        raise CsvFileError(f"line 1 (header): {'; '.join(problems)}; expected columns: {expected}")
    return columns


def read_csv(data: bytes, required: Sequence[str], optional: Sequence[str] = ()) -> CsvFile:
    """Parse a whole file: its header checked against `required` (all present) and `optional`
    (may be present; no other column is accepted), each row's values stripped of surrounding
    blanks, mandatory values non-empty."""
    text, notes = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise CsvFileError(f"line 1: no header; expected columns: {', '.join(required)}")
        columns = _header(header, required, optional)
        rows: list[CsvRow] = []
        line = reader.line_num + 1
        for number, record in enumerate(reader, start=1):
            rows.append(_row(number, line, record, columns, required))
            line = reader.line_num + 1
    except csv.Error as error:
        raise CsvFileError(f"line {reader.line_num}: {error}") from None
    digest = hashlib.sha256(data).hexdigest()
    return CsvFile(columns, rows, digest, notes)


def _row(
    number: int, line: int, record: list[str], columns: list[str], required: Sequence[str]
) -> CsvRow:
    blank = CsvRow(number, line, {})
    if len(record) <= 1 and not "".join(record).strip():  # no separator, nothing but blanks
        return CsvRow(number, line, {}, blank=True)
    if len(record) != len(columns):
        return CsvRow(
            number,
            line,
            {},
            f"{blank.where()}: {len(record)} fields, the header has {len(columns)}",
        )
    values = {name: cell.strip() for name, cell in zip(columns, record, strict=True)}
    for name in required:
        if not values[name]:
            return CsvRow(number, line, values, f"{blank.where(name)}: empty")
    for name, value in values.items():
        control = next((ch for ch in value if unicodedata.category(ch) == "Cc"), None)
        if control is not None:  # NUL cannot be stored at all; the others are never meant
            problem = f"control character U+{ord(control):04X}"
            return CsvRow(number, line, values, f"{blank.where(name)}: {problem}")
    return CsvRow(number, line, values)
