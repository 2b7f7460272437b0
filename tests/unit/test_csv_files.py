"""The import files' reader (spec 10): header, BOM, blank lines, encoding and empty fields, each
named by row (1 = the first data row), line and column."""

from __future__ import annotations

import re

import pytest

from flows.csv_files import CsvFileError, read_csv
from flows.csv_import import PROCESS_COLUMNS, STATUS_COLUMNS, STATUS_OPTIONAL, import_processes

HEADER = b"merchant_order_item_reference,merchant_order_item_oms_event_state\n"


def read(data: bytes) -> list[tuple[int, int, dict[str, str], str | None]]:
    parsed = read_csv(data, STATUS_COLUMNS, STATUS_OPTIONAL)
    return [(r.number, r.line, r.values, r.error) for r in parsed.rows]


def test_rows_are_numbered_from_the_first_data_row_with_their_line() -> None:
    rows = read(HEADER + b'A--1,ship\r\n"B--2"," cancel by merchant "\n')
    assert rows == [
        (1, 2, {STATUS_COLUMNS[0]: "A--1", STATUS_COLUMNS[1]: "ship"}, None),
        (2, 3, {STATUS_COLUMNS[0]: "B--2", STATUS_COLUMNS[1]: "cancel by merchant"}, None),
    ]


def test_optional_columns_in_any_order() -> None:
    data = b"merchant_reference,merchant_order_item_oms_event_state,merchant_order_item_reference\n"
    rows = read(data + b"MER1,ship,A--1\n")
    assert rows[0][2] == {
        "merchant_reference": "MER1",
        STATUS_COLUMNS[1]: "ship",
        STATUS_COLUMNS[0]: "A--1",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"item,event\nA,ship\n", "line 1 (header): missing merchant_order_item_reference"),
        (HEADER.rstrip(b"\n") + b",colour\nA,ship,red\n", "unknown 'colour'"),
        (
            b"merchant_order_item_reference,merchant_order_item_reference,"
            b"merchant_order_item_oms_event_state\n",
            "column merchant_order_item_reference appears twice",
        ),
        (b"", "line 1: no header"),
        (b"\xff\xfem\x00", "the file is UTF-16 LE"),
        (HEADER + b"A--1,ship\nB--\xe92,ship\n", "line 3: not valid UTF-8 (byte 0xe9 at column 4)"),
        (HEADER + b'A--1,"ship\n', "line 2: unexpected end of data"),
    ],
)
def test_whole_file_problems_name_the_line(data: bytes, message: str) -> None:
    with pytest.raises(CsvFileError, match=re.escape(message)):
        read_csv(data, STATUS_COLUMNS, STATUS_OPTIONAL)


def test_a_utf8_bom_is_ignored_with_a_note() -> None:
    parsed = read_csv(b"\xef\xbb\xbf" + HEADER + b"A--1,ship\n", STATUS_COLUMNS)
    assert parsed.rows[0].values[STATUS_COLUMNS[0]] == "A--1"
    assert parsed.notes == ["line 1: a UTF-8 byte order mark (BOM) was found and ignored"]


def test_bad_rows_are_row_errors_naming_row_line_and_column() -> None:
    data = HEADER + b"A--1,ship\n\nB--2\n,ship\nC--3,ship,x\n   \nD--4,ship\n,\nE\x00,ship\n"
    rows = read(data)
    errors = [error for _, _, _, error in rows]
    assert errors == [
        None,
        None,  # blank: skipped, not an error
        "row 3 (line 4): 1 fields, the header has 2",
        "row 4 (line 5), column merchant_order_item_reference: empty",
        "row 5 (line 6): 3 fields, the header has 2",
        None,  # blanks only
        None,
        "row 8 (line 9), column merchant_order_item_reference: empty",  # "," is not blank
        "row 9 (line 10), column merchant_order_item_reference: control character U+0000",
    ]
    parsed = read_csv(data, STATUS_COLUMNS, STATUS_OPTIONAL)
    assert [r.number for r in parsed.rows if r.blank] == [2, 6]
    assert rows[6][:2] == (7, 8)


@pytest.mark.parametrize("control", ["\x00", "\x07", "\t", "\n", "\x1b", "\x7f", "\x85"])
def test_a_control_character_inside_a_field_is_a_row_error(control: str) -> None:
    data = HEADER + f'"A{control}1",ship\nB--2,ship\n'.encode()
    rows = read(data)
    assert rows[0][3] == (
        "row 1 (line 2), column merchant_order_item_reference: control character "
        f"U+{ord(control):04X}"
    )
    assert rows[1][3] is None


def test_a_quoted_field_over_two_lines_keeps_the_line_it_starts_on() -> None:
    rows = read(HEADER + b'"A--1","cancel\nby merchant"\nB--2,\n')
    assert rows[0][2][STATUS_COLUMNS[1]] == "cancel\nby merchant"
    assert rows[0][3] == (  # a line break inside a field is a control character
        "row 1 (line 2), column merchant_order_item_oms_event_state: control character U+000A"
    )
    assert rows[1][:2] == (2, 4)
    assert rows[1][3] == "row 2 (line 4), column merchant_order_item_oms_event_state: empty"


def test_the_digest_follows_the_bytes() -> None:
    one = read_csv(HEADER + b"A--1,ship\n", STATUS_COLUMNS)
    again = read_csv(HEADER + b"A--1,ship\n", STATUS_COLUMNS)
    other = read_csv(HEADER + b"A--1,deliver\n", STATUS_COLUMNS)
    assert one.digest == again.digest != other.digest


class NoDatabase:
    """import_processes' validation runs before it opens a transaction; this engine stands in
    for the database only when every row is invalid (nothing to write)."""

    def begin(self) -> NoDatabase:
        return self

    def __enter__(self) -> NoDatabase:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def test_process_rows_empty_field_unknown_process_and_duplicate_merchant() -> None:
    data = (
        b"merchant_reference,merchant_oms_process_name\n"
        b"MER1,NoSuchMachine\n"
        b",MerchantDefaultStateMachine\n"
        b"MER2,\n"
    )
    parsed = read_csv(data, PROCESS_COLUMNS)
    lines: list[str] = []
    known = {"MerchantDefaultStateMachine", "MainMerchantStateMachine"}
    result = import_processes(parsed, NoDatabase(), known, lines.append)  # type: ignore[arg-type]
    assert lines == [
        "row 1 (line 2), column merchant_oms_process_name: unknown process 'NoSuchMachine' "
        "(known: MainMerchantStateMachine, MerchantDefaultStateMachine)",
        "row 2 (line 3), column merchant_reference: empty",
        "row 3 (line 4), column merchant_oms_process_name: empty",
    ]
    assert (result.succeeded, result.tried, result.failed) == (0, 3, [1, 2, 3])
    assert result.line == "Rows processed: 0/3"
