"""The measure's summary as a workbook, by the project's cell rules (``services.reporting.xlsx``):
counts are numbers, codes are text cells (leading zeros kept), text that looks like a formula is
stored as text, dates are real dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openpyxl import Workbook

from services.reporting.xlsx import _BOLD, _finish, _table, put

MEASURE_HEADERS = (
    ("participants", "ผู้เข้าร่วมมาตรการ (ราย)", "int"),
    ("developed", "พัฒนาแล้วเสร็จ (ราย)", "int"),
    ("not_developed", "ยังไม่ได้รับการพัฒนา (ราย)", "int"),
    ("developed_percent", "ร้อยละที่พัฒนาแล้ว", "text"),
    ("recorded", "มีผลการพัฒนาบันทึกแล้ว (ราย)", "int"),
    ("not_recorded", "ยังไม่มีผลการพัฒนา (ราย)", "int"),
    ("development_records", "ผลการพัฒนาที่บันทึก (รายการ)", "int"),
    ("late_records", "บันทึกล่าช้า (รายการ)", "int"),
    ("missing_records", "ไม่ได้บันทึกภายในกำหนด (ราย)", "int"),
    ("intents", "แจ้งความประสงค์ (ราย)", "int"),
)
DAILY_HEADERS = (
    ("participants", "ผู้เข้าร่วมเปลี่ยนแปลงสุทธิ (ราย)", "int"),
    ("developments", "บันทึกผลการพัฒนา (รายการ)", "int"),
    ("follow_ups", "บันทึกการติดตาม (ราย)", "int"),
    ("intents", "แจ้งความประสงค์ (ราย)", "int"),
)


def _be(value: dt.date | None) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year + 543}" if value else "—"


def render_summary(summary: dict[str, Any], created_at: dt.datetime) -> bytes:
    """Sheets: สรุป, รายจังหวัด, รายเขต-อำเภอ, รายหน่วยงาน, รายกลุ่ม, รายโครงการ, ผลการพัฒนา, การติดตาม,
    การติดตามรายเขต-อำเภอ, รายวัน, รายวันตามหน่วยงาน."""
    wb = Workbook()
    ws = wb.active
    ws.title = "สรุป"
    dev = summary["deadlines"]["development"]
    scope = [
        ("มาตรการพัฒนาคุณภาพชีวิตผู้มีบัตรสวัสดิการแห่งรัฐ ระยะที่ 2", ""),
        ("จังหวัด", summary["province_name"] or "ทั้งประเทศ"),
        ("เขต/อำเภอ", summary["area_name"] or "ทุกเขต/อำเภอ"),
        ("หน่วยงานพัฒนา", summary["agency_name"] or "ทุกหน่วยงาน"),
        ("ข้อมูล ณ วันที่", _be(summary["as_of"])),
        ("กำหนดพัฒนาแล้วเสร็จ", _be(dev["due"])),
        ("กำหนดบันทึกผลการพัฒนา", _be(dev["record_by"])),
    ]
    for r, (label, value) in enumerate(scope, start=1):
        put(ws, r, 1, label).font = _BOLD
        put(ws, r, 2, value)
    for r, (key, heading, kind) in enumerate(MEASURE_HEADERS, start=len(scope) + 2):
        put(ws, r, 1, heading).font = _BOLD
        put(ws, r, 2, summary["totals"][key], kind)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 28
    sheets = (
        (
            "รายจังหวัด",
            "by_province",
            (("province_code", "รหัสจังหวัด", "code"), ("province_name", "จังหวัด", "text")),
        ),
        (
            "รายเขต-อำเภอ",
            "by_area",
            (
                ("province_code", "รหัสจังหวัด", "code"),
                ("province_name", "จังหวัด", "text"),
                ("area_code", "รหัสเขต/อำเภอ", "code"),
                ("area_name", "เขต/อำเภอ", "text"),
            ),
        ),
        (
            "รายหน่วยงาน",
            "by_agency",
            (("agency", "รหัสหน่วยงาน", "code"), ("agency_name", "หน่วยงานพัฒนา", "text")),
        ),
        ("รายกลุ่ม", "by_group", (("group", "รหัสกลุ่ม", "code"), ("group_name", "กลุ่มเป้าหมาย", "text"))),
    )
    for title, key, keys in sheets:
        _table(wb.create_sheet(title), [*keys, *MEASURE_HEADERS], summary[key])
    _table(
        wb.create_sheet("รายโครงการ"),
        (
            ("project_id", "รหัสโครงการ", "int"),
            ("project_name", "โครงการ", "text"),
            ("project_kind_name", "ประเภทโครงการ", "text"),
            ("project_agency_name", "หน่วยงานพัฒนา", "text"),
            ("project_province_name", "จังหวัด (โครงการเพิ่มเติม)", "text"),
            ("records", "ผลการพัฒนา (รายการ)", "int"),
            ("result_completed", "ผ่านการพัฒนาแล้วเสร็จ", "int"),
            ("result_not_completed", "เข้าร่วมแต่ไม่ผ่าน", "int"),
            ("result_declined", "ไม่ประสงค์เข้ารับการพัฒนา", "int"),
            ("result_unreachable", "ติดต่อไม่ได้", "int"),
            ("late_records", "บันทึกล่าช้า", "int"),
        ),
        summary["by_project"],
    )
    _table(
        wb.create_sheet("ผลการพัฒนา"),
        (
            ("result", "รหัสผล", "code"),
            ("result_name", "ผลการพัฒนา", "text"),
            ("records", "จำนวน (รายการ)", "int"),
            ("late_records", "บันทึกล่าช้า", "int"),
        ),
        summary["by_result"],
    )
    rounds = summary["follow_up_rounds"]
    _table(
        wb.create_sheet("การติดตาม"),
        (
            ("round", "รอบ (ค.ศ.)", "code"),
            ("round_name", "รอบการติดตาม", "text"),
            ("record_by_th", "กำหนดบันทึก", "text"),
            ("participants", "ผู้เข้าร่วม (ราย)", "int"),
            ("followed_up", "ติดตามแล้ว (ราย)", "int"),
            ("not_followed_up", "ยังไม่ได้ติดตาม (ราย)", "int"),
            ("coverage_percent", "ร้อยละที่ติดตาม", "text"),
            ("late", "บันทึกล่าช้า (ราย)", "int"),
            ("missing", "ไม่ได้บันทึกภายในกำหนด (ราย)", "int"),
        ),
        [{**r, "record_by_th": _be(r["record_by"])} for r in rounds],
    )
    _table(
        wb.create_sheet("การติดตามรายเขต-อำเภอ"),
        (
            ("round", "รอบ (ค.ศ.)", "code"),
            ("province_code", "รหัสจังหวัด", "code"),
            ("province_name", "จังหวัด", "text"),
            ("area_code", "รหัสเขต/อำเภอ", "code"),
            ("area_name", "เขต/อำเภอ", "text"),
            ("participants", "ผู้เข้าร่วม (ราย)", "int"),
            ("followed_up", "ติดตามแล้ว (ราย)", "int"),
            ("not_followed_up", "ยังไม่ได้ติดตาม (ราย)", "int"),
            ("coverage_percent", "ร้อยละที่ติดตาม", "text"),
            ("late", "บันทึกล่าช้า (ราย)", "int"),
            ("missing", "ไม่ได้บันทึกภายในกำหนด (ราย)", "int"),
        ),
        [{"round": r["round"], **a} for r in rounds for a in r["by_area"]],
    )
    _table(wb.create_sheet("รายวัน"), (("date", "วันที่", "date"), *DAILY_HEADERS), summary["daily"])
    _table(
        wb.create_sheet("รายวันตามหน่วยงาน"),
        (("date", "วันที่", "date"), ("agency_name", "หน่วยงานพัฒนา", "text"), *DAILY_HEADERS),
        summary["daily_by_agency"],
    )
    return _finish(wb, created_at, "สรุปผลมาตรการพัฒนาคุณภาพชีวิตผู้มีบัตรสวัสดิการแห่งรัฐ")
