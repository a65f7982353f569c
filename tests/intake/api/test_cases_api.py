"""Recording, editing and finding cases through intake's API (in process, both backends)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from services.intake.models import Case, CaseEvent, Citizen
from shared.audit import AuditEntry, verify_chain
from shared.models import OutboxMessage
from tests.intake.support import IntakeEnv, case_body, house_id, national_id

pytestmark = [pytest.mark.integration]


def count(env: IntakeEnv, model: Any) -> int:
    with env.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


class TestRecordCase:
    def test_records_every_field_and_answers_the_contract(self, env: IntakeEnv, client: FlaskClient) -> None:
        nid = national_id()
        body = case_body(national_id=nid, disabled=True, birth_date="2015-10-02", title="เด็กชาย", sex="male")
        body["welfare_type_code"] = "KINDERGARTEN"
        r = client.post("/api/intake/cases", json=body, headers=env.headers())
        assert r.status_code == 201, r.json
        case = r.json
        assert re.fullmatch(r"Case25\d\d-\d+", case["case_no"])
        assert case["case_no"] == f"Case{case['fiscal_year']}-{case['case_no'].split('-')[1]}"
        assert case["district_code"] == "1008"
        assert case["case_type"] == "disabled"
        assert case["case_type_th"] == "เคสผู้พิการ"
        assert case["status"] == "registered"
        assert case["amount"] == "3000.00"
        assert (
            case["national_id"] == case["national_id_masked"] == f"x-xxxx-xxxx{nid[9]}-{nid[10:12]}-{nid[12]}"
        )
        assert case["bank"] == {
            "bank_code": "006",
            "branch_code": None,
            "account_name": "สมศรี ใจดี",
            "account_no": "xxxxxx7890",
        }
        detail = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers()).json
        assert detail["national_id"] == nid
        assert detail["bank"]["account_no"] == "1234567890"
        assert case["phone"] == "0812345678"
        assert case["email"] == "somsri@example.com"
        assert case["recorded_by"] == "officer.1008"
        assert case["locked"] is False
        assert 8 <= case["age"] <= 12

    def test_publishes_case_registered_without_the_national_id(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        nid = national_id()
        case = env.record(client, national_id=nid)
        with env.sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "case.registered")).all()
        mine = [r for r in rows if r.body["payload"]["case_id"] == case["id"]]
        assert sorted(r.destination for r in mine) == ["approval", "reporting"]
        payload = mine[0].body["payload"]
        assert payload["case_no"] == case["case_no"]
        assert payload["welfare_type_name"] == "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล"
        assert payload["amount"] == "3000.00"
        assert nid not in str(mine[0].body)

    def test_is_audited_and_the_chain_verifies(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        with env.sessions() as s:
            entries = s.scalars(select(AuditEntry).where(AuditEntry.object_id == case["id"])).all()
            assert [e.action for e in entries] == ["case.record"]
            assert entries[0].actor == "officer.1008"
            assert case["national_id"] not in str(entries[0].after)
            assert verify_chain(s).ok

    def test_baac_needs_a_branch_code_and_12_digits(self, env: IntakeEnv, client: FlaskClient) -> None:
        bank = {
            "bank_code": "034",
            "branch_code": "0123",
            "account_name": "ก ข",
            "account_no": "0201-2345-6789",
        }
        case = env.record(client, bank=bank)
        assert case["bank"]["branch_code"] == "0123"
        detail = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers()).json
        assert detail["bank"]["account_no"] == "020123456789"

    @pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+66812345678", "-2+3", "@SUM(A1:A2)"])
    def test_formula_like_names_are_stored_as_typed(
        self, env: IntakeEnv, client: FlaskClient, name: str
    ) -> None:
        case = env.record(
            client,
            first_name=name,
            last_name=name,
            bank={"bank_code": "006", "account_name": name, "account_no": "1234567890"},
        )
        got = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers()).json
        assert (got["first_name"], got["last_name"], got["bank"]["account_name"]) == (name, name, name)
        listed = client.get(f"/api/intake/cases?q={case['case_no']}", headers=env.headers()).json
        assert listed["items"][0]["first_name"] == name

    def test_the_district_is_the_callers(self, env: IntakeEnv, client: FlaskClient) -> None:
        body = case_body(district_code="1001")
        r = client.post("/api/intake/cases", json=body, headers=env.headers())
        assert r.status_code == 400  # not a field of the body: the caller cannot choose
        case = env.record(client, role="head", district="1001")
        assert case["district_code"] == "1001"


BAD_INPUT = [
    ("national_id", {"national_id": "1234567890123"}, "national_id", "เลขตรวจสอบ"),
    ("thai digits", {"national_id": "๑๒๓๔๕๖๗๘๙๐๑๒๑"}, "national_id", "ตัวเลขอารบิก"),
    ("full-width digits", {"national_id": "１１０１７００２０３４５１"}, "national_id", "ตัวเลขอารบิก"),
    ("12 digits", {"national_id": "110170020345"}, "national_id", "13 หลัก"),
    ("14 digits", {"national_id": "11017002034511"}, "national_id", "13 หลัก"),
    ("future birth date", {"birth_date": "2999-01-01"}, "birth_date", "อนาคต"),
    ("impossible birth date", {"birth_date": "2001-02-30"}, "birth_date", "วันที่"),
    ("too old", {"birth_date": "1850-01-01"}, "birth_date", "130"),
    ("zero amount", {"amount": "0"}, "amount", "มากกว่า 0"),
    ("negative amount", {"amount": "-5"}, "amount", "จำนวนเงิน"),
    ("3 decimals", {"amount": "100.005"}, "amount", "ทศนิยม"),
    ("float amount", {"amount": 100.5}, "amount", "float"),
    ("unknown welfare type", {"welfare_type_code": "NOPE"}, "welfare_type_code", "ไม่พบประเภทเงินสงเคราะห์"),
    (
        "unknown bank",
        {"bank": {"bank_code": "999", "account_name": "ก", "account_no": "1234567890"}},
        "bank.bank_code",
        "ไม่พบรหัสธนาคาร",
    ),
    (
        "BAAC without branch",
        {"bank": {"bank_code": "034", "account_name": "ก", "account_no": "020123456789"}},
        "bank.branch_code",
        "รหัสสาขา",
    ),
    (
        "account length",
        {"bank": {"bank_code": "006", "account_name": "ก", "account_no": "12345"}},
        "bank.account_no",
        "10 หลัก",
    ),
    (
        "GSB account length",
        {"bank": {"bank_code": "030", "account_name": "ก", "account_no": "1234567890"}},
        "bank.account_no",
        "12 หรือ 15 หลัก",
    ),
    (
        "letters in account",
        {"bank": {"bank_code": "006", "account_name": "ก", "account_no": "12345abcde"}},
        "bank.account_no",
        "ตัวเลขอารบิก",
    ),
    ("blank first name", {"first_name": "   "}, "first_name", "กรุณากรอก"),
    ("control character", {"last_name": "ใจ\x00ดี"}, "last_name", "อักขระควบคุม"),
    ("bad sex", {"sex": "x"}, "sex", "ต้องเป็นค่าใดค่าหนึ่ง"),
    ("bad phone", {"phone": "08-1234-5678"}, "phone", "หมายเลขโทรศัพท์"),
    ("bad email", {"email": "not-an-email"}, "email", "อีเมล"),
    ("bad house id", {"house_id": "12-34"}, "house_id", "รหัสประจำบ้าน"),
    ("missing hardship", {"hardship": None}, "hardship", "ต้องมีค่า"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"), [b[1:] for b in BAD_INPUT], ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_is_400_naming_the_field_and_saves_nothing(
    env: IntakeEnv, client: FlaskClient, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    before = (count(env, Case), count(env, Citizen), count(env, OutboxMessage), count(env, AuditEntry))
    r = client.post("/api/intake/cases", json=case_body(**overrides), headers=env.headers())
    assert r.status_code == 400, r.json
    assert field in r.json["error"]["fields"], r.json
    assert fragment in r.json["error"]["fields"][field], r.json
    assert re.search("[\u0e00-\u0e7f]", r.json["error"]["fields"][field])  # Thai
    after = (count(env, Case), count(env, Citizen), count(env, OutboxMessage), count(env, AuditEntry))
    assert after == before


class TestCeilings:
    def test_amount_above_the_ceiling_is_422_naming_the_rule(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        before = count(env, Case)
        r = client.post("/api/intake/cases", json=case_body(amount="5000.01"), headers=env.headers())
        assert r.status_code == 422
        assert r.json["error"]["code"] == "ceiling_per_person_fy"
        assert "5,000.00" in r.json["error"]["message"]
        assert count(env, Case) == before

    def test_per_person_ceiling_counts_open_and_approved_cases_of_the_fiscal_year(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        nid = national_id()
        env.record(client, national_id=nid, amount="3000.00")
        env.record(client, national_id=nid, amount="1500.00", role="officer", district="1001")
        r = client.post(
            "/api/intake/cases", json=case_body(national_id=nid, amount="500.01"), headers=env.headers()
        )
        assert r.status_code == 422
        message = r.json["error"]["message"]
        assert r.json["error"]["code"] == "ceiling_per_person_fy"
        assert "4,500.00" in message
        assert "500.01" in message
        assert "500.00" in message
        ok = client.post(
            "/api/intake/cases", json=case_body(national_id=nid, amount="500.00"), headers=env.headers()
        )
        assert ok.status_code == 201

    def test_per_family_ceiling_counts_the_whole_house(self, env: IntakeEnv, client: FlaskClient) -> None:
        house = house_id()
        env.record(client, welfare_type_code="CAREER", house_id=house, amount="3000.00")
        r = client.post(
            "/api/intake/cases",
            json=case_body(welfare_type_code="CAREER", house_id=house, amount="2500.00"),
            headers=env.headers(),
        )
        assert r.status_code == 422
        assert r.json["error"]["code"] == "ceiling_per_family_fy"
        assert "ครอบครัว" in r.json["error"]["message"]
        ok = client.post(
            "/api/intake/cases",
            json=case_body(welfare_type_code="CAREER", house_id=house, amount="2000.00"),
            headers=env.headers(),
        )
        assert ok.status_code == 201

    def test_per_family_types_need_the_house_registration(self, env: IntakeEnv, client: FlaskClient) -> None:
        r = client.post(
            "/api/intake/cases", json=case_body(welfare_type_code="CAREER"), headers=env.headers()
        )
        assert r.status_code == 400
        assert "house_id" in r.json["error"]["fields"]

    def test_disqualified_cases_do_not_count(self, env: IntakeEnv, client: FlaskClient) -> None:
        from services.intake import handlers
        from shared.db import utcnow

        nid = national_id()
        first = env.record(client, national_id=nid, amount="5000.00")
        with env.sessions.begin() as s:
            handlers.change_status(
                s,
                case_id=first["id"],
                kind="disqualified",
                at=utcnow(),
                by="head.1008",
                actor="approval:head.1008",
                reason="ขาดคุณสมบัติ",
            )
        env.record(client, national_id=nid, amount="5000.00")

    def test_repeat_limit(self, env: IntakeEnv, client: FlaskClient) -> None:
        nid = national_id()
        env.record(client, national_id=nid, welfare_type_code="SCHOLARSHIP", amount="1000.00")
        r = client.post(
            "/api/intake/cases",
            json=case_body(national_id=nid, welfare_type_code="SCHOLARSHIP", amount="1000.00"),
            headers=env.headers(),
        )
        assert r.status_code == 422
        assert r.json["error"]["code"] == "repeat_limit"
        assert "1 ครั้ง" in r.json["error"]["message"]


class TestEditCase:
    def test_edit_publishes_case_updated_with_changed_fields(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        case = env.record(client)
        r = client.patch(
            f"/api/intake/cases/{case['id']}",
            json={"first_name": "สมใจ", "amount": "2500.00", "disabled": True},
            headers=env.headers(),
        )
        assert r.status_code == 200, r.json
        assert r.json["first_name"] == "สมใจ"
        assert r.json["case_type"] == "disabled"
        with env.sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "case.updated")).all()
            payload = next(r.body["payload"] for r in rows if r.body["payload"]["case_id"] == case["id"])
            trail = s.scalars(
                select(AuditEntry).where(
                    AuditEntry.object_id == case["id"], AuditEntry.action == "case.update"
                )
            ).one()
        assert payload["changed"] == ["amount", "disabled", "first_name"]
        assert payload["bank"] is None
        assert payload["amount"] == "2500.00"
        assert trail.before == {"amount": "3000.00", "disabled": False, "first_name": "***"}

    def test_bank_change_travels_in_case_updated(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        bank = {"bank_code": "014", "account_name": "สมศรี ใจดี", "account_no": "987-6-54321-0"}
        r = client.patch(f"/api/intake/cases/{case['id']}", json={"bank": bank}, headers=env.headers())
        assert r.status_code == 200
        with env.sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "case.updated")).all()
        payload = next(r.body["payload"] for r in rows if r.body["payload"]["case_id"] == case["id"])
        assert payload["changed"] == ["bank"]
        assert payload["bank"]["account_no"] == "9876543210"

    def test_national_id_cannot_be_edited(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        r = client.patch(
            f"/api/intake/cases/{case['id']}", json={"national_id": national_id()}, headers=env.headers()
        )
        assert r.status_code == 422
        assert r.json["error"]["code"] == "national_id_not_editable"

    def test_edit_rechecks_the_ceiling_without_counting_the_case_itself(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        case = env.record(client, amount="4000.00")
        assert (
            client.patch(
                f"/api/intake/cases/{case['id']}", json={"amount": "5000.00"}, headers=env.headers()
            ).status_code
            == 200
        )
        r = client.patch(f"/api/intake/cases/{case['id']}", json={"amount": "5000.50"}, headers=env.headers())
        assert r.status_code == 422

    def test_locked_case_allows_only_bank_phone_email(self, env: IntakeEnv, client: FlaskClient) -> None:
        from services.intake import handlers

        case = env.record(client)
        with env.sessions.begin() as s:
            result = handlers.lock_batch(
                s,
                batch_id=f"batch-{case['id']}",
                district_code="1008",
                items=[{"case_id": case["id"], "welfare_type_code": "MEDICAL", "amount": case_amount(case)}],
            )
        assert result == "locked"
        r = client.patch(f"/api/intake/cases/{case['id']}", json={"amount": "100.00"}, headers=env.headers())
        assert r.status_code == 409
        assert r.json["error"]["code"] == "case_locked"
        assert "จำนวนเงิน" in r.json["error"]["message"]
        ok = client.patch(
            f"/api/intake/cases/{case['id']}",
            json={"phone": "0899999999", "email": "x@example.com", "first_name": case["first_name"]},
            headers=env.headers(),
        )
        assert ok.status_code == 200, ok.json
        assert ok.json["phone"] == "0899999999"

    def test_other_district_cannot_edit_or_see(self, env: IntakeEnv, client: FlaskClient) -> None:
        nid = national_id()
        case = env.record(client, national_id=nid)
        other = env.headers("officer", "1001")
        assert (
            client.patch(f"/api/intake/cases/{case['id']}", json={"phone": None}, headers=other).status_code
            == 404
        )
        assert client.get(f"/api/intake/cases/{case['id']}", headers=other).status_code == 404
        central = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers("central_admin", None))
        assert central.status_code == 200
        assert central.json["national_id"] == nid


def case_amount(case: dict[str, Any]) -> Any:
    from decimal import Decimal

    return Decimal(case["amount"])


class TestDetailAndFind:
    def test_reading_the_full_record_is_audited(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        client.get(f"/api/intake/cases/{case['id']}", headers=env.headers("finance", "1008"))
        client.get(f"/api/intake/cases/{case['id']}", headers=env.headers("officer", "1001"))  # 404: not read
        with env.sessions() as s:
            reads = s.scalars(
                select(AuditEntry).where(AuditEntry.object_id == case["id"], AuditEntry.action == "case.read")
            ).all()
        assert [(r.actor, r.role, r.fields) for r in reads] == [
            ("finance.1008", "finance", ["national_id", "bank"])
        ]

    def test_detail_shows_history_and_audit_trail(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        client.patch(f"/api/intake/cases/{case['id']}", json={"phone": "0811111111"}, headers=env.headers())
        detail = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers("finance", "1008")).json
        assert detail["welfare_type_name"] == "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล"
        assert [h["kind"] for h in detail["history"]] == ["registered", "updated"]
        assert detail["history"][0]["status_th"]
        assert [a["action"] for a in detail["audit_trail"]] == ["case.record", "case.update"]
        assert detail["audit_trail"][1]["fields"] == ["phone"]
        assert "0811111111" not in str(detail["audit_trail"])
        assert detail["missing_documents"] == ["related", "financial"]

    def test_find_by_name_number_national_id_status_year_type(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        nid = national_id()
        a = env.record(client, national_id=nid, first_name="ทดสอบค้นหา", last_name="นามสกุลหนึ่ง")
        env.record(client, first_name="ทดสอบค้นหา", last_name="นามสกุลสอง", welfare_type_code="SCHOLARSHIP")
        h = env.headers()

        def find(query: str) -> dict[str, Any]:
            r = client.get(f"/api/intake/cases?{query}", headers=h)
            assert r.status_code == 200, r.json
            return dict(r.json)

        assert find("q=ทดสอบค้นหา")["total"] == 2
        assert find("q=ทดสอบค้นหา นามสกุลหนึ่ง")["total"] == 1
        assert [i["id"] for i in find(f"q={a['case_no']}")["items"]] == [a["id"]]
        by_id = find(f"national_id={nid}")
        assert [i["id"] for i in by_id["items"]] == [a["id"]]
        assert by_id["items"][0]["national_id_masked"].startswith("x-xxxx-xxxx")
        assert nid not in str(by_id)
        assert find("q=ทดสอบค้นหา&welfare_type_code=SCHOLARSHIP")["total"] == 1
        assert find(f"q=ทดสอบค้นหา&status=registered&fiscal_year={a['fiscal_year']}")["total"] == 2
        assert find("q=ทดสอบค้นหา&status=paid")["total"] == 0
        page = find("q=ทดสอบค้นหา&per_page=1&page=2")
        assert page["total"] == 2
        assert len(page["items"]) == 1
        assert find("q=100%25")["total"] == 0  # LIKE wildcards are literal

    def test_lists_are_limited_to_the_district(self, env: IntakeEnv, client: FlaskClient) -> None:
        mine = env.record(client, first_name="เขตหนึ่งพันหนึ่ง", role="officer", district="1001")
        other = client.get("/api/intake/cases?q=เขตหนึ่งพันหนึ่ง", headers=env.headers()).json
        assert other["total"] == 0
        central = client.get(
            "/api/intake/cases?q=เขตหนึ่งพันหนึ่ง", headers=env.headers("central_admin", None)
        ).json
        assert [i["id"] for i in central["items"]] == [mine["id"]]

    def test_bad_national_id_filter_is_400(self, env: IntakeEnv, client: FlaskClient) -> None:
        r = client.get("/api/intake/cases?national_id=1234567890123", headers=env.headers())
        assert r.status_code == 400
        assert "national_id" in r.json["error"]["fields"]


class TestRoles:
    def test_operator_sees_no_case_data(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        op = env.headers("operator", None)
        assert client.get("/api/intake/cases", headers=op).status_code == 403
        assert client.get(f"/api/intake/cases/{case['id']}", headers=op).status_code == 403
        assert (
            client.get(f"/api/intake/citizens/{case['national_id']}/history", headers=op).status_code == 403
        )
        assert client.post("/api/intake/cases", json=case_body(), headers=op).status_code == 403

    def test_finance_and_central_read_but_do_not_record(self, env: IntakeEnv, client: FlaskClient) -> None:
        for role, district in (("finance", "1008"), ("central_admin", None)):
            r = client.post("/api/intake/cases", json=case_body(), headers=env.headers(role, district))
            assert r.status_code == 403
            assert client.get("/api/intake/cases", headers=env.headers(role, district)).status_code == 200

    def test_head_records(self, env: IntakeEnv, client: FlaskClient) -> None:
        assert env.record(client, role="head")["recorded_by"] == "head.1008"

    def test_no_token_is_401(self, client: FlaskClient) -> None:
        assert client.get("/api/intake/cases").status_code == 401


class TestHomeVisit:
    def test_records_a_home_visit_by_the_caller(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        r = client.post(
            f"/api/intake/cases/{case['id']}/home-visit",
            json={"visited_on": "2024-01-15", "findings": "บ้านเช่า รายได้ไม่แน่นอน\nมีผู้ป่วยติดเตียง"},
            headers=env.headers("head", "1008"),
        )
        assert r.status_code == 201, r.json
        assert r.json["officer"] == "head.1008"
        detail = client.get(f"/api/intake/cases/{case['id']}", headers=env.headers()).json
        assert detail["home_visits"][0]["visited_on"] == "2024-01-15"
        assert "home_visit.record" in [a["action"] for a in detail["audit_trail"]]

    def test_future_visit_date_is_refused(self, env: IntakeEnv, client: FlaskClient) -> None:
        case = env.record(client)
        r = client.post(
            f"/api/intake/cases/{case['id']}/home-visit",
            json={"visited_on": "2999-01-01", "findings": "x"},
            headers=env.headers(),
        )
        assert r.status_code == 400
        assert "visited_on" in r.json["error"]["fields"]


def test_check_amendment_excludes_the_case_itself(env: IntakeEnv, client: FlaskClient) -> None:
    nid = national_id()
    case = env.record(client, national_id=nid, amount="4000.00")
    url = f"/api/intake/cases/{case['id']}/check-amendment"
    ok = client.post(
        url, json={"welfare_type_code": "MEDICAL", "amount": "5000.00"}, headers=env.headers("head")
    )
    assert ok.status_code == 200
    assert ok.json == {
        "ok": True,
        "welfare_type_code": "MEDICAL",
        "welfare_type_name": "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล",
        "regulation_ref": None,
        "amount": "5000.00",
    }
    bad = client.post(
        url, json={"welfare_type_code": "MEDICAL", "amount": "5000.01"}, headers=env.headers("head")
    )
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "ceiling_per_person_fy"
    other = client.post(
        url, json={"welfare_type_code": "MEDICAL", "amount": "1.00"}, headers=env.headers("head", "1001")
    )
    assert other.status_code == 404


def test_openapi_documents_the_intake_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/intake/openapi.json").json["paths"]
    for path in (
        "/api/intake/cases",
        "/api/intake/cases/{case_id}",
        "/api/intake/cases/{case_id}/documents",
        "/api/intake/cases/{case_id}/documents/{kind}",
        "/api/intake/cases/{case_id}/home-visit",
        "/api/intake/cases/{case_id}/check-amendment",
        "/api/intake/citizens/{national_id}/history",
        "/api/intake/welfare-types/{code}",
        "/api/intake/programmes",
    ):
        assert path in paths, path
    assert "requestBody" in paths["/api/intake/cases"]["post"]


def test_events_history_entries_exist(env: IntakeEnv, client: FlaskClient) -> None:
    case = env.record(client)
    with env.sessions() as s:
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case["id"])).all()
    assert kinds == ["registered"]


def test_unknown_district_of_the_caller_is_400(env: IntakeEnv, client: FlaskClient) -> None:
    before = count(env, Case)
    r = client.post("/api/intake/cases", json=case_body(), headers=env.headers("officer", "9999"))
    assert r.status_code == 400
    assert "สำนักงานเขต" in r.json["error"]["fields"]["district_code"]
    assert count(env, Case) == before
