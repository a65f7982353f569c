"""The check before recording: history in every district and fiscal year, with warnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient

from services.intake import handlers, services
from services.intake.schemas import CaseCreateSchema
from services.intake.services import Actor
from shared.db import utcnow
from tests.intake.support import OFFICER, IntakeEnv, case_body, house_id, national_id, utc

pytestmark = [pytest.mark.integration]


def record_at(env: IntakeEnv, when: dt.datetime, actor: Actor = OFFICER, **overrides: Any) -> str:
    """Record a case as if at ``when`` (earlier fiscal years)."""
    data = CaseCreateSchema().load(case_body(**overrides))
    with env.sessions.begin() as s:
        return services.record_case(s, data=data, actor=actor, now=when).id


def set_status(env: IntakeEnv, case_id: str, *kinds: str) -> None:
    with env.sessions.begin() as s:
        for kind in kinds:
            assert handlers.change_status(s, case_id=case_id, kind=kind, at=utcnow(), by="x", actor="test")


def test_history_lists_every_district_and_year_newest_first(env: IntakeEnv, client: FlaskClient) -> None:
    nid = national_id()
    old = record_at(env, utc(2021, 3, 1), national_id=nid, welfare_type_code="CAREER", house_id=house_id())
    set_status(env, old, "approved", "paid")
    record_at(env, utc(2022, 11, 1), Actor("officer.1001", "officer", "1001"), national_id=nid)
    current = env.record(client, national_id=nid)
    r = client.get(f"/api/intake/citizens/{nid}/history", headers=env.headers("officer", "1001"))
    assert r.status_code == 200, r.json
    body = r.json
    assert body["national_id"] == f"x-xxxx-xxxx{nid[9]}-{nid[10:12]}-{nid[12]}"
    cases = body["cases"]
    assert [c["fiscal_year"] for c in cases] == [current["fiscal_year"], 2566, 2564]
    assert cases[0]["case_no"] == current["case_no"]
    assert cases[1]["district_code"] == "1001"
    assert cases[1]["district_name"] == "พระนคร"
    assert cases[2]["status"] == "paid"
    assert cases[2]["welfare_type_name"] == "ทุนประกอบอาชีพ"
    assert cases[2]["amount"] == "3000.00"
    assert set(cases[0]) >= {
        "case_no",
        "fiscal_year",
        "district_code",
        "welfare_type_code",
        "amount",
        "status",
        "recorded_at",
    }
    codes = [w["code"] for w in body["warnings"]]
    assert codes.count("open_case") == 2  # the 2566 case (registered) and the current one


def test_history_warns_about_ceilings_and_grants_this_year(env: IntakeEnv, client: FlaskClient) -> None:
    nid = national_id()
    first = env.record(client, national_id=nid, amount="4000.00")
    set_status(env, first["id"], "approved")
    r = client.get(
        f"/api/intake/citizens/{nid}/history?welfare_type_code=MEDICAL&amount=2000.00", headers=env.headers()
    )
    warnings = {w["code"]: w["message"] for w in r.json["warnings"]}
    assert "already_granted_this_fy" in warnings
    assert "ceiling_per_person_fy" in warnings
    assert "4,000.00" in warnings["ceiling_per_person_fy"]
    assert "open_case" in warnings  # approved but not paid yet
    fine = client.get(
        f"/api/intake/citizens/{nid}/history?welfare_type_code=MEDICAL&amount=1000.00", headers=env.headers()
    )
    assert "ceiling_per_person_fy" not in {w["code"] for w in fine.json["warnings"]}


def test_history_status_follows_payment_events(env: IntakeEnv, client: FlaskClient) -> None:
    nid = national_id()
    case = env.record(client, national_id=nid)
    set_status(env, case["id"], "placed_on_agenda", "approved", "paid")
    r = client.get(f"/api/intake/citizens/{nid}/history", headers=env.headers())
    assert r.json["cases"][0]["status"] == "paid"
    assert r.json["cases"][0]["status_th"] == "จ่ายเงินแล้ว"
    assert "open_case" not in {w["code"] for w in r.json["warnings"]}


def test_history_of_a_new_person_is_empty(env: IntakeEnv, client: FlaskClient) -> None:
    nid = national_id()
    r = client.get(f"/api/intake/citizens/{nid}/history", headers=env.headers())
    assert r.status_code == 200
    assert r.json["cases"] == []
    assert r.json["warnings"] == []


@pytest.mark.parametrize("bad", ["1234567890123", "110170020345", "๑๑๐๑๗๐๐๒๐๓๔๕๑"])
def test_bad_national_id_is_400(env: IntakeEnv, client: FlaskClient, bad: str) -> None:
    r = client.get(f"/api/intake/citizens/{bad}/history", headers=env.headers())
    assert r.status_code == 400
    assert "national_id" in r.json["error"]["fields"]


class TestCovidProgramme:
    def test_refuses_anyone_with_a_career_fund_in_fiscal_2564(
        self, env: IntakeEnv, client: FlaskClient
    ) -> None:
        nid = national_id()
        old = record_at(
            env, utc(2021, 5, 1), national_id=nid, welfare_type_code="CAREER", house_id=house_id()
        )
        set_status(env, old, "approved")
        body = case_body(
            national_id=nid, welfare_type_code="CAREER", house_id=house_id(), programme_code="COVID19_CAREER"
        )
        r = client.post("/api/intake/cases", json=body, headers=env.headers())
        assert r.status_code == 422
        assert r.json["error"]["code"] == "programme_covid19_career_prior_fund"
        assert "2564" in r.json["error"]["message"]
        assert "ทุนประกอบอาชีพ" in r.json["error"]["message"]
        history = client.get(
            f"/api/intake/citizens/{nid}/history?welfare_type_code=CAREER", headers=env.headers()
        )
        assert "programme_covid19_career_prior_fund" in {w["code"] for w in history.json["warnings"]}
        # Without the programme, a plain career fund this year is still possible.
        body.pop("programme_code")
        assert client.post("/api/intake/cases", json=body, headers=env.headers()).status_code == 201

    def test_accepts_someone_whose_2564_fund_was_refused(self, env: IntakeEnv, client: FlaskClient) -> None:
        nid = national_id()
        old = record_at(
            env, utc(2021, 5, 1), national_id=nid, welfare_type_code="CAREER", house_id=house_id()
        )
        set_status(env, old, "disqualified")
        body = case_body(
            national_id=nid, welfare_type_code="CAREER", house_id=house_id(), programme_code="COVID19_CAREER"
        )
        r = client.post("/api/intake/cases", json=body, headers=env.headers())
        assert r.status_code == 201, r.json

    def test_programme_only_applies_to_its_welfare_type(self, env: IntakeEnv, client: FlaskClient) -> None:
        r = client.post(
            "/api/intake/cases", json=case_body(programme_code="COVID19_CAREER"), headers=env.headers()
        )
        assert r.status_code == 422
        assert r.json["error"]["code"] == "programme_not_applicable"


def test_amount_query_is_validated(env: IntakeEnv, client: FlaskClient) -> None:
    nid = national_id()
    r = client.get(
        f"/api/intake/citizens/{nid}/history?welfare_type_code=MEDICAL&amount=1.234", headers=env.headers()
    )
    assert r.status_code == 400
    assert "amount" in r.json["error"]["fields"]


def test_every_look_up_is_logged_without_the_national_id(
    env: IntakeEnv, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import select

    from services.intake.models import Citizen

    nid = national_id()
    env.record(client, national_id=nid)
    with caplog.at_level("INFO", logger="services.intake.services.history"):
        client.get(f"/api/intake/citizens/{nid}/history", headers=env.headers("officer", "1001"))
    with env.sessions() as s:
        citizen_id = s.scalar(select(Citizen.id).where(Citizen.national_id == nid))
    [line] = [r.getMessage() for r in caplog.records if "history look-up" in r.getMessage()]
    assert "officer.1001" in line
    assert str(citizen_id) in line
    assert nid not in caplog.text
