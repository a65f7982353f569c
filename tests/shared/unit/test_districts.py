"""Unit tests for shared.districts: the 50 Bangkok districts."""

from __future__ import annotations

import pytest

from shared.districts import DISTRICTS, District, district_office_name, get_district

pytestmark = pytest.mark.unit

# The 50 offices that attended the e-case rehearsal of 13 Dec 2564 (seed document 000), as written there,
# with its one OCR error corrected ("ราชบุรีบูรณะ" -> "ราษฎร์บูรณะ").
SEED_OFFICE_NAMES = {
    "คลองสาน", "คลองสามวา", "คลองเตย", "คันนายาว", "จตุจักร", "จอมทอง", "ดอนเมือง", "ดินแดง", "ดุสิต",
    "ตลิ่งชัน", "ทวีวัฒนา", "ทุ่งครุ", "ธนบุรี", "บางกอกน้อย", "บางกอกใหญ่", "บางกะปิ", "บางขุนเทียน",
    "บางคอแหลม", "บางนา", "บางบอน", "บางพลัด", "บางรัก", "บางซื่อ", "บางเขน", "บางแค", "บึงกุ่ม",
    "ปทุมวัน", "ประเวศ", "ป้อมปราบศัตรูพ่าย", "พญาไท", "พระนคร", "พระโขนง", "ภาษีเจริญ", "มีนบุรี",
    "ยานนาวา", "ราชเทวี", "ราษฎร์บูรณะ", "ลาดกระบัง", "ลาดพร้าว", "วังทองหลาง", "วัฒนา", "สวนหลวง",
    "สะพานสูง", "สัมพันธวงศ์", "สาทร", "สายไหม", "หนองจอก", "หนองแขม", "หลักสี่", "ห้วยขวาง",
}  # fmt: skip


def test_fifty_districts_with_codes_1001_to_1050() -> None:
    assert len(DISTRICTS) == 50
    assert [d.code for d in DISTRICTS] == [str(n) for n in range(1001, 1051)]
    assert all(isinstance(d, District) for d in DISTRICTS)


def test_names_match_the_seed_document() -> None:
    assert len(SEED_OFFICE_NAMES) == 50
    assert {d.name_th for d in DISTRICTS} == SEED_OFFICE_NAMES


def test_names_are_unique_and_clean() -> None:
    assert len({d.name_en for d in DISTRICTS}) == 50
    for d in DISTRICTS:
        assert d.name_th == d.name_th.strip()
        assert not d.name_th.startswith("เขต")
        assert d.name_en.isascii()


@pytest.mark.parametrize(
    ("code", "name_th", "name_en"),
    [
        ("1001", "พระนคร", "Phra Nakhon"),
        ("1008", "ป้อมปราบศัตรูพ่าย", "Pom Prap Sattru Phai"),
        ("1024", "ราษฎร์บูรณะ", "Rat Burana"),
        ("1030", "จตุจักร", "Chatuchak"),
        ("1050", "บางบอน", "Bang Bon"),
    ],
)
def test_get_district(code: str, name_th: str, name_en: str) -> None:
    assert get_district(code) == District(code, name_th, name_en)


def test_get_district_unknown() -> None:
    assert get_district("1051") is None
    assert get_district("1000") is None
    assert get_district(1001) is None  # type: ignore[arg-type]


def test_district_office_name() -> None:
    assert district_office_name("1001") == "สำนักงานเขตพระนคร"
    assert district_office_name("1046") == "สำนักงานเขตคลองสามวา"
    with pytest.raises(KeyError):
        district_office_name("9999")
