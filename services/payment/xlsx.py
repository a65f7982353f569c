"""A minimal, fast and deterministic .xlsx writer for one table (the KTB Excel register, spec §4).

openpyxl's write-only mode needs ~35 s for 100,000 rows of nine styled cells (each style
assignment is looked up per cell), far above the 10 s target of the payment issue.  The register
only needs inline-string cells, numeric cells and five fixed cell styles, so the SpreadsheetML
parts are written directly: ~1 s for 100,000 rows.  The output is byte-for-byte reproducible
(fixed part order and zip timestamps), so the same lines always give the same SHA-256.  Tests
read every file back with openpyxl (tests/payment/unit/test_ktb.py).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import IntEnum

from shared.thai import is_formula_like

__all__ = ["Style", "amount_cell", "text_cell", "write_table"]


class Style(IntEnum):
    """Indexes into ``cellXfs`` of :data:`_STYLES`."""

    DEFAULT = 0
    TEXT = 1  # number format "@" (text): leading zeros survive editing
    HEADING = 2  # text, bold
    TEXT_QUOTED = 3  # text with the quote prefix: Excel never reads it as a formula
    AMOUNT = 4  # built-in number format 2, "0.00"


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Tahoma"/></font>'
    '<font><b/><sz val="11"/><name val="Tahoma"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>'
    '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/>'
    "</Relationships>"
)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip timestamps fixed: the bytes depend on the content only


Cell = tuple[object, Style]


_FORMULA_FIRST = frozenset("=+-@\t\r\0")


def _cell(value: object, style: Style) -> str:
    # No "r" reference on cells: it is optional in SpreadsheetML and every cell of a row is
    # written in order (an empty one as <c/>), which keeps 100,000 rows fast to write.
    if type(value) is str and value:
        first = value[0]
        if (first in _FORMULA_FIRST or first.isspace()) and is_formula_like(value):
            style = Style.TEXT_QUOTED
        if "&" in value or "<" in value or ">" in value or '"' in value:
            value = value.translate(_ESCAPES)
        return f'<c s="{style:d}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    if value is None or value == "":
        return f'<c s="{style:d}"/>'
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        return f'<c s="{style:d}"><v>{value:f}</v></c>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<c s="{style:d}"><v>{value}</v></c>'
    raise TypeError(f"unsupported cell value {type(value).__name__}")


def text_cell(value: str) -> str:
    """A text cell (format "@"; quote prefix when it looks like a formula); empty → an empty cell."""
    return _cell(value, Style.TEXT)


def amount_cell(value: Decimal) -> str:
    """A numeric cell shown with two decimals (the exact Decimal is written)."""
    return _cell(value, Style.AMOUNT)


def _sheet(rows: Iterable[Sequence[Cell] | str], widths: Sequence[int]) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1)
    )
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    ]
    cell = _cell
    for r, row in enumerate(rows, start=1):
        if isinstance(row, str):  # cells rendered by the caller with text_cell / amount_cell
            parts.append(f'<row r="{r}">{row}</row>')
        else:
            parts.append(f'<row r="{r}">{"".join([cell(value, style) for value, style in row])}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def write_table(
    rows: Iterable[Sequence[Cell] | str],
    *,
    sheet_name: str,
    widths: Sequence[int] = (),
    created: str = "2000-01-01T00:00:00Z",
) -> bytes:
    """An .xlsx with one sheet holding ``rows`` of ``(value, Style)`` cells (str, int, Decimal or None),
    or of cells already rendered with :func:`text_cell` / :func:`amount_cell` (a ``str`` per row)."""
    name = sheet_name.translate(_ESCAPES)[:31]
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>E-Case</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    parts = (
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("docProps/core.xml", core),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
        ("xl/worksheets/sheet1.xml", _sheet(rows, widths)),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part, text in parts:
            info = zipfile.ZipInfo(part, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, text.encode("utf-8"), compresslevel=1)
    return buffer.getvalue()
