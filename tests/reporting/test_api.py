"""Reporting's HTTP API in process, on SQLite and on PostgreSQL: documents, summaries, budgets, templates."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services import reporting
from shared import auth
from shared.audit import AuditEntry, verify_chain
from shared.testing.system import System
from tests.reporting import factories as f

pytestmark = [pytest.mark.integration]
DOCUMENTS = [
    "approval-report.pdf",
    "approval-report.xlsx",
    "tk1-ktb.pdf",
    "tk1-other.xlsx",
    "kcorp2-ktb.xlsx",
    "kcorp2-other.pdf",
    "payment-review.pdf",
    "payment-review.xlsx",
]


@pytest.fixture(scope="module")
def app(system: System) -> Iterator[Flask]:
    with system.environment():
        built = reporting.create_app({"DATABASE_URL": system.database_url("reporting"), "TESTING": True})
    yield built
    built.extensions["ecase"].engine.dispose()


@pytest.fixture
def client(app: Flask, sessions: sessionmaker[Session]) -> FlaskClient:
    """A client on freshly emptied tables."""
    return app.test_client()


def headers(system: System, role: str = "head", district: str | None = "1008") -> dict[str, str]:
    token = auth.issue_token(
        username=f"{role}.{district}",
        role=role,
        district_code=district,
        secret=system.env["ECASE_SECRET_KEY"],
    )[0]
    return {"Authorization": f"Bearer {token}"}


def seed(sessions: sessionmaker[Session]) -> dict[str, Any]:
    a = f.snapshot(title="เด็กชาย", first="ทดสอบ1", last="ทดสอบ1", welfare=f.KINDERGARTEN, amount="3000.00")
    b = f.snapshot(title="นาง", first="ทดสอบ2", last="ทดสอบ2", amount="5000.00")
    other = f.snapshot(first="เขตพระนคร", district="1001", amount="2000.00")
    f.apply(
        sessions,
        *(f.registered(s) for s in (a, b, other)),
        *(f.placed(s, f.at(1)) for s in (a, b, other)),
        f.batch_approved("B-1008", [(a, f.bank()), (b, f.bank("004", "1112223334"))], f.at(60)),
        f.batch_approved("B-1001", [(other, f.bank())], f.at(60), district="1001"),
        f.paid(a, "B-1008", f.at(120)),
        f.batch_failed("B-failed", f.at(30)),
    )
    return {"a": a, "b": b, "other": other}


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_documents_download_as_attachments(
    client: FlaskClient, system: System, sessions: sessionmaker[Session], doc: str
) -> None:
    seed(sessions)
    r = client.get(f"/api/reporting/batches/B-1008/{doc}", headers=headers(system))
    assert r.status_code == 200, r.json
    ext = doc.rsplit(".", 1)[1]
    assert r.headers["Content-Disposition"] == f'attachment; filename="{doc.rsplit(".", 1)[0]}-B-1008.{ext}"'
    assert r.headers["Content-Disposition"].isascii()
    if ext == "pdf":
        assert r.mimetype == "application/pdf"
        assert pypdf.PdfReader(io.BytesIO(r.data)).pages
    else:
        assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert load_workbook(io.BytesIO(r.data)).active.max_row > 5


def _exports(sessions: sessionmaker[Session]) -> list[AuditEntry]:
    with sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry).where(AuditEntry.action == "document.export").order_by(AuditEntry.seq)
            )
        )


def test_every_document_download_is_audited_without_its_personal_data(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    """Reliability D3: exports are audited — who, which document, which batch and district, the
    kinds of personal data it holds (the bank forms: full account numbers), never the values."""
    seed(sessions)
    before = len(_exports(sessions))
    for doc in ("approval-report.pdf", "tk1-ktb.xlsx", "kcorp2-other.pdf", "payment-review.xlsx"):
        assert client.get(f"/api/reporting/batches/B-1008/{doc}", headers=headers(system)).status_code == 200
    refused = client.get(
        "/api/reporting/batches/B-1001/tk1-ktb.pdf", headers=headers(system, "officer", "1008")
    )
    assert refused.status_code == 404
    entries = _exports(sessions)[before:]
    assert [(e.object_type, e.object_id) for e in entries] == [
        ("approval_report", "B-1008"),
        ("tk1", "B-1008/ktb"),
        ("kcorp2", "B-1008/other"),
        ("payment_review", "B-1008"),
    ]
    assert all(e.actor == "head.1008" and e.role == "head" and e.district_code == "1008" for e in entries)
    assert [e.fields for e in entries] == [["name"], ["name", "account_no"], ["name", "account_no"], ["name"]]
    assert entries[1].after == {"format": "xlsx", "rows": entries[1].after["rows"]}
    assert entries[1].after["rows"] >= 1
    logged = repr([(e.before, e.after, e.fields) for e in entries])
    assert "1112223334" not in logged  # an account number of the seeded payees
    with sessions() as s:
        assert verify_chain(s).ok


@pytest.mark.parametrize(
    "doc", ["approval-report.pdf", "tk1-ktb.xlsx", "kcorp2-other.pdf", "payment-review.xlsx"]
)
def test_another_districts_batch_is_404(
    client: FlaskClient, system: System, sessions: sessionmaker[Session], doc: str
) -> None:
    seed(sessions)
    r = client.get(f"/api/reporting/batches/B-1001/{doc}", headers=headers(system, "officer", "1008"))
    assert r.status_code == 404
    assert r.json["error"]["code"] == "not_found"
    unknown = client.get(f"/api/reporting/batches/no-such-batch/{doc}", headers=headers(system))
    assert unknown.status_code == 404
    central = client.get(
        f"/api/reporting/batches/B-1001/{doc}", headers=headers(system, "central_admin", None)
    )
    assert central.status_code == 200


def test_documents_are_not_for_operators_and_failed_batches_have_none(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    r = client.get(
        "/api/reporting/batches/B-1008/approval-report.pdf", headers=headers(system, "operator", None)
    )
    assert r.status_code == 403
    failed = client.get("/api/reporting/batches/B-failed/approval-report.pdf", headers=headers(system))
    assert failed.status_code == 409
    assert failed.json["error"]["code"] == "batch_not_approved"
    bad_format = client.get("/api/reporting/batches/B-1008/approval-report.docx", headers=headers(system))
    assert bad_format.status_code == 404


def test_agenda_document_is_scoped_to_the_district(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    waiting = f.snapshot(first="รอประชุม", amount="2000.00")
    f.apply(sessions, f.registered(waiting), f.placed(waiting, f.at(1)))
    r = client.get("/api/reporting/districts/1008/agenda.pdf", headers=headers(system, "officer"))
    assert r.status_code == 200
    assert "รอประชุม" in pypdf.PdfReader(io.BytesIO(r.data)).pages[0].extract_text()
    assert r.headers["Content-Disposition"] == 'attachment; filename="agenda-1008.pdf"'
    other = client.get("/api/reporting/districts/1001/agenda.pdf", headers=headers(system, "officer"))
    assert other.status_code == 404
    assert (
        client.get(
            "/api/reporting/districts/9999/agenda.xlsx", headers=headers(system, "central_admin", None)
        ).status_code
        == 404
    )


def test_batches_list_is_scoped(client: FlaskClient, system: System, sessions: sessionmaker[Session]) -> None:
    seed(sessions)
    own = client.get("/api/reporting/batches?fiscal_year=2566", headers=headers(system, "finance"))
    assert own.status_code == 200
    assert own.json["total"] == 1
    [item] = own.json["items"]
    assert (item["id"], item["count"], item["total_amount"], item["status"]) == (
        "B-1008",
        2,
        "8000.00",
        "approved",
    )
    central = client.get("/api/reporting/batches", headers=headers(system, "central_admin", None))
    assert {i["id"] for i in central.json["items"]} == {"B-1008", "B-1001"}


@pytest.mark.parametrize(
    "query",
    ["fiscal_year=2400", "fiscal_year=2701", "fiscal_year=2023", "fiscal_year=abc", "district_code=10"],
)
def test_summary_refuses_bad_input_with_400(client: FlaskClient, system: System, query: str) -> None:
    r = client.get(f"/api/reporting/summary?{query}", headers=headers(system, "central_admin", None))
    assert r.status_code == 400
    field = query.split("=")[0]
    assert field in r.json["error"]["fields"]
    if field == "fiscal_year":
        assert r.json["error"]["fields"]["fiscal_year"].startswith("ปีงบประมาณต้องเป็นปี พ.ศ.")


def test_summary_districts_see_their_own_the_central_office_all(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    own = client.get("/api/reporting/summary?fiscal_year=2566", headers=headers(system, "officer"))
    assert own.status_code == 200
    body = own.json
    assert body["district_code"] == "1008"
    assert body["totals"] == {
        "cases": 2,
        "requested_amount": "8000.00",
        "approved_cases": 2,
        "approved_amount": "8000.00",
        "paid_cases": 1,
        "paid_amount": "3000.00",
        "failed_cases": 0,
        "failed_amount": "0.00",
    }
    assert [(s["status"], s["cases"]) for s in body["by_status"]] == [("approved", 1), ("paid", 1)]
    assert {w["welfare_type_code"]: w["welfare_type_name"] for w in body["by_welfare_type"]} == {
        "CAREER": "ทุนประกอบอาชีพ",
        "KINDERGARTEN": "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล",
    }
    assert [m["month"] for m in body["by_month"]] == ["2022-10"]
    assert body["daily_intake"] == [{"date": "2022-10-03", "cases": 2}]
    assert [d["district_code"] for d in body["by_district"]] == ["1008"]
    forbidden = client.get("/api/reporting/summary?district_code=1001", headers=headers(system, "officer"))
    assert forbidden.status_code == 404
    central = client.get("/api/reporting/summary", headers=headers(system, "central_admin", None)).json
    assert central["district_code"] is None
    assert [d["district_code"] for d in central["by_district"]] == ["1001", "1008"]
    assert central["totals"]["cases"] == 3
    assert [y["fiscal_year"] for y in central["by_fiscal_year"]] == [2566]
    one = client.get(
        "/api/reporting/summary?district_code=1001", headers=headers(system, "central_admin", None)
    )
    assert one.json["totals"]["cases"] == 1


def test_budgets_are_entered_by_the_central_office_and_show_the_share_disbursed(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    url = "/api/reporting/budgets/2566/1008"
    assert client.put(url, json={"amount": "12000.00"}, headers=headers(system, "head")).status_code == 403
    bad = client.put(url, json={"amount": 12000.5}, headers=headers(system, "central_admin", None))
    assert bad.status_code == 400
    assert "amount" in bad.json["error"]["fields"]
    out_of_range = client.put(
        "/api/reporting/budgets/3000/1008",
        json={"amount": "1.00"},
        headers=headers(system, "central_admin", None),
    )
    assert out_of_range.status_code == 400
    unknown = client.put(
        "/api/reporting/budgets/2566/9999",
        json={"amount": "1.00"},
        headers=headers(system, "central_admin", None),
    )
    assert unknown.status_code == 404
    r = client.put(url, json={"amount": "12000.00"}, headers=headers(system, "central_admin", None))
    assert r.status_code == 200, r.json
    assert (r.json["allocated_amount"], r.json["disbursed_amount"], r.json["share_disbursed"]) == (
        "12000.00",
        "3000.00",
        "25.00",
    )
    again = client.put(url, json={"amount": "15000.00"}, headers=headers(system, "central_admin", None))
    assert again.json["share_disbursed"] == "20.00"
    own = client.get("/api/reporting/budgets?fiscal_year=2566", headers=headers(system, "finance"))
    assert [(b["district_code"], b["allocated_amount"]) for b in own.json["items"]] == [("1008", "15000.00")]
    everyone = client.get("/api/reporting/budgets", headers=headers(system, "central_admin", None)).json[
        "items"
    ]
    assert [(b["district_code"], b["allocated_amount"]) for b in everyone] == [("1008", "15000.00")]
    summary = client.get("/api/reporting/summary?fiscal_year=2566", headers=headers(system)).json
    assert summary["budgets"][0]["share_disbursed"] == "20.00"
    with sessions() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "budget.set")).all()
        assert [(e.before, e.after) for e in entries] == [
            (None, {"amount": "12000.00"}),
            ({"amount": "12000.00"}, {"amount": "15000.00"}),
        ]
        assert entries[0].actor == "central_admin.None"
        assert verify_chain(s).ok


def test_templates_are_adjusted_by_the_districts_head(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    url = "/api/reporting/templates/kcorp2"
    body = {
        "title": "แบบ K-Corp 2 (เขตป้อมปราบฯ)",
        "signatures": [{"label": "ผู้จัดทำ", "name": "นายสมชาย รักงาน", "position": "เจ้าพนักงานธุรการ"}],
    }
    assert client.put(url, json=body, headers=headers(system, "officer")).status_code == 403
    assert (
        client.put(url, json={**body, "district_code": "1001"}, headers=headers(system, "head")).status_code
        == 404
    )
    invalid = client.put(url, json={"font_size": 40, "colour": "red"}, headers=headers(system, "head"))
    assert invalid.status_code == 400
    assert set(invalid.json["error"]["fields"]) == {"font_size", "colour"}
    central = client.put(url, json=body, headers=headers(system, "central_admin", None))
    assert central.status_code == 400
    assert central.json["error"]["code"] == "district_required"
    r = client.put(url, json=body, headers=headers(system, "head"))
    assert r.status_code == 200, r.json
    assert r.json["template"]["title"] == "แบบ K-Corp 2 (เขตป้อมปราบฯ)"
    assert r.json["override"]["signatures"][0]["name"] == "นายสมชาย รักงาน"
    assert r.json["template"]["orientation"] == "L"  # defaults kept for keys not given
    pdf_bytes = client.get("/api/reporting/batches/B-1008/kcorp2-ktb.pdf", headers=headers(system)).data
    text = pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages[0].extract_text()
    assert "แบบ K-Corp 2 (เขตป้อมปราบฯ)" in text
    assert "(นายสมชาย รักงาน)" in text
    got = client.get(url, headers=headers(system, "finance"))
    assert got.json["override"]["title"] == "แบบ K-Corp 2 (เขตป้อมปราบฯ)"
    other = client.get(f"{url}?district_code=1001", headers=headers(system, "central_admin", None))
    assert other.json["override"] is None
    assert other.json["template"]["title"] == "แบบ K-Corp 2"
    reset = client.put(url, json={}, headers=headers(system, "head"))
    assert reset.json["template"]["title"] == "แบบ K-Corp 2"
    with sessions() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.object_type == "report_template")
        ).all()
    assert actions == ["template.set", "template.set"]


def test_summary_xlsx_has_numbers_and_text_where_they_belong(
    client: FlaskClient, system: System, sessions: sessionmaker[Session]
) -> None:
    seed(sessions)
    r = client.get(
        "/api/reporting/summary.xlsx?fiscal_year=2566", headers=headers(system, "central_admin", None)
    )
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="summary-2566-all.xlsx"'
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames[:4] == ["สรุป", "ตามสถานะ", "ตามประเภทความช่วยเหลือ", "ตามเขต"]
    districts = book["ตามเขต"]
    assert [c.value for c in districts[2][:3]] == ["1001", "พระนคร", 1]
    assert districts["A2"].data_type == "s"
    assert districts["D2"].data_type == "n"
    assert Decimal(str(districts["D2"].value)) == Decimal("2000")
    assert book["งบประมาณ"]["A1"].value == "ปีงบประมาณ"
    assert book["รับเรื่องรายวัน"]["A2"].data_type == "d"
    assert client.get("/api/reporting/summary.xlsx?fiscal_year=1", headers=headers(system)).status_code == 400


def test_openapi_documents_the_reporting_endpoints(client: FlaskClient) -> None:
    paths = client.get("/api/reporting/openapi.json").json["paths"]
    for path in (
        "/api/reporting/batches/{batch_id}/approval-report.{fmt}",
        "/api/reporting/batches/{batch_id}/tk1-{group}.{fmt}",
        "/api/reporting/batches/{batch_id}/kcorp2-{group}.{fmt}",
        "/api/reporting/batches/{batch_id}/payment-review.{fmt}",
        "/api/reporting/districts/{district_code}/agenda.{fmt}",
        "/api/reporting/summary",
        "/api/reporting/summary.xlsx",
        "/api/reporting/budgets/{fiscal_year}/{district_code}",
        "/api/reporting/templates/{doc}",
    ):
        assert path in paths, path
