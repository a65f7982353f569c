"""The 50 districts (เขต) of Bangkok with their Department of Provincial Administration codes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DISTRICTS", "District", "district_office_name", "get_district"]


@dataclass(frozen=True, slots=True)
class District:
    """A Bangkok district: DOPA code ("1001".."1050"), Thai and English names."""

    code: str
    name_th: str
    name_en: str

    @property
    def office_name(self) -> str:
        """Thai name of the district office, e.g. "สำนักงานเขตพระนคร"."""
        return f"สำนักงานเขต{self.name_th}"


DISTRICTS: tuple[District, ...] = (
    District("1001", "พระนคร", "Phra Nakhon"),
    District("1002", "ดุสิต", "Dusit"),
    District("1003", "หนองจอก", "Nong Chok"),
    District("1004", "บางรัก", "Bang Rak"),
    District("1005", "บางเขน", "Bang Khen"),
    District("1006", "บางกะปิ", "Bang Kapi"),
    District("1007", "ปทุมวัน", "Pathum Wan"),
    District("1008", "ป้อมปราบศัตรูพ่าย", "Pom Prap Sattru Phai"),
    District("1009", "พระโขนง", "Phra Khanong"),
    District("1010", "มีนบุรี", "Min Buri"),
    District("1011", "ลาดกระบัง", "Lat Krabang"),
    District("1012", "ยานนาวา", "Yan Nawa"),
    District("1013", "สัมพันธวงศ์", "Samphanthawong"),
    District("1014", "พญาไท", "Phaya Thai"),
    District("1015", "ธนบุรี", "Thon Buri"),
    District("1016", "บางกอกใหญ่", "Bangkok Yai"),
    District("1017", "ห้วยขวาง", "Huai Khwang"),
    District("1018", "คลองสาน", "Khlong San"),
    District("1019", "ตลิ่งชัน", "Taling Chan"),
    District("1020", "บางกอกน้อย", "Bangkok Noi"),
    District("1021", "บางขุนเทียน", "Bang Khun Thian"),
    District("1022", "ภาษีเจริญ", "Phasi Charoen"),
    District("1023", "หนองแขม", "Nong Khaem"),
    District("1024", "ราษฎร์บูรณะ", "Rat Burana"),
    District("1025", "บางพลัด", "Bang Phlat"),
    District("1026", "ดินแดง", "Din Daeng"),
    District("1027", "บึงกุ่ม", "Bueng Kum"),
    District("1028", "สาทร", "Sathon"),
    District("1029", "บางซื่อ", "Bang Sue"),
    District("1030", "จตุจักร", "Chatuchak"),
    District("1031", "บางคอแหลม", "Bang Kho Laem"),
    District("1032", "ประเวศ", "Prawet"),
    District("1033", "คลองเตย", "Khlong Toei"),
    District("1034", "สวนหลวง", "Suan Luang"),
    District("1035", "จอมทอง", "Chom Thong"),
    District("1036", "ดอนเมือง", "Don Mueang"),
    District("1037", "ราชเทวี", "Ratchathewi"),
    District("1038", "ลาดพร้าว", "Lat Phrao"),
    District("1039", "วัฒนา", "Watthana"),
    District("1040", "บางแค", "Bang Khae"),
    District("1041", "หลักสี่", "Lak Si"),
    District("1042", "สายไหม", "Sai Mai"),
    District("1043", "คันนายาว", "Khan Na Yao"),
    District("1044", "สะพานสูง", "Saphan Sung"),
    District("1045", "วังทองหลาง", "Wang Thonglang"),
    District("1046", "คลองสามวา", "Khlong Sam Wa"),
    District("1047", "บางนา", "Bang Na"),
    District("1048", "ทวีวัฒนา", "Thawi Watthana"),
    District("1049", "ทุ่งครุ", "Thung Khru"),
    District("1050", "บางบอน", "Bang Bon"),
)

_BY_CODE: dict[str, District] = {d.code: d for d in DISTRICTS}
assert len(_BY_CODE) == len(DISTRICTS) == 50, "expected 50 unique district codes"


def get_district(code: str) -> District | None:
    """Return the district with this DOPA code ("1001".."1050"), or None."""
    return _BY_CODE.get(code) if isinstance(code, str) else None


def district_office_name(code: str) -> str:
    """Return the Thai district-office name, e.g. "1001" -> "สำนักงานเขตพระนคร"; KeyError if unknown."""
    district = get_district(code)
    if district is None:
        raise KeyError(code)
    return district.office_name
