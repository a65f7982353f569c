"""The printed documents: read back from the PDF (text, fonts, pages) and the XLSX (cell types).

Pages are rendered to PNG with pdfium and kept in test-artifacts/reporting/ for people to look at.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest
from openpyxl import load_workbook
from PIL import ImageChops
from sqlalchemy.orm import Session, sessionmaker

from services.reporting import pdf, reports, services, xlsx
from shared.auth import Principal
from shared.testing.system import System
from tests.reporting import factories as f

pytestmark = [pytest.mark.integration]
HEAD = Principal("head.1008", "head", "1008", "t")
TITLE = "รายชื่อผู้ประสบปัญหาความเดือดร้อนที่ผ่านการพิจารณาให้ความช่วยเหลือ"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Documents do not depend on the database engine: SQLite only here (the API tests use both)."""
    s = System(tmp_path_factory.mktemp("reporting-docs"), backend="embedded")
    s.migrate(("reporting",))
    yield s
    s.close()


def manual_batch(sessions: sessionmaker[Session], batch_id: str = "B-manual") -> dict[str, Any]:
    """The manual's example: two cases, 3,000 + 5,000 baht, one KTB payee and one at KASIKORN."""
    a = f.snapshot(
        title="เด็กชาย",
        first="ทดสอบ1",
        last="ทดสอบ1",
        welfare=f.KINDERGARTEN,
        amount="3000.00",
        case_type="disabled",
    )
    b = f.snapshot(title="นาง", first="ทดสอบ2", last="ทดสอบ2", welfare=f.CAREER, amount="5000.00")
    f.apply(
        sessions,
        f.registered(a),
        f.registered(b),
        f.placed(a, f.at(1)),
        f.placed(b, f.at(1)),
        f.batch_approved(
            batch_id,
            [
                (a, f.bank("006", "0123456789", "ด.ช. ทดสอบ1 ทดสอบ1")),
                (b, f.bank("004", "1112223334", "นาง ทดสอบ2 ทดสอบ2")),
            ],
            f.at(60 * 24 * 8),
        ),
    )
    return {"a": a, "b": b}


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def render_png(data: bytes, path: Path, page: int = 0) -> Any:
    """Render a page to PNG (kept for people) and return it as a greyscale image."""
    image = pypdfium2.PdfDocument(data)[page].render(scale=1.5).to_pil()
    image.save(path)
    return image.convert("L")


def dark_pixels(image: Any) -> int:
    return sum(image.histogram()[:128])


def test_approval_report_pdf_reads_like_the_manual(sessions: sessionmaker[Session], artifacts: Path) -> None:
    manual_batch(sessions)
    with sessions() as s:
        data = pdf.render(reports.approval_report(s, batch_id="B-manual", principal=HEAD))
    assert data.startswith(b"%PDF-")
    [page] = text_of(data)
    for expected in (
        TITLE,
        "สำนักงานเขตป้อมปราบศัตรูพ่าย",
        "จำนวน 2 ราย เป็นเงิน 8,000.00 บาท",
        "เด็กชาย ทดสอบ1 ทดสอบ1",
        "นาง ทดสอบ2 ทดสอบ2",
        "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล",
        "บัญชีที่ 1 ลำดับที่ 3",
        "3,000.00",
        "(แปดพันบาทถ้วน)",
        "หน้า 1/1",
        "ประชุมวันที่ 11 ตุลาคม 2565",  # Buddhist-era dates
        "อนุมัติวันที่ 11 ตุลาคม 2565",
        "ลำดับที่",
        "เบิกจ่ายตามระเบียบ",
        "ว่าด้วยค่าใช้จ่ายในการจัดสวัสดิการ",
    ):
        assert expected in page, expected
    image = render_png(data, artifacts / "approval-report-page1.png")
    assert dark_pixels(image) > 5_000  # text and table lines were drawn


def test_pdf_embeds_sarabun_and_positions_thai_marks(
    sessions: sessionmaker[Session], artifacts: Path
) -> None:
    manual_batch(sessions)
    with sessions() as s:
        data = pdf.render(reports.approval_report(s, batch_id="B-manual", principal=HEAD))
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = []
    for ref in fonts.values():
        font = ref.get_object()
        descendant = font["/DescendantFonts"][0].get_object()
        names.append(str(font["/BaseFont"]))
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()  # the TTF is embedded
        assert "/ToUnicode" in font
    assert any("Sarabun" in n for n in names), names
    assert all("Sarabun" in n for n in names), names
    # HarfBuzz moved the marks: the page places glyphs with text matrices (Tm), which
    # unshaped text never needs; and no shaped glyph is left without its Unicode text.
    content = reader.pages[0].get_contents().get_data()
    assert b" Tm" in content
    assert "\x03" not in reader.pages[0].extract_text()


def test_shaping_moves_thai_marks_where_they_belong(artifacts: Path) -> None:
    """The same words with and without HarfBuzz: stacked marks and tall consonants come out differently."""
    words = "ปี่ ป้ำ ญาติ ฐาน กุ้ง น้ำ ผู้ใหญ่"

    def draw(shaping: bool) -> bytes:
        doc = pdf.ThaiPDF()
        doc.set_font(pdf.FONT, "", 28)
        doc.add_page()
        doc.set_text_shaping(shaping)
        doc.set_xy(20, 30)
        doc.cell(250, 20, words)
        return bytes(doc.output())

    shaped = render_png(draw(True), artifacts / "shaping-with-harfbuzz.png").crop((0, 100, 1263, 260))
    plain = render_png(draw(False), artifacts / "shaping-without-harfbuzz.png").crop((0, 100, 1263, 260))
    assert dark_pixels(shaped) > 1_000
    assert ImageChops.difference(shaped, plain).getbbox() is not None
    assert words in " ".join(text_of(draw(True))[0].split())  # pypdf may read a Tm jump as a space


def test_long_reports_repeat_the_table_heading_and_count_pages(
    sessions: sessionmaker[Session], artifacts: Path
) -> None:
    snaps = [f.snapshot(first=f"ผู้รับ{i}", last="ใจดีมาก", amount="1000.00") for i in range(60)]
    f.apply(sessions, *(f.registered(s) for s in snaps))
    f.apply(sessions, f.batch_approved("B-long", [(s, f.bank()) for s in snaps], f.at(60)))
    with sessions() as s:
        data = pdf.render(reports.approval_report(s, batch_id="B-long", principal=HEAD))
    pages = text_of(data)
    assert len(pages) >= 3
    for n, page in enumerate(pages, start=1):
        assert f"หน้า {n}/{len(pages)}" in page
        assert "ชื่อ - นามสกุล" in page  # the heading row on every page
    assert "จำนวน 60 ราย เป็นเงิน 60,000.00 บาท" in pages[0]
    assert "(หกหมื่นบาทถ้วน)" in pages[-1]
    assert all(f"ผู้รับ{i} ใจดีมาก" in "".join(pages) for i in range(60))
    render_png(data, artifacts / "approval-report-long-page2.png", page=1)


def test_the_same_batch_gives_the_same_pdf(sessions: sessionmaker[Session]) -> None:
    manual_batch(sessions)
    with sessions() as s:
        first = pdf.render(reports.approval_report(s, batch_id="B-manual", principal=HEAD))
        second = pdf.render(reports.approval_report(s, batch_id="B-manual", principal=HEAD))
    assert first == second


@pytest.mark.parametrize(
    ("form", "group", "title", "present", "absent"),
    [
        ("tk1", "ktb", "แบบ ทค.1", ("0123456789", "ธนาคารกรุงไทย", "ด.ช. ทดสอบ1 ทดสอบ1"), ("1112223334",)),
        ("tk1", "other", "แบบ ทค.1", ("1112223334", "ธนาคารกสิกรไทย"), ("0123456789",)),
        ("kcorp2", "ktb", "แบบ K-Corp 2", ("006", "0123456789"), ("1112223334",)),
        ("kcorp2", "other", "แบบ K-Corp 2", ("004", "1112223334", "นาง ทดสอบ2 ทดสอบ2"), ("0123456789",)),
    ],
)
def test_bank_forms_list_their_group_with_totals_in_words_and_signatures(
    sessions: sessionmaker[Session],
    artifacts: Path,
    form: str,
    group: str,
    title: str,
    present: tuple[str, ...],
    absent: tuple[str, ...],
) -> None:
    manual_batch(sessions)
    with sessions() as s:
        doc = reports.bank_form(s, batch_id="B-manual", form=form, group=group, principal=HEAD)
    data = pdf.render(doc)
    text = "".join(text_of(data))
    amount, words = ("3,000.00", "(สามพันบาทถ้วน)") if group == "ktb" else ("5,000.00", "(ห้าพันบาทถ้วน)")
    assert title in text
    assert f"จำนวน 1 ราย เป็นเงิน {amount} บาท" in text
    assert words in text
    for label in ("ผู้จัดทำ", "ผู้ตรวจสอบ", "ผู้อนุมัติ"):
        assert label in text
    for item in present:
        assert item in text
    for item in absent:
        assert item not in text
    render_png(data, artifacts / f"{form}-{group}-page1.png")


def test_a_district_template_changes_the_layout_text(sessions: sessionmaker[Session]) -> None:
    manual_batch(sessions)
    actor = services.Actor("head.1008", "head", "1008")
    with sessions.begin() as s:
        services.set_template(
            s,
            doc="tk1",
            district_code="1008",
            data={
                "title": "แบบ ทค.๑ (ฉบับเขต)",
                "header_lines": ["{group_name} — {district_name}"],
                "signatures": [
                    {"label": "ผู้จัดทำ", "name": "นางสาวสมศรี ใจดี", "position": "นักพัฒนาสังคมปฏิบัติการ"},
                    {"label": "ผู้อนุมัติ", "name": "", "position": "ผู้อำนวยการเขต{district_name}"},
                ],
                "footer_lines": ["หมายเหตุ: ตรวจสอบแล้ว"],
            },
            actor=actor,
        )
    with sessions() as s:
        text = "".join(
            text_of(
                pdf.render(reports.bank_form(s, batch_id="B-manual", form="tk1", group="ktb", principal=HEAD))
            )
        )
    assert "แบบ ทค.๑ (ฉบับเขต)" in text
    assert "ผู้รับเงินที่มีบัญชีธนาคารกรุงไทย — ป้อมปราบศัตรูพ่าย" in text
    assert "(นางสาวสมศรี ใจดี)" in text
    assert "ตำแหน่ง ผู้อำนวยการเขตป้อมปราบศัตรูพ่าย" in text
    assert "ผู้ตรวจสอบ" not in text
    assert "หมายเหตุ: ตรวจสอบแล้ว" in text


def test_payment_review_shows_each_payees_state(sessions: sessionmaker[Session]) -> None:
    cases = manual_batch(sessions)
    f.apply(
        sessions,
        f.paid(cases["a"], "B-manual", f.at(60 * 24 * 9)),
        f.failed(cases["b"], "B-manual", f.at(60 * 24 * 9), final=False, reason="ชื่อบัญชีไม่ตรง"),
    )
    with sessions() as s:
        text = "".join(text_of(pdf.render(reports.payment_review(s, batch_id="B-manual", principal=HEAD))))
    assert "รายชื่อผู้ประสบปัญหาความเดือดร้อนสำหรับบันทึกการจ่ายเงินให้ประชาชน" in text
    assert "จ่ายสำเร็จ" in text
    assert "ชื่อบัญชีไม่ตรง" in text
    assert "จ่ายสำเร็จ 1 ราย 3,000.00 บาท" in text


def test_agenda_lists_the_cases_waiting_for_the_committee(sessions: sessionmaker[Session]) -> None:
    waiting = f.snapshot(first="รอประชุม", amount="2000.00")
    deferred = f.snapshot(first="เลื่อนไป", amount="2500.00")
    amended = f.snapshot(first="แก้ไขแล้ว", amount="5000.00")
    f.apply(
        sessions,
        *(f.registered(s) for s in (waiting, deferred, amended)),
        *(f.placed(s, f.at(1)) for s in (waiting, deferred, amended)),
        f.deferred(deferred, f.at(2)),
        f.amended(amended, f.at(3), welfare_code="CAREER", amount="4000.00"),
    )
    with sessions() as s:
        doc = reports.agenda(s, district_code="1008", principal=HEAD)
    text = "".join(text_of(pdf.render(doc)))
    assert "รอประชุม" in text
    assert "แก้ไขแล้ว" in text
    assert "เลื่อนไป" not in text
    assert "จำนวน 2 ราย เป็นเงิน 6,000.00 บาท" in text


def test_xlsx_amounts_are_numbers_codes_are_text_and_formulas_stay_text(
    sessions: sessionmaker[Session],
) -> None:
    risky = {
        "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
        "+66812345678": "'+66812345678",
        "-1+1": "'-1+1",
        "@SUM(A1)": "'@SUM(A1)",
    }
    snaps = [f.snapshot(first=name, last="ทดสอบ", amount="1234.50") for name in risky]
    f.apply(sessions, *(f.registered(s) for s in snaps))
    f.apply(
        sessions,
        f.batch_approved(
            "B-xlsx", [(s, f.bank("006", "0012345678", s["first_name"])) for s in snaps], f.at(60)
        ),
    )
    with sessions() as s:
        book = load_workbook(
            io.BytesIO(
                xlsx.render(
                    reports.bank_form(s, batch_id="B-xlsx", form="kcorp2", group="ktb", principal=HEAD)
                )
            )
        )
    ws = book.active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]  # no formula anywhere
    headers = [c.value for c in next(r for r in ws.iter_rows() if r[0].value == "ลำดับที่")]
    rows = [r for r in ws.iter_rows(values_only=False) if isinstance(r[0].value, int)]
    assert len(rows) == 4
    col = {h: i for i, h in enumerate(headers)}
    for row in rows:
        amount = row[col["จำนวนเงินที่โอน (บาท)"]]
        assert amount.data_type == "n"
        assert Decimal(str(amount.value)) == Decimal("1234.50")
        assert amount.number_format == "#,##0.00"
        account = row[col["เลขที่บัญชีผู้รับ"]]
        assert (account.data_type, account.value, account.number_format) == ("s", "0012345678", "@")
        bank_code = row[col["รหัสธนาคาร"]]
        assert (bank_code.data_type, bank_code.value) == ("s", "006")
        name = row[col["ชื่อบัญชีผู้รับ"]]
        assert name.data_type == "s"
        assert name.value in risky.values()
    total = next(r for r in ws.iter_rows() if r[2].value == "รวมทั้งสิ้น")
    assert total[col["จำนวนเงินที่โอน (บาท)"]].data_type == "n"
    assert Decimal(str(total[col["จำนวนเงินที่โอน (บาท)"]].value)) == Decimal("4938.00")


def test_approval_report_xlsx_carries_the_same_content(sessions: sessionmaker[Session]) -> None:
    manual_batch(sessions)
    with sessions() as s:
        book = load_workbook(
            io.BytesIO(xlsx.render(reports.approval_report(s, batch_id="B-manual", principal=HEAD)))
        )
    ws = book.active
    values = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert TITLE in values
    assert "จำนวน 2 ราย เป็นเงิน 8,000.00 บาท" in values
    assert "(แปดพันบาทถ้วน)" in values
    assert "บัญชีที่ 1 ลำดับที่ 3" in values
    assert ws.print_title_rows is not None  # the heading repeats on printed pages
