"""The welfare catalogue and programmes, managed by the central office through the API."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.audit import AuditEntry
from tests.intake.support import IntakeEnv, case_body, national_id

pytestmark = [pytest.mark.integration]


def test_seeded_catalogue(env: IntakeEnv, client: FlaskClient) -> None:
    types = {t["code"]: t for t in client.get("/api/intake/welfare-types", headers=env.headers()).json}
    assert set(types) >= {"KINDERGARTEN", "CAREER", "MEDICAL", "SCHOLARSHIP", "ELDERLY_FUNERAL"}
    career = types["CAREER"]
    assert (career["ceiling"], career["ceiling_scope"], career["ceiling_source"]) == (
        "5000.00",
        "per_family_fy",
        "seeds",
    )
    assert career["regulation_ref"] == "บัญชีที่ 1 ลำดับที่ 3"
    assert career["required_documents"] == ["related", "financial"]
    assert types["KINDERGARTEN"]["regulation_ref"] == "บัญชีที่ 1 ลำดับที่ 1"
    assert types["MEDICAL"]["ceiling_scope"] == "per_person_fy"
    assert types["MEDICAL"]["ceiling_source"] == "seeds"
    assert types["SCHOLARSHIP"]["ceiling_source"] == "configured"
    programmes = client.get("/api/intake/programmes", headers=env.headers()).json
    covid = next(p for p in programmes if p["code"] == "COVID19_CAREER")
    assert (
        covid["welfare_type_code"],
        covid["excluded_welfare_type_code"],
        covid["excluded_fiscal_year"],
    ) == (
        "CAREER",
        "CAREER",
        2564,
    )


def test_reference_lists_still_work(env: IntakeEnv, client: FlaskClient) -> None:
    districts = client.get("/api/intake/districts", headers=env.headers()).json
    assert len(districts) == 50
    banks = {b["code"]: b for b in client.get("/api/intake/banks", headers=env.headers()).json}
    assert banks["034"]["branch_code_required"] is True
    assert "006" in banks


def test_central_office_adds_and_changes_a_type(env: IntakeEnv, client: FlaskClient) -> None:
    central = env.headers("central_admin", None)
    code = f"T{national_id()[:8]}"
    body = {
        "code": code,
        "name_th": "ค่าเครื่องอุปโภคบริโภค",
        "regulation_ref": "บัญชีที่ 2 ลำดับที่ 1",
        "ceiling": "2000.00",
        "ceiling_scope": "per_person_fy",
        "repeat_limit": 2,
        "required_documents": ["related"],
    }
    r = client.post("/api/intake/welfare-types", json=body, headers=central)
    assert r.status_code == 201, r.json
    assert r.json["required_documents"] == ["related"]
    assert r.json["active"] is True
    assert client.post("/api/intake/welfare-types", json=body, headers=central).status_code == 409
    nid = national_id()
    assert (
        client.post(
            "/api/intake/cases",
            json=case_body(national_id=nid, welfare_type_code=code, amount="1500.00"),
            headers=env.headers(),
        ).status_code
        == 201
    )
    r = client.patch(f"/api/intake/welfare-types/{code}", json={"ceiling": "1000.00"}, headers=central)
    assert r.status_code == 200
    assert r.json["ceiling"] == "1000.00"
    assert r.json["updated_by"] == "central_admin"
    refused = client.post(
        "/api/intake/cases", json=case_body(welfare_type_code=code, amount="1000.01"), headers=env.headers()
    )
    assert refused.status_code == 422
    client.patch(f"/api/intake/welfare-types/{code}", json={"active": False}, headers=central)
    inactive = client.post(
        "/api/intake/cases", json=case_body(welfare_type_code=code, amount="10.00"), headers=env.headers()
    )
    assert inactive.status_code == 422
    assert inactive.json["error"]["code"] == "welfare_type_inactive"
    with env.sessions() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == code)).all()
    assert actions == ["welfare_type.create", "welfare_type.update", "welfare_type.update"]


def test_only_the_central_office_manages_the_catalogue(env: IntakeEnv, client: FlaskClient) -> None:
    for role, district in (("officer", "1008"), ("head", "1008"), ("operator", None), ("finance", "1008")):
        headers = env.headers(role, district)
        assert (
            client.patch(
                "/api/intake/welfare-types/MEDICAL", json={"ceiling": "1.00"}, headers=headers
            ).status_code
            == 403
        )
        assert client.post("/api/intake/programmes", json={}, headers=headers).status_code == 403


def test_catalogue_input_is_validated(env: IntakeEnv, client: FlaskClient) -> None:
    central = env.headers("central_admin", None)
    r = client.patch("/api/intake/welfare-types/MEDICAL", json={"ceiling_scope": "per_moon"}, headers=central)
    assert r.status_code == 400
    assert "ceiling_scope" in r.json["error"]["fields"]
    r = client.patch("/api/intake/welfare-types/MEDICAL", json={"ceiling": "-1"}, headers=central)
    assert r.status_code == 400
    assert "ceiling" in r.json["error"]["fields"]
    assert (
        client.patch("/api/intake/welfare-types/NOPE", json={"active": True}, headers=central).status_code
        == 404
    )


def test_programmes_are_managed_too(env: IntakeEnv, client: FlaskClient) -> None:
    central = env.headers("central_admin", None)
    code = f"P{national_id()[:8]}"
    body = {
        "code": code,
        "name_th": "โครงการทดสอบ",
        "welfare_type_code": "MEDICAL",
        "excluded_welfare_type_code": "MEDICAL",
        "excluded_fiscal_year": 2565,
    }
    r = client.post("/api/intake/programmes", json=body, headers=central)
    assert r.status_code == 201, r.json
    assert r.json["rule_code"] == f"programme_{code.lower()}_prior_fund"
    assert r.json["source"] == "configured"
    r = client.patch(f"/api/intake/programmes/{code}", json={"active": False}, headers=central)
    assert r.status_code == 200
    assert r.json["active"] is False
    refused = client.post("/api/intake/cases", json=case_body(programme_code=code), headers=env.headers())
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "programme_inactive"
    bad = client.post(
        "/api/intake/programmes", json={**body, "code": "PX1", "welfare_type_code": "NOPE"}, headers=central
    )
    assert bad.status_code == 400
    assert "welfare_type_code" in bad.json["error"]["fields"]
