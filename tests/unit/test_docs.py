"""The user's documentation stands on its own (issue 21 item 17): README.md and docs/ point to
nothing outside the repository (a clone has no ../shared), every relative link resolves, and the
contract's tables agree with the code (status codes, export columns, simulator faults)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.omnitron.simulator_state import FAULT_KEYS
from adapters.queries.merchant_export import EXPENSE_COLUMNS, ITEM_COLUMNS, ORDER_COLUMNS
from domain.statuses import OrderStatus, PackageStatus

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_no_document_points_outside_the_repository(path: Path) -> None:
    content = path.read_text(encoding="utf-8")
    assert "../shared" not in content and "shared/spec" not in content
    for target in LINK.findall(content):
        if "://" in target:
            continue
        assert (path.parent / target).resolve().exists(), f"{path.name}: broken link {target}"


def test_the_readme_names_the_contract_and_the_simulator() -> None:
    readme = text("README.md")
    assert "(docs/contract.md)" in readme and "(docs/simulator.md)" in readme


def test_the_contract_lists_every_status_code() -> None:
    contract = text("docs/contract.md")
    for status in OrderStatus:
        assert f"| {status.value} | {status.name} |" in contract, status
    packages = ", ".join(f"{s.name} {s.value}" for s in PackageStatus)
    assert packages in " ".join(contract.split()), "package statuses"


def test_the_contract_lists_the_export_columns_in_order() -> None:
    contract = " ".join(text("docs/contract.md").split())
    for name, columns in (
        ("merchant-orders.csv", ORDER_COLUMNS),
        ("merchant-order-items.csv", ITEM_COLUMNS),
        ("merchant-order-expenses.csv", EXPENSE_COLUMNS),
    ):
        documented = re.search(rf"`{re.escape(name)}`: `([^`]+)`", contract)
        assert documented is not None, name
        listed = [c.strip() for c in documented.group(1).split(",")]
        assert list(columns[: len(listed)]) == listed, name  # others may follow


def test_the_simulator_page_documents_every_fault_field() -> None:
    page = text("docs/simulator.md")
    for key in FAULT_KEYS:
        assert f"| `{key}` |" in page, key
    assert "PATCH /api/v1/order_items/{id}/" in page and "/sim/requests" in page
