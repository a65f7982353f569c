"""``GET /api/reporting/welfare-card/summary`` (JSON and XLSX) in process, on SQLite and PostgreSQL:
scope by role, bad parameters in Thai, the workbook's cells."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from services import reporting
from shared import auth
from shared.testing.system import System
from tests.reporting import welfare_card_factories as f

pytestmark = [pytest.mark.integration]
PATH = "/api/reporting/welfare-card/summary"


@pytest.fixture(scope="module")
def app(system: System) -> Iterator[Flask]:
    with system.environment():
        built = reporting.create_app({"DATABASE_URL": system.database_url("reporting"), "TESTING": True})
    yield built
    built.extensions["ecase"].engine.dispose()


@pytest.fixture(scope="module")
def seeded(system: System) -> None:
    """The story of tests/reporting/welfare_card_factories.py plus a Bangkok district (1008)."""
    sessions = system.sessions("reporting", write=True)
    f.empty(sessions)
    envs, _ = f.story()
    f.deliver(
        sessions,
        *envs,
        f.participants_changed(90, [f.count("1008", "gsb", "not_developed", 7, 7)], f.at(5)),
        f.development(f.participant("1008", "gsb"), f.at(100), project=1),
    )


@pytest.fixture
def client(app: Flask, seeded: None) -> FlaskClient:
    return app.test_client()


def token(system: System, role: str, **claims: Any) -> dict[str, str]:
    value = auth.issue_token(
        username=f"{role}.test",
        role=role,
        district_code=claims.get("district"),
        province_code=claims.get("province"),
        agency=claims.get("agency"),
        secret=system.env["ECASE_SECRET_KEY"],
    )[0]
    return {"Authorization": f"Bearer {value}"}


def get(client: FlaskClient, headers: dict[str, str], **params: str) -> Any:
    return client.get(PATH, query_string=params, headers=headers)


def test_the_central_office_sees_every_province_or_the_one_it_names(
    client: FlaskClient, system: System
) -> None:
    admin = token(system, "central_admin")
    everything = get(client, admin)
    assert everything.status_code == 200, everything.get_json()
    body = everything.get_json()
    assert {p["province_code"] for p in body["by_province"]} == {"10", "24"}
    assert body["totals"]["participants"] == 13
    assert body["deadlines"]["development"]["record_by"] == "2019-07-15"
    assert body["daily"][0] == {
        "date": "2019-02-01",
        "participants": 6,
        "developments": 0,
        "follow_ups": 0,
        "intents": 0,
    }
    one = get(client, admin, province_code="24").get_json()
    assert (one["province_code"], one["province_name"], one["totals"]["participants"]) == (
        "24",
        "ฉะเชิงเทรา",
        6,
    )
    district = get(client, admin, area_code="2402").get_json()
    assert (district["province_code"], district["area_code"], district["totals"]["participants"]) == (
        "24",
        "2402",
        3,
    )


def test_a_provincial_secretariat_sees_only_their_province(client: FlaskClient, system: System) -> None:
    secretariat = token(system, "provincial_secretariat", province="24")
    own = get(client, secretariat)
    assert own.status_code == 200
    assert own.get_json()["province_code"] == "24"
    assert {p["province_code"] for p in own.get_json()["by_province"]} == {"24"}
    assert get(client, secretariat, area_code="2401").get_json()["totals"]["participants"] == 3
    assert get(client, secretariat, province_code="10").status_code == 404
    assert get(client, secretariat, area_code="1008").status_code == 404


def test_a_district_sees_only_its_district(client: FlaskClient, system: System) -> None:
    team = token(system, "district_team", district="2402")
    body = get(client, team).get_json()
    assert (body["area_code"], body["totals"]["participants"]) == ("2402", 3)
    assert get(client, team, area_code="2401").status_code == 404
    assert get(client, team, province_code="10").status_code == 404
    officer = token(system, "officer", district="1008")
    bangkok = get(client, officer).get_json()
    assert (bangkok["area_code"], bangkok["area_name"], bangkok["totals"]["participants"]) == (
        "1008",
        "เขตป้อมปราบศัตรูพ่าย",
        7,
    )


def test_an_agency_recorder_sees_their_agency(client: FlaskClient, system: System) -> None:
    recorder = token(system, "agency_recorder", agency="cdd", province="24")
    body = get(client, recorder).get_json()
    assert (body["agency"], body["agency_name"], body["province_code"]) == ("cdd", "กรมการพัฒนาชุมชน", "24")
    assert {a["agency"] for a in body["by_agency"]} == {"cdd"}
    assert body["totals"]["participants"] == 3
    assert get(client, recorder, agency="gsb").status_code == 404
    assert get(client, recorder, province_code="10").status_code == 404
    nationwide = token(system, "agency_recorder", agency="gsb")
    assert get(client, nationwide).get_json()["totals"]["participants"] == 7


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"province_code": "2"}, "province_code", "รหัสจังหวัดต้องเป็นตัวเลข 2 หลัก เช่น 24"),
        ({"province_code": "99"}, "province_code", "ไม่พบจังหวัดรหัสนี้"),
        ({"area_code": "24x1"}, "area_code", "รหัสเขต/อำเภอต้องเป็นตัวเลข 4 หลัก เช่น 2401"),
        ({"area_code": "2499"}, "area_code", "ไม่พบเขต/อำเภอรหัสนี้"),
        ({"province_code": "10", "area_code": "2401"}, "area_code", "เขต/อำเภอนี้ไม่อยู่ในจังหวัดที่เลือก"),
        ({"agency": "bank"}, "agency", "ไม่รู้จักหน่วยงานพัฒนานี้ (moac, mol, moc, cdd, baac, gsb)"),
    ],
)
def test_bad_parameters_are_refused_in_thai_with_the_field_named(
    client: FlaskClient, system: System, params: dict[str, str], field: str, message: str
) -> None:
    r = get(client, token(system, "central_admin"), **params)
    assert r.status_code == 400
    assert r.get_json()["error"]["fields"][field] == message


def test_without_a_token_it_is_401(client: FlaskClient) -> None:
    assert client.get(PATH).status_code == 401
    assert client.get(f"{PATH}.xlsx").status_code == 401


def test_the_workbook_has_a_sheet_per_breakdown_with_numbers_and_text_codes(
    client: FlaskClient, system: System
) -> None:
    r = client.get(
        f"{PATH}.xlsx", query_string={"province_code": "24"}, headers=token(system, "central_admin")
    )
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="welfare-card-summary-24.xlsx"'
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == [
        "สรุป",
        "รายจังหวัด",
        "รายเขต-อำเภอ",
        "รายหน่วยงาน",
        "รายกลุ่ม",
        "รายโครงการ",
        "ผลการพัฒนา",
        "การติดตาม",
        "การติดตามรายเขต-อำเภอ",
        "รายวัน",
        "รายวันตามหน่วยงาน",
    ]
    front = {row[0]: row[1] for row in wb["สรุป"].iter_rows(values_only=True) if row[0]}
    assert front["จังหวัด"] == "ฉะเชิงเทรา"
    assert front["กำหนดบันทึกผลการพัฒนา"] == "15/07/2562"
    assert front["ผู้เข้าร่วมมาตรการ (ราย)"] == 6
    areas = wb["รายเขต-อำเภอ"]
    assert [c.value for c in areas[1]][:6] == [
        "รหัสจังหวัด",
        "จังหวัด",
        "รหัสเขต/อำเภอ",
        "เขต/อำเภอ",
        "ผู้เข้าร่วมมาตรการ (ราย)",
        "พัฒนาแล้วเสร็จ (ราย)",
    ]
    first = areas[2]
    assert (first[2].value, first[2].number_format, first[4].value) == ("2401", "@", 3)
    assert isinstance(first[4].value, int)
    follow = list(wb["การติดตาม"].iter_rows(min_row=2, values_only=True))
    assert follow[0][:2] == ("2019-06", "รอบเดือนมิถุนายน 2562")
