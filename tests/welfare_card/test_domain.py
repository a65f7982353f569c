"""Pure rules of the measure: the areas of Thailand, the vocabulary, reading lists, line checks, deadlines."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from services.intake.welfare_card import domain
from services.intake.welfare_card.config import load_settings
from shared import areas
from shared.districts import DISTRICTS
from shared.welfare_card import AGENCIES, agency_from_text, group_from_text, public_check_key
from tests.welfare_card.support import HEADER, csv_bytes, nid, row, wrong_check_digit, xlsx_bytes

pytestmark = [pytest.mark.unit]
AREAS = {a.code: a.province_code for p in areas.provinces() for a in areas.districts_of(p.code)}


def test_areas_cover_thailand_and_keep_bangkoks_codes() -> None:
    assert len(areas.provinces()) == 77
    assert len(AREAS) == 928
    bangkok = areas.districts_of("10")
    assert [(a.code, a.name_th) for a in bangkok] == [(d.code, d.name_th) for d in DISTRICTS]
    assert areas.get_area("1008").full_name_th == "เขตป้อมปราบศัตรูพ่าย"
    assert areas.get_area("2402").full_name_th == "อำเภอบางคล้า"
    assert areas.get_area("๒๔๐๑") is None
    assert areas.get_province("24").name_th == "ฉะเชิงเทรา"
    assert areas.get_province("99") is None


def test_agencies_and_groups_as_lists_write_them() -> None:
    assert [a.name_th for a in AGENCIES] == [
        "กระทรวงเกษตรและสหกรณ์",
        "กระทรวงแรงงาน",
        "กระทรวงพาณิชย์",
        "กรมการพัฒนาชุมชน",
        "ธ.ก.ส.",
        "ธนาคารออมสิน",
    ]
    assert agency_from_text("ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร") == "baac"
    assert agency_from_text(" ธ.ออมสิน ") == "gsb"
    assert agency_from_text("กระทรวงมหาดไทย (กรมการพัฒนาชุมชน)") == "cdd"
    assert agency_from_text("MOAC") == "moac"
    assert agency_from_text("กระทรวงการคลัง") is None
    assert group_from_text("1") == "not_developed"
    assert group_from_text("ผ่านการพัฒนาแล้ว แต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี") == "low_income"
    assert group_from_text("3") is None


def test_files_are_recognised_by_content() -> None:
    assert domain.sniff(b"PK\x03\x04...", "a.csv") == "xlsx"
    assert domain.sniff("เลข,ชื่อ\n".encode(), "a.txt") == "csv"
    for data, name in ((b"%PDF-1.7", "a.csv"), (b"\xd0\xcf\x11\xe0xx", "a.xls"), (b"a,b", "list.xls")):
        with pytest.raises(domain.UnsupportedFile):
            domain.sniff(data, name)
    with pytest.raises(domain.FileProblem):
        domain.sniff(b" \n ", "a.csv")


def test_csv_in_utf8_with_bom_or_tis620() -> None:
    text = "ชื่อ,นามสกุล\nสมศรี,ใจดี\n"
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("cp874")):
        assert list(domain.iter_rows(data, "csv", max_unpacked=10**9)) == [
            (1, ("ชื่อ", "นามสกุล")),
            (2, ("สมศรี", "ใจดี")),
        ]


def test_a_quoted_line_break_keeps_the_line_numbers_of_the_file() -> None:
    data = b'a,b\n"x\ny",z\nlast,one\n'
    assert [n for n, _ in domain.iter_rows(data, "csv", max_unpacked=10**9)] == [1, 2, 4]


def test_xlsx_bombs_and_broken_files_are_refused() -> None:
    data = xlsx_bytes([row(nid())])
    with pytest.raises(domain.FileTooLarge):
        list(domain.iter_rows(data, "xlsx", max_unpacked=100))
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("xl/workbook.xml", "<not a workbook")
    with pytest.raises(domain.FileProblem):
        list(domain.iter_rows(broken.getvalue(), "xlsx", max_unpacked=10**9))


def test_headers_in_thai_or_english() -> None:
    columns = domain.header_map(HEADER)
    assert columns["national_id"] == 0
    assert columns["group"] == 6
    english = domain.header_map(("national_id", "first_name", "last_name", "area_code", "group"))
    assert "agency" not in english
    with pytest.raises(domain.FileProblem) as missing:
        domain.header_map(("ชื่อ", "นามสกุล"))
    assert "เลขประจำตัวประชาชน" in missing.value.message
    with pytest.raises(domain.FileProblem):
        domain.header_map(("ชื่อ", "ชื่อ", "national_id", "นามสกุล", "รหัสอำเภอ", "กลุ่ม"))


def test_line_checks() -> None:
    checker = domain.LineChecker(domain.header_map(HEADER), areas=AREAS, province_code="24", agency="cdd")
    person = nid()
    ok = checker.check(2, row(person, area="2402", group="2"))
    assert ok == (2, person, "นาง", "สมศรี", "ใจดี", "24", "2402", "cdd", "low_income")
    spaced = f"{person[0]}-{person[1:5]}-{person[5:10]}-{person[10:12]}-{person[12]}"
    assert checker.check(3, row(spaced))[1] == person  # type: ignore[index]
    short = checker.check(4, ("",) * 3)  # a short line: every required cell is missing
    assert isinstance(short, list)
    assert {e.field for e in short} == {"national_id", "first_name", "last_name", "area_code", "group"}
    bad = checker.check(
        5, row(wrong_check_digit(person), area="๒๔๐๑", agency="ธ.ก.ส.", group="x", last="a" * 101)
    )
    assert isinstance(bad, list)
    assert [(e.line, e.field) for e in bad] == [
        (5, "national_id"),
        (5, "last_name"),
        (5, "area_code"),
        (5, "agency"),
        (5, "group"),
    ]


def test_late_is_judged_on_the_bangkok_date() -> None:
    record_by = dt.date(2019, 7, 15)
    just_in_time = dt.datetime(2019, 7, 15, 16, 59, tzinfo=dt.UTC)  # 23:59 in Bangkok
    too_late = dt.datetime(2019, 7, 15, 17, 0, tzinfo=dt.UTC)  # 00:00 on the 16th in Bangkok
    assert not domain.is_late(just_in_time, record_by)
    assert domain.is_late(too_late, record_by)
    assert not domain.is_late(too_late, None)


def test_settings_override_the_seeds_deadlines() -> None:
    default = load_settings(None)
    assert default.development.record_by == dt.date(2019, 7, 15)
    assert set(default.rounds) == {"2019-06"}
    changed = load_settings(
        {"phases": {"development": {"record_by": "2020-07-15"}}, "max_import_bytes": 1024}
    )
    assert changed.development.record_by == dt.date(2020, 7, 15)
    assert changed.development.due == dt.date(2019, 6, 30)
    assert changed.max_import_bytes == 1024
    with pytest.raises(ValueError):
        load_settings({"phases": {"nope": {}}})
    with pytest.raises(ValueError):
        load_settings({"rounds": {"2020-06": {"due": "30/06/2563", "record_by": "2020-07-15"}}})


def test_the_public_key_depends_on_the_secret() -> None:
    assert public_check_key("a" * 40) != public_check_key("b" * 40)
    assert len(public_check_key("a" * 40)) == 64


def test_csv_helper_round_trip() -> None:
    data = csv_bytes([row("1", group="ผ่านการพัฒนาแล้ว แต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี")])
    rows = list(domain.iter_rows(data, "csv", max_unpacked=10**9))
    assert rows[1][1][6].endswith("30,000 บาทต่อปี")
