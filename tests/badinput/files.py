"""Malicious and malformed files for the upload corpus (reliability.md S6), made in memory.

Every builder returns bytes.  Nothing here is a real exploit: the "zip bombs" are deflated
zeros or a central directory that lies about sizes, the XML attacks are the classic billion
laughs and external-entity shapes, the executable is the two-byte ``MZ`` header.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

import openpyxl

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
HEADER = ["Reference No./ DDA Ref 2", "Receiving Bank Code", "Receiving A/C No.", "Transfer Amount", "Status"]


def result_rows(rows: list[list[object]], header: list[str] = HEADER) -> list[list[object]]:
    return [header, *rows]


def csv_bytes(
    rows: list[list[object]], *, encoding: str = "utf-8", bom: bool = False, sep: str = ","
) -> bytes:
    text = "\r\n".join(sep.join(str(c) for c in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """A real workbook (openpyxl) with the rows on its first sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_xlsx(data: bytes, change: Callable[[str, bytes], tuple[str, bytes] | None]) -> bytes:
    """Copy a workbook's parts through ``change(name, content)`` (None drops the part)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            result = change(info.filename, src.read(info))
            if result is not None:
                dst.writestr(result[0], result[1])
    return out.getvalue()


def _valid() -> bytes:
    return xlsx_bytes(result_rows([["REF1", "014", "1234567891", "1001.00", "Success"]]))


def xlsx_with_sheet(xml: bytes) -> bytes:
    """A workbook whose first sheet's XML is replaced."""
    return rewrite_xlsx(_valid(), lambda n, c: (n, xml if n == "xl/worksheets/sheet1.xml" else c))


def xlsx_truncated_sheet() -> bytes:
    """Malformed XML: the sheet stops in the middle of a row."""
    sheet = zipfile.ZipFile(io.BytesIO(_valid())).read("xl/worksheets/sheet1.xml")
    return xlsx_with_sheet(sheet[: len(sheet) // 2])


def xlsx_billion_laughs() -> bytes:
    """The classic entity expansion: 10 levels of 10 references (10**9 "lol"s if expanded)."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    )
    return xlsx_with_sheet(xml.encode())


def xlsx_external_entity() -> bytes:
    xml = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
    )
    return xlsx_with_sheet(xml.encode())


def xlsx_not_xml_sheet() -> bytes:
    return xlsx_with_sheet(b"\x00\x01\x02 this is not XML at all")


def xlsx_ratio_bomb(size: int = 20 * 1024 * 1024) -> bytes:
    """One part of ``size`` zeros deflated to a few KB (ratio far below POI's 0.01)."""
    zeros = b"0" * size
    return rewrite_xlsx(_valid(), lambda n, c: (n, zeros) if n == "xl/worksheets/sheet1.xml" else (n, c))


def xlsx_lying_sizes(claimed: int = 3 * 1024**3) -> bytes:
    """Every central-directory entry claims ``claimed`` uncompressed bytes (the total is far over 100 MB)."""
    data = bytearray(_valid())
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) != -1:
        # central directory header: uncompressed size at offset 24 (4 bytes, little endian)
        struct.pack_into("<I", data, pos + 24, min(claimed, 0xFFFFFFFE))
        pos += 4
    return bytes(data)


def xlsx_many_entries(count: int = 1200) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_valid())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        for i in range(count):
            dst.writestr(f"xl/media/x{i}.bin", b"")
    return out.getvalue()


def xlsx_with_entry(name: str, *, symlink: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_valid())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (0o120777 << 16) | 0x20
        dst.writestr(info, "/etc/passwd" if symlink else "x")
    return out.getvalue()


def xlsx_without(part: str) -> bytes:
    return rewrite_xlsx(_valid(), lambda n, c: None if n == part else (n, c))


def zip_not_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    return out.getvalue()


def truncated_zip() -> bytes:
    data = _valid()
    return data[: len(data) // 2]


def fixed_width_truncated() -> bytes:
    """A KTB fixed-width echo (header + one detail) cut in the middle of the detail record."""
    header = "101000001006" + "0000001" + "0" * 19 + "01012568" + "C" + "0" * 8
    return (header.ljust(498) + "\r\n" + "102000001014" + "0" * 30).encode("ascii")
