"""S7: names typed like spreadsheet formulas reach every XLSX export neutralised (live, PostgreSQL).

The seeded cases are named ``=HYPERLINK(…)``, ``+66-2-…``, ``-1+1``, ``@SUM(…)`` (and one account
name is a formula): intake accepts them, as it should, since a name may begin with anything
printable.  Each export is downloaded through the gateway as the people who use it would, opened
with openpyxl (formulas kept, ``data_only=False``), and every cell is checked: no formula cells,
no text cell a spreadsheet would read as a formula unless it carries the quote prefix, amounts as
numbers, and the formula-like names present (so the check is not vacuous).
"""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from shared.thai import is_formula_like
from tests.badinput.live import FORMULA_ACCOUNT_NAME, FORMULA_NAMES, World

pytestmark = [pytest.mark.e2e]


def cells(data: bytes) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    return [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def neutralised_problems(data: bytes) -> list[str]:
    problems = []
    for cell in cells(data):
        where = f"{cell.parent.title}!{cell.coordinate}"
        if cell.data_type == "f":
            problems.append(f"{where} is a formula: {cell.value!r}")
        elif isinstance(cell.value, str) and is_formula_like(cell.value) and not cell.quotePrefix:
            problems.append(f"{where} reads as a formula: {cell.value!r}")
    return problems


def texts(data: bytes) -> list[str]:
    return [str(c.value).removeprefix("'") for c in cells(data) if isinstance(c.value, str)]


def numbers(data: bytes) -> list[Decimal]:
    return [
        Decimal(str(c.value)) for c in cells(data) if c.data_type == "n" and not isinstance(c.value, bool)
    ]


def test_every_xlsx_export_neutralises_formula_like_names(world: World) -> None:
    finance, head = world.client("finance.1008"), world.client("head.1008")
    batch, payout = world.ids["approval_batch_id"], world.ids["payout_batch_id"]
    exports = {
        "approval report": (finance, f"/api/reporting/batches/{batch}/approval-report.xlsx"),
        "ทค.1 KTB": (finance, f"/api/reporting/batches/{batch}/tk1-ktb.xlsx"),
        "ทค.1 other banks": (finance, f"/api/reporting/batches/{batch}/tk1-other.xlsx"),
        "K-corp 2 KTB": (finance, f"/api/reporting/batches/{batch}/kcorp2-ktb.xlsx"),
        "K-corp 2 other banks": (finance, f"/api/reporting/batches/{batch}/kcorp2-other.xlsx"),
        "payment review": (finance, f"/api/reporting/batches/{batch}/payment-review.xlsx"),
        "agenda": (head, "/api/reporting/districts/1008/agenda.xlsx"),
        "summary": (finance, "/api/reporting/summary.xlsx"),
        "KTB file (Direct)": (finance, f"/api/payment/batches/{payout}/files/ktb.xlsx"),
        "KTB file (Standard)": (finance, f"/api/payment/files/{world.ids['file_id']}.xlsx"),
    }
    problems: list[str] = []
    found: dict[str, set[str]] = {}
    for label, (client, path) in exports.items():
        r = client.call("GET", path)
        assert r.status_code == 200, f"{label}: {r.status_code} {r.text[:300]}"
        assert r.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ), label
        assert r.headers.get("Content-Disposition", "").startswith("attachment"), label
        problems += [f"{label}: {p}" for p in neutralised_problems(r.content)]
        text = "\n".join(texts(r.content))
        found[label] = {
            n for n in (*FORMULA_NAMES, FORMULA_ACCOUNT_NAME, "@SUM(1+1)*cmd|' /C calc'!A0") if n in text
        }
        if label == "approval report":
            assert Decimal("1000") in numbers(r.content), "amounts are numeric cells"
    assert not problems, "\n".join(problems)
    # The names did reach the exports that list payees (the check above is not vacuous).
    for label in ("approval report", "ทค.1 KTB", "payment review"):
        assert found[label] & set(FORMULA_NAMES), (label, found[label])
    assert FORMULA_ACCOUNT_NAME in found["KTB file (Direct)"]
    assert "@SUM(1+1)*cmd|' /C calc'!A0" in found["agenda"]
