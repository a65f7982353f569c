"""XLSX rendering of documents and summaries (openpyxl), for officers who edit in Excel.

Cell rules (reliability.md S7): amounts are numeric cells (Decimal, never float) with a
``#,##0.00`` format; codes, IDs and account numbers are text cells with the ``@`` format so
leading zeros survive; any text that a spreadsheet could read as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab, CR or NUL) is stored as a text cell with a leading single
quote (``shared.thai.excel_safe_text``) — the same rule in every export of this project.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.reporting.reports import Document
from shared.thai import excel_safe_text

MONEY_FORMAT = "#,##0.00"
TEXT_FORMAT = "@"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="E6E6E6")
_BOLD = Font(bold=True)


def _styles(wb: Workbook) -> None:
    """Named cell styles of the table, registered once (per-cell style objects are slow)."""
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    for name, number_format, alignment, bold in (
        ("ecase_text", "General", wrapped, False),
        ("ecase_code", TEXT_FORMAT, top, False),
        ("ecase_int", "General", Alignment(vertical="top", horizontal="center"), False),
        ("ecase_money", MONEY_FORMAT, top, False),
        ("ecase_total", "General", top, True),
        ("ecase_total_money", MONEY_FORMAT, top, True),
    ):
        wb.add_named_style(
            NamedStyle(
                name=name,
                number_format=number_format,
                alignment=alignment,
                border=_BORDER,
                font=Font(bold=bold),
            )
        )


def put(ws: Worksheet, row: int, col: int, value: Any, kind: str = "text") -> Cell:
    """Write one value by the project's cell rules (see the module docstring)."""
    cell = ws.cell(row=row, column=col)
    if value is None or value == "":
        cell.value = None
    elif kind == "money" or isinstance(value, Decimal):
        if not isinstance(value, Decimal):
            raise TypeError("amounts are written as Decimal")
        cell.value = value
        cell.number_format = MONEY_FORMAT
    elif kind == "int" and isinstance(value, int):
        cell.value = value
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    else:
        cell.value = excel_safe_text(str(value))
        if kind == "code":
            cell.number_format = TEXT_FORMAT
    return cell


def _merged_line(
    ws: Worksheet, row: int, ncols: int, text: str, *, bold: bool = False, size: int = 12
) -> None:
    cell = put(ws, row, 1, text)
    cell.font = Font(bold=bold, size=size)
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if ncols > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncols)


def _finish(wb: Workbook, created_at: dt.datetime, title: str) -> bytes:
    naive = created_at.astimezone(dt.UTC).replace(tzinfo=None)
    wb.properties.created = naive
    wb.properties.modified = naive
    wb.properties.creator = "E-Case"
    wb.properties.title = title[:250]
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def render(doc: Document) -> bytes:
    """The document as one worksheet: title block, the table, totals, words and signatures."""
    wb = Workbook()
    ws = wb.active
    ws.title = doc.sheet_name[:31]
    ncols = len(doc.columns)
    r = 1
    _merged_line(ws, r, ncols, doc.title, bold=True, size=14)
    for line in [*doc.header_lines]:
        r += 1
        _merged_line(ws, r, ncols, line)
    for line in doc.summary_lines:
        r += 1
        _merged_line(ws, r, ncols, line, bold=True)
    r += 2
    header_row = r
    for c, column in enumerate(doc.columns, start=1):
        cell = put(ws, r, c, column.header)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    _styles(wb)
    styles = [f"ecase_{c.kind}" for c in doc.columns]
    for values in doc.rows:
        r += 1
        for c, (value, column) in enumerate(zip(values, doc.columns, strict=True), start=1):
            put(ws, r, c, value, column.kind).style = styles[c - 1]
    if doc.total_row is not None:
        r += 1
        for c, (value, column) in enumerate(zip(doc.total_row, doc.columns, strict=True), start=1):
            money = isinstance(value, Decimal)
            put(ws, r, c, value, column.kind if money else "text").style = (
                "ecase_total_money" if money else "ecase_total"
            )
    if doc.words_line:
        r += 1
        _merged_line(ws, r, ncols, doc.words_line, bold=True)
    for sig in doc.signatures:
        r += 2
        _merged_line(ws, r, ncols, f"ลงชื่อ ........................................ {sig.get('label', '')}")
        r += 1
        name = sig.get("name") or "(.................................................)"
        _merged_line(ws, r, ncols, name if name.startswith("(") else f"({name})")
        r += 1
        _merged_line(
            ws, r, ncols, f"ตำแหน่ง {sig.get('position') or '........................................'}"
        )
    for line in doc.footer_lines:
        r += 1
        _merged_line(ws, r, ncols, line)
    total_weight = sum(c.weight for c in doc.columns)
    for c, column in enumerate(doc.columns, start=1):
        ws.column_dimensions[get_column_letter(c)].width = max(8, round(160 * column.weight / total_weight))
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if doc.orientation == "L" else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    return _finish(wb, doc.created_at, doc.title)


# --- summaries ---------------------------------------------------------------------------------------
def _table(ws: Worksheet, headers: Sequence[tuple[str, str, str]], rows: Iterable[dict[str, Any]]) -> None:
    """A plain sheet: one header row, then one row per item; ``headers`` = (key, heading, kind)."""
    for c, (_key, heading, _kind) in enumerate(headers, start=1):
        cell = put(ws, 1, c, heading)
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        ws.column_dimensions[get_column_letter(c)].width = max(12, min(40, len(heading) + 6))
    for r, item in enumerate(rows, start=2):
        for c, (key, _heading, kind) in enumerate(headers, start=1):
            value = item.get(key)
            if kind == "money" and value is not None:
                value = Decimal(value)
            put(ws, r, c, value, kind)
    ws.freeze_panes = "A2"


MEASURE_HEADERS = (
    ("cases", "จำนวนเคส", "int"),
    ("requested_amount", "จำนวนเงินที่ขอ (บาท)", "money"),
    ("approved_cases", "อนุมัติ (ราย)", "int"),
    ("approved_amount", "จำนวนเงินที่อนุมัติ (บาท)", "money"),
    ("paid_cases", "จ่ายสำเร็จ (ราย)", "int"),
    ("paid_amount", "จำนวนเงินที่จ่าย (บาท)", "money"),
    ("failed_cases", "จ่ายไม่สำเร็จ (ราย)", "int"),
    ("failed_amount", "จำนวนเงินที่จ่ายไม่สำเร็จ (บาท)", "money"),
)


def render_summary(summary: dict[str, Any], created_at: dt.datetime) -> bytes:
    """The management summary: totals, one sheet per breakdown, budgets and daily intake."""
    wb = Workbook()
    ws = wb.active
    ws.title = "สรุป"
    scope = [
        ("ปีงบประมาณ", str(summary["fiscal_year"]) if summary["fiscal_year"] else "ทุกปี"),
        ("เขต", summary["district_code"] or "ทุกเขต"),
    ]
    for r, (label, value) in enumerate(scope, start=1):
        put(ws, r, 1, label).font = _BOLD
        put(ws, r, 2, value, "code")
    for r, (key, heading, kind) in enumerate(MEASURE_HEADERS, start=len(scope) + 2):
        put(ws, r, 1, heading).font = _BOLD
        value = summary["totals"][key]
        put(ws, r, 2, Decimal(value) if kind == "money" else value, kind)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 20
    sheets = (
        ("ตามสถานะ", "by_status", (("status", "สถานะ", "code"), ("status_name", "ชื่อสถานะ", "text"))),
        (
            "ตามประเภทความช่วยเหลือ",
            "by_welfare_type",
            (("welfare_type_code", "รหัสประเภท", "code"), ("welfare_type_name", "ประเภทความช่วยเหลือ", "text")),
        ),
        ("ตามเขต", "by_district", (("district_code", "รหัสเขต", "code"), ("district_name", "เขต", "text"))),
        ("ตามเดือน", "by_month", (("month", "เดือน (ค.ศ.)", "code"),)),
        ("ตามปีงบประมาณ", "by_fiscal_year", (("fiscal_year", "ปีงบประมาณ", "int"),)),
    )
    for title, key, keys in sheets:
        _table(wb.create_sheet(title), [*keys, *MEASURE_HEADERS], summary[key])
    _table(
        wb.create_sheet("งบประมาณ"),
        (
            ("fiscal_year", "ปีงบประมาณ", "int"),
            ("district_code", "รหัสเขต", "code"),
            ("district_name", "เขต", "text"),
            ("allocated_amount", "งบประมาณที่ได้รับจัดสรร (บาท)", "money"),
            ("disbursed_amount", "เบิกจ่ายแล้ว (บาท)", "money"),
            ("share_disbursed", "ร้อยละที่เบิกจ่าย", "money"),
        ),
        summary["budgets"],
    )
    _table(
        wb.create_sheet("รับเรื่องรายวัน"),
        (("date", "วันที่", "date"), ("cases", "จำนวนเคส", "int")),
        summary["daily_intake"],
    )
    return _finish(wb, created_at, "สรุปผลการให้ความช่วยเหลือ")
