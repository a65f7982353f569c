"""Thailand's provinces and districts (เขต/อำเภอ) with their DOPA codes, for the welfare card measure.

The data comes from the maintained ``geothai`` package (77 provinces, 928 districts, DOPA codes;
MIT code, CC-BY-4.0 data).  Bangkok's 50 districts keep E-Case's own codes and names
(``shared.districts``: "1001".."1050", the same DOPA codes, named without the "เขต" prefix); a
test checks the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import geothai

from shared.districts import DISTRICTS

__all__ = [
    "BANGKOK",
    "Area",
    "Province",
    "data_version",
    "districts_of",
    "get_area",
    "get_province",
    "provinces",
]

BANGKOK = "10"
_PROVINCE_RE = re.compile(r"[0-9]{2}", re.ASCII)
_AREA_RE = re.compile(r"[0-9]{4}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Province:
    """A province (จังหวัด): 2-digit DOPA code, Thai and English names."""

    code: str
    name_th: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Area:
    """A district (เขต in Bangkok, อำเภอ elsewhere): 4-digit DOPA code within its province."""

    code: str
    province_code: str
    name_th: str
    name_en: str

    @property
    def kind_th(self) -> str:
        """The kind of district: "เขต" in Bangkok, "อำเภอ" elsewhere."""
        return "เขต" if self.province_code == BANGKOK else "อำเภอ"

    @property
    def full_name_th(self) -> str:
        """The name with its kind, e.g. "เขตพระนคร", "อำเภอบางคล้า" ("อำเภอเมือง…" as DOPA writes it)."""
        return f"{self.kind_th}{self.name_th}"


@cache
def _data() -> tuple[tuple[Province, ...], dict[str, tuple[Area, ...]], dict[str, Area]]:
    provs = tuple(Province(p.code, p.name_th, p.name_en) for p in geothai.provinces())
    bangkok = {d.code: d for d in DISTRICTS}
    by_province: dict[str, tuple[Area, ...]] = {}
    by_code: dict[str, Area] = {}
    for p in provs:
        areas = []
        for d in geothai.districts(p.code):
            if p.code == BANGKOK and d.code in bangkok:
                own = bangkok[d.code]
                area = Area(own.code, BANGKOK, own.name_th, own.name_en)
            else:
                name = d.name_th.removeprefix("เขต") if p.code == BANGKOK else d.name_th
                area = Area(d.code, p.code, name, d.name_en)
            areas.append(area)
            by_code[area.code] = area
        by_province[p.code] = tuple(sorted(areas, key=lambda a: a.code))
    return provs, by_province, by_code


def data_version() -> str:
    """The version of the geothai data in use (e.g. "2026.10.23")."""
    return str(geothai.DATA_VERSION)


def provinces() -> tuple[Province, ...]:
    """All provinces, by code."""
    return _data()[0]


def get_province(code: object) -> Province | None:
    """The province with this 2-digit code, or None."""
    if not isinstance(code, str) or _PROVINCE_RE.fullmatch(code) is None:
        return None
    return next((p for p in provinces() if p.code == code), None)


def districts_of(province_code: str) -> tuple[Area, ...]:
    """The districts of a province, by code (empty for an unknown province)."""
    return _data()[1].get(province_code, ())


def get_area(code: object) -> Area | None:
    """The district with this 4-digit code, or None."""
    if not isinstance(code, str) or _AREA_RE.fullmatch(code) is None:
        return None
    return _data()[2].get(code)
