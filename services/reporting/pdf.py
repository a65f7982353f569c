"""PDF rendering of a :class:`~services.reporting.reports.Document` with fpdf2.

Thai needs its vowels and tone marks placed by the font's OpenType rules, so text goes through
HarfBuzz (``set_text_shaping``) with Sarabun from the ``fontpkg-sarabun`` package, embedded
(subset) in the file.  Everything installs with pip alone.

fpdf2's ``cell()`` costs about 1.5 ms of Python per shaped cell, too slow for a 2,000-line
report (target 5 s).  Table cells therefore go through ``ThaiPDF.text_cell``, which shapes with
the same fpdf2 font machinery (``TTFFont.shape_text``: HarfBuzz, the embedded subset) but writes
the text operators itself, once per distinct (text, font, box), and draws a repeated cell (the
district, the welfare type, an amount) by translating them inside ``q``/``Q``.  Titles and
signatures still use ``cell()``.  Two more adjustments to fpdf2 (pinned below 2.9 in
pyproject.toml, checked by the tests that render and read the PDFs): the Unicode bidi pass is
skipped for text without right-to-left characters, and glyphs that shaping adds get an empty
ToUnicode entry (``_map_extra_glyphs``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fontpkg_sarabun import ROOT as SARABUN_ROOT
from fpdf import FPDF
from fpdf.enums import TextDirection

from services.reporting.reports import Document
from shared.thai import format_baht

FONT = "Sarabun"
FONT_FILES = {
    "": SARABUN_ROOT / "files" / "Sarabun-Regular.ttf",
    "B": SARABUN_ROOT / "files" / "Sarabun-Bold.ttf",
}
MARGIN = 12.0
PT_TO_MM = 25.4 / 72
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


class ThaiPDF(FPDF):  # type: ignore[misc]
    """A4 pages with Sarabun, HarfBuzz shaping, "หน้า n/N" at the top, and fast repeated cells."""

    def __init__(self, orientation: str = "L") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        for style, path in FONT_FILES.items():
            self.add_font(FONT, style=style, fname=str(path))
        self.set_text_shaping(True)
        self.alias_nb_pages()
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN + 4, MARGIN)
        self.single_resources_object = True  # every page lists both fonts: text_cell writes operators itself
        self._runs: dict[tuple[Any, ...], str] = {}
        self._widths: dict[tuple[str, str, float], float] = {}

    # --- fpdf2 hooks -----------------------------------------------------------------------------
    def header(self) -> None:
        """The page number "หน้า n/N" at the top right, as in the manual's printouts."""
        style, size = self.font_style, self.font_size_pt
        self.set_font(FONT, "", 9)
        self.set_xy(self.l_margin, 7)
        self.cell(self.epw, 5, f"หน้า {self.page_no()}/{self.str_alias_nb_pages}", align="R")
        self.set_font(FONT, style, size)
        self.set_xy(self.l_margin, self.t_margin)

    def _preload_bidirectional_text(self, text: str, markdown: bool) -> Any:
        if not self.text_shaping or _RTL.search(text):
            return super()._preload_bidirectional_text(text, markdown)
        self.text_shaping["paragraph_direction"] = TextDirection.LTR
        self.text_shaping["fragment_direction"] = TextDirection.LTR
        return self._preload_font_styles(text, markdown)

    def output(self, *args: Any, **kwargs: Any) -> Any:
        """The PDF bytes, after giving every glyph a ToUnicode entry."""
        self._map_extra_glyphs()
        return super().output(*args, **kwargs)

    def _map_extra_glyphs(self) -> None:
        """Map the glyphs that shaping adds to an empty string in the ToUnicode CMap.

        HarfBuzz draws SARA AM (ำ) as NIKHAHIT + SARA AA: two glyphs for one character.  fpdf2
        gives the character to the first glyph and leaves the second without an entry, so text
        extraction and copy-paste show a stray control character ("จำ\x03นวน").  With an empty
        entry they read "จำนวน".
        """
        for font in self.fonts.values():
            subset = getattr(font, "subset", None)
            table = getattr(subset, "_char_id_per_glyph", None)
            if not isinstance(table, dict):
                continue
            for glyph in [g for g in table if g is not None and type(g.unicode) is tuple and not g.unicode]:
                code = table.pop(glyph)
                table[type(glyph)(glyph.glyph_id, _NoText(), glyph.glyph_name, glyph.glyph_width)] = code

    # --- text ------------------------------------------------------------------------------------
    def text_width(self, text: str) -> float:
        """The shaped width of ``text`` in the current font (cached)."""
        key = (text, self.font_style, self.font_size_pt)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = self.get_string_width(text)
        return width

    def fits(self, text: str, width: float) -> bool:
        """Whether ``text`` fits in ``width`` on one line.

        Sarabun's Thai marks have no advance, so the sum of the characters' advances equals the
        shaped width (kerning aside); only a text within 3 % of the limit is shaped to be sure.
        """
        try:
            cw = self.current_font.cw
            estimate = sum(map(cw.__getitem__, map(ord, text))) * self.font_size_pt * 0.001 / self.k
        except (KeyError, IndexError, TypeError, AttributeError):
            return self.text_width(text) <= width
        if estimate * 1.03 <= width:
            return True
        return self.text_width(text) <= width

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of ``text`` no wider than ``width``: break at spaces, else between characters."""
        if not text or self.fits(text, width):
            return [text]
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self.text_width(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if self.text_width(word) <= width:
                current = word
                continue
            for cluster in _clusters(word):
                if current and self.text_width(current + cluster) > width:
                    lines.append(current)
                    current = ""
                current += cluster
        if current:
            lines.append(current)
        return lines

    def text_cell(self, w: float, h: float, text: str, align: str = "L") -> None:
        """One line of text in a ``w`` x ``h`` box at the current position (no border); x moves on.

        The text is shaped once per (text, font, box) and its operators, relative to the box,
        are drawn translated to each place it appears.
        """
        if text:
            key = (
                text,
                self.font_family,
                self.font_style,
                self.font_size_pt,
                round(w, 3),
                round(h, 3),
                align,
            )
            ops = self._runs.get(key)
            if ops is None:
                ops = self._runs[key] = self._text_ops(text, w, h, align)
            k = self.k
            self._out(f"q 1 0 0 1 {self.x * k:.2f} {(self.h - self.y) * k:.2f} cm {ops} Q")
        self.x += w

    def _text_ops(self, text: str, w: float, h: float, align: str) -> str:
        """PDF operators drawing ``text`` in a box whose top-left corner is the origin.

        Follows fpdf2's own shaped rendering (``Fragment.render_with_text_shaping``): glyphs
        from HarfBuzz via ``TTFFont.shape_text``, a text matrix wherever a glyph is offset.
        ASCII (digits, codes) is drawn unshaped, as fpdf2 does with shaping off.
        """
        font = self.current_font
        size_pt = self.font_size_pt
        k = self.k
        unit = font.scale * size_pt / 1000 / k  # font units -> mm
        if text.isascii():
            codes = [font.subset.pick(ord(c)) for c in text]
            glyphs = [
                {
                    "mapped_char": code,
                    "x_advance": font.cw[ord(c)] / font.scale,
                    "x_offset": 0,
                    "y_offset": 0,
                    "y_advance": 0,
                    "force_positioning": False,
                }
                for c, code in zip(text, codes, strict=True)
            ]
        else:
            glyphs = font.shape_text(text, size_pt, self.text_shaping)
        width = sum(g["x_advance"] for g in glyphs if g["mapped_char"] is not None) * unit
        if align == "R":
            x = w - self.c_margin - width
        elif align == "C":
            x = (w - width) / 2
        else:
            x = self.c_margin
        y = 0.5 * h + 0.3 * self.font_size  # the baseline, downwards from the top
        color = self.text_color.serialize().lower()
        ops = [f"{color} BT /F{font.i} {size_pt:.2f} Tf {x * k:.2f} {-y * k:.2f} Td"]
        run = ""
        for g in glyphs:
            if g["mapped_char"] is None:  # a glyph the font does not have
                continue
            if g["x_offset"] or g["y_offset"]:
                if run:
                    ops.append(f"({font.escape_text(run)}) Tj")
                    run = ""
                ox, oy = x + g["x_offset"] * unit, y - g["y_offset"] * unit
                ops.append(f"1 0 0 1 {ox * k:.2f} {-oy * k:.2f} Tm")
            run += chr(g["mapped_char"])
            x += g["x_advance"] * unit
            y += g["y_advance"] * unit
            if g["force_positioning"]:
                if run:
                    ops.append(f"({font.escape_text(run)}) Tj")
                    run = ""
                ops.append(f"1 0 0 1 {x * k:.2f} {-y * k:.2f} Tm")
        if run:
            ops.append(f"({font.escape_text(run)}) Tj")
        ops.append("ET")
        return " ".join(ops)

    def box(self, x: float, y: float, w: float, h: float, *, fill: bool = False) -> None:
        """A table cell's frame (``rect`` without fpdf2's per-call argument handling)."""
        k = self.k
        self._out(f"{x * k:.2f} {(self.h - y) * k:.2f} {w * k:.2f} {-h * k:.2f} re {'B' if fill else 'S'}")

    def centered_lines(self, lines: Sequence[str], *, style: str, size: float) -> None:
        """Paragraph lines centred across the page, wrapped where too long."""
        self.set_font(FONT, style, size)
        line_h = size * PT_TO_MM * 1.55
        for line in lines:
            for part in self.wrap(line, self.epw):
                self.set_x(self.l_margin)
                self.cell(self.epw, line_h, part, align="C")
                self.ln(line_h)


class _NoText(tuple):  # type: ignore[type-arg]
    """The Unicode text of a glyph that stands for no character of its own (see ``_map_extra_glyphs``).

    fpdf2 writes a ToUnicode entry for a glyph whose text has a length; iterating this one
    yields nothing, so the entry maps the glyph's code to the empty string.
    """

    def __len__(self) -> int:
        return 1

    def __iter__(self) -> Any:
        return iter(())


def _clusters(word: str) -> list[str]:
    """Split a word into grapheme clusters (a Thai consonant with its vowel and tone marks)."""
    out: list[str] = []
    for ch in word:
        if out and unicodedata.category(ch) in ("Mn", "Mc", "Me"):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _cell_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        return format_baht(value)
    return str(value)


class _Table:
    """Lays out the document's one table over as many pages as it needs, header repeated."""

    def __init__(self, pdf: ThaiPDF, doc: Document) -> None:
        self.pdf = pdf
        self.doc = doc
        self.size = float(doc.font_size)
        self.line_h = self.size * PT_TO_MM * 1.5
        self.pad = 0.9
        total = sum(c.weight for c in doc.columns)
        self.widths = [pdf.epw * c.weight / total for c in doc.columns]
        self.bottom = pdf.h - MARGIN

    def _fit(self, text: str, width: float) -> tuple[list[str], float]:
        """The lines and font size of a cell.

        A line break in the text is kept; a paragraph that fits stays one line; a long word
        shrinks (down to 75 %) rather than break, since Thai writes no spaces between words;
        anything longer breaks at spaces, then between characters.
        """
        pdf = self.pdf
        avail = width - 2 * pdf.c_margin
        paragraphs = text.split("\n")
        if len(paragraphs) == 1 and pdf.fits(text, avail):
            return [text], self.size
        size = self.size
        for para in paragraphs:
            if para and " " not in para.strip() and not pdf.fits(para, avail):
                full = pdf.text_width(para)
                if full * 0.75 <= avail:
                    size = min(size, math.floor(self.size * avail / full * 2) / 2)
        if size != self.size:
            pdf.set_font(FONT, pdf.font_style, size)
        lines = [line for para in paragraphs for line in pdf.wrap(para, avail)]
        if size != self.size:
            pdf.set_font(FONT, pdf.font_style, self.size)
        return lines, size

    def _draw(self, texts: Sequence[str], *, style: str, header: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, style, self.size)
        cells = [self._fit(t, w) for t, w in zip(texts, self.widths, strict=True)]
        height = max(len(lines) for lines, _size in cells) * self.line_h + 2 * self.pad
        if not header and pdf.y + height > self.bottom:
            pdf.add_page()
            self.header()
            pdf.set_font(FONT, style, self.size)
        x0, y0 = pdf.l_margin, pdf.y
        x = x0
        for column, width, (lines, size) in zip(self.doc.columns, self.widths, cells, strict=True):
            pdf.box(x, y0, width, height, fill=header)
            align = "C" if header else column.align
            if size != self.size:
                pdf.set_font(FONT, style, size)
            for i, line in enumerate(lines):
                pdf.set_xy(x, y0 + self.pad + i * self.line_h)
                pdf.text_cell(width, self.line_h, line, align)
            if size != self.size:
                pdf.set_font(FONT, style, self.size)
            x += width
        pdf.set_xy(x0, y0 + height)

    def header(self) -> None:
        self.pdf.set_fill_color(230, 230, 230)
        self._draw([c.header for c in self.doc.columns], style="B", header=True)

    def row(self, values: Sequence[Any], *, style: str = "") -> None:
        self._draw([_cell_text(v) for v in values], style=style)


def _signature_lines(sig: dict[str, str]) -> list[str]:
    name = sig.get("name") or ""
    if not name:
        name = "(.................................................)"
    elif not name.startswith("("):
        name = f"({name})"
    position = sig.get("position") or "........................................"
    return [
        f"ลงชื่อ ........................................ {sig.get('label') or ''}".rstrip(),
        name,
        f"ตำแหน่ง {position}",
        "วันที่ ........ / ........ / ........",
    ]


def _signatures(pdf: ThaiPDF, doc: Document) -> None:
    """Signature blocks (ลงชื่อ / name / ตำแหน่ง / วันที่), up to three side by side."""
    if not doc.signatures:
        return
    size = float(doc.font_size)
    line_h = size * PT_TO_MM * 1.6
    per_row = min(3, len(doc.signatures))
    width = pdf.epw / per_row
    pdf.set_font(FONT, "", size)
    pdf.ln(line_h)
    for start in range(0, len(doc.signatures), per_row):
        blocks = [
            [part for text in _signature_lines(sig) for part in pdf.wrap(text, width - 4)]
            for sig in doc.signatures[start : start + per_row]
        ]
        block_h = max(len(b) for b in blocks) * line_h
        if pdf.y + block_h > pdf.h - MARGIN:
            pdf.add_page()
        y0 = pdf.y
        for i, lines in enumerate(blocks):
            for j, text in enumerate(lines):
                pdf.set_xy(pdf.l_margin + i * width, y0 + j * line_h)
                pdf.cell(width, line_h, text, align="C")
        pdf.set_xy(pdf.l_margin, y0 + block_h + line_h / 2)


def render(doc: Document) -> bytes:
    """The document as a PDF (A4, Sarabun embedded, "หน้า n/N", table header on every page)."""
    pdf = ThaiPDF(doc.orientation)
    pdf.set_title(doc.title)
    pdf.set_subject(doc.subject)
    pdf.set_author("E-Case")
    pdf.set_creator("E-Case reporting")
    pdf.set_lang("th")
    pdf.set_creation_date(doc.created_at)  # the same data gives the same bytes
    size = float(doc.font_size)
    pdf.set_font(FONT, "", size)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.add_page()
    pdf.centered_lines([doc.title], style="B", size=size + 4)
    pdf.centered_lines(doc.header_lines, style="", size=size + 1)
    pdf.centered_lines(doc.summary_lines, style="B", size=size + 1)
    pdf.ln(2)
    table = _Table(pdf, doc)
    table.header()
    for row in doc.rows:
        table.row(row)
    if doc.total_row is not None:
        table.row(doc.total_row, style="B")
    line_h = size * PT_TO_MM * 1.6
    if doc.words_line:
        pdf.set_font(FONT, "B", size)
        for part in pdf.wrap(doc.words_line, pdf.epw):
            if pdf.y + line_h > pdf.h - MARGIN:
                pdf.add_page()
            pdf.set_x(pdf.l_margin)
            pdf.cell(pdf.epw, line_h, part, align="R")
            pdf.ln(line_h)
    _signatures(pdf, doc)
    if doc.footer_lines:
        if pdf.y + line_h * len(doc.footer_lines) > pdf.h - MARGIN:
            pdf.add_page()
        pdf.centered_lines(doc.footer_lines, style="", size=size - 1)
    return bytes(pdf.output())
