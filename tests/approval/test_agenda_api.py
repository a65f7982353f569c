"""The agenda and the committee's decisions, in process on SQLite and on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from services.approval import intake_client
from services.approval.models import AgendaItem
from shared.audit import AuditEntry, verify_chain
from tests.approval.conftest import Env
from tests.approval.helpers import WSGIAdapter, case_snapshot, deliver, envelope, outbox, register

pytestmark = pytest.mark.integration


def item(env: Env, case_id: str) -> AgendaItem:
    with env.sessions() as s:
        row = s.get(AgendaItem, case_id)
        assert row is not None
        return row


def audit_actions(env: Env, case_id: str) -> list[tuple[str, str, dict | None, dict | None]]:
    with env.sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.object_id == case_id).order_by(AuditEntry.seq))
        return [(r.action, r.actor, r.before, r.after) for r in rows]


class TestAgenda:
    def test_registered_cases_arrive_with_count_and_total(self, env: Env) -> None:
        a = register(env.sessions, amount="3000.00")
        b = register(env.sessions, welfare_type_code="CAREER", amount="5000.00")
        register(env.sessions, district="1001")
        r = env.call("GET", "/agenda")
        assert r.status_code == 200
        body = r.json
        assert body["count"] == 2
        assert body["total_amount"] == "8000.00"
        assert body["closing"] is None
        assert [i["case_id"] for i in body["items"]] == [a["case_id"], b["case_id"]]
        first = body["items"][0]
        assert first["case_no"] == a["case_no"]
        assert first["full_name"] == f"นาง {a['first_name']} ใจดี"
        assert first["amount"] == "3000.00"
        assert first["welfare_type_name"] == "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล"
        assert first["regulation_ref"] == "บัญชีที่ 1 ลำดับที่ 1"
        assert first["case_type_th"] == "เคสประชาชนทั่วไป"
        assert first["status"] == "on_agenda"
        placed = outbox(env.sessions, "case.placed_on_agenda")
        assert {p["payload"]["case_id"] for p in placed} >= {a["case_id"], b["case_id"]}
        for destination in ("intake", "reporting"):
            assert len(outbox(env.sessions, "case.placed_on_agenda", destination)) == 3

    def test_redelivered_registration_changes_nothing(self, env: Env) -> None:
        message = envelope("case.registered", case_snapshot())
        assert deliver(env.sessions, message) is True
        assert deliver(env.sessions, message) is False
        # The same case sent again under a new event id (a producer retry) is not a second item.
        assert deliver(env.sessions, envelope("case.registered", message["payload"])) is True
        assert env.call("GET", "/agenda").json["count"] == 1
        assert len(outbox(env.sessions, "case.placed_on_agenda")) == 1

    def test_district_scoping(self, env: Env) -> None:
        own = register(env.sessions, district="1008")
        register(env.sessions, district="1001")
        assert env.call("GET", "/agenda", district="1001").json["count"] == 1
        assert env.call("GET", "/agenda?district_code=1001").status_code == 404
        central = env.call("GET", "/agenda?district_code=1008", role="central_admin", district=None)
        assert central.status_code == 200
        assert [i["case_id"] for i in central.json["items"]] == [own["case_id"]]
        missing = env.call("GET", "/agenda", role="central_admin", district=None)
        assert missing.status_code == 400
        assert missing.json["error"]["fields"] == {"district_code": "กรุณาระบุรหัสเขต (district_code)"}
        assert env.call("GET", f"/cases/{own['case_id']}", district="1001").status_code == 404
        assert env.call("GET", f"/cases/{own['case_id']}").json["case_no"] == own["case_no"]

    def test_case_updated_refreshes_the_agenda_unless_older(self, env: Env) -> None:
        snap = register(env.sessions)
        newer = envelope(
            "case.updated",
            {**snap, "first_name": "แก้ไขแล้ว", "changed": ["first_name"], "status": "on_agenda"},
        )
        assert deliver(env.sessions, newer)
        assert item(env, snap["case_id"]).first_name == "แก้ไขแล้ว"
        older = envelope(
            "case.updated", {**snap, "first_name": "เก่า", "changed": ["first_name"], "status": "on_agenda"}
        )
        older["occurred_at"] = "2020-01-01T00:00:00+00:00"
        assert deliver(env.sessions, older)
        assert item(env, snap["case_id"]).first_name == "แก้ไขแล้ว"

    def test_an_edit_older_than_the_committees_amendment_keeps_the_amendment(self, env: Env) -> None:
        snap = register(env.sessions, amount="2000.00")
        edit = envelope(
            "case.updated",
            {
                **snap,
                "first_name": "แก้ชื่อ",
                "amount": "2100.00",
                "changed": ["first_name", "amount"],
                "status": "on_agenda",
            },
        )  # made by the officer before the committee's change, delivered after it
        assert env.call("PATCH", f"/agenda/{snap['case_id']}", json={"amount": "2500.00"}).status_code == 200
        assert deliver(env.sessions, edit)
        got = item(env, snap["case_id"])
        assert (got.first_name, got.amount) == ("แก้ชื่อ", Decimal("2500.00"))
        later = envelope(
            "case.updated",
            {**snap, "first_name": "แก้ชื่อ", "amount": "2600.00", "changed": ["amount"], "status": "on_agenda"},
        )
        assert deliver(env.sessions, later)
        assert item(env, snap["case_id"]).amount == Decimal("2600.00")
        refresh = [a for a in audit_actions(env, snap["case_id"]) if a[0] == "case.refresh"]
        assert refresh[0][2:] == ({"first_name": "[changed]"}, {"first_name": "[changed]"})
        assert refresh[1][2:] == ({"amount": "2500.00"}, {"amount": "2600.00"})

    def test_update_before_registration_places_the_case(self, env: Env) -> None:
        snap = case_snapshot()
        assert deliver(
            env.sessions, envelope("case.updated", {**snap, "changed": ["amount"], "status": "registered"})
        )
        assert deliver(env.sessions, envelope("case.registered", snap))
        assert env.call("GET", "/agenda").json["count"] == 1
        assert len(outbox(env.sessions, "case.placed_on_agenda")) == 1


class TestDecisions:
    def test_defer_and_restore(self, env: Env) -> None:
        snap = register(env.sessions)
        r = env.call("POST", f"/agenda/{snap['case_id']}/defer")
        assert r.status_code == 200
        assert r.json["status"] == "deferred"
        assert r.json["decided_by"] == "officer.1008"
        assert env.call("GET", "/agenda").json["count"] == 0
        deferred = env.call("GET", "/deferred").json
        assert [i["case_id"] for i in deferred["items"]] == [snap["case_id"]]
        assert deferred["total"] == 1
        again = env.call("POST", f"/agenda/{snap['case_id']}/defer")
        assert again.status_code == 409
        assert "นำออกจากที่ประชุมไม่ได้" in again.json["error"]["message"]
        back = env.call("POST", f"/deferred/{snap['case_id']}/restore", role="head")
        assert back.status_code == 200
        assert back.json["status"] == "on_agenda"
        assert env.call("GET", "/agenda").json["count"] == 1
        assert env.call("POST", f"/deferred/{snap['case_id']}/restore").status_code == 409
        actions = audit_actions(env, snap["case_id"])
        assert [(a, who) for a, who, _, _ in actions] == [
            ("case.place_on_agenda", "system:approval"),
            ("case.defer", "officer.1008"),
            ("case.restore", "head.1008"),
        ]
        assert actions[1][2:] == ({"status": "on_agenda"}, {"status": "deferred"})
        deferred_events = outbox(env.sessions, "case.deferred")
        assert [e["payload"]["by"] for e in deferred_events] == ["officer.1008"]
        assert len(outbox(env.sessions, "case.restored")) == 1

    def test_disqualify_is_final_and_needs_a_reason(self, env: Env) -> None:
        snap = register(env.sessions)
        path = f"/cases/{snap['case_id']}/disqualify"
        missing = env.call("POST", path, json={})
        assert missing.status_code == 400
        assert missing.json["error"]["fields"] == {"reason": "กรุณาระบุสาเหตุการขาดคุณสมบัติ"}
        blank = env.call("POST", path, json={"reason": "   "})
        assert blank.status_code == 400
        assert blank.json["error"]["fields"] == {"reason": "กรุณาระบุสาเหตุการขาดคุณสมบัติ"}
        assert item(env, snap["case_id"]).status == "on_agenda"
        ok = env.call("POST", path, json={"reason": "ไม่มีทะเบียนบ้านในกรุงเทพมหานคร"})
        assert ok.status_code == 200
        assert ok.json["status"] == "disqualified"
        assert ok.json["disqualify_reason"] == "ไม่มีทะเบียนบ้านในกรุงเทพมหานคร"
        for method, p, body in (
            ("POST", path, {"reason": "อีกครั้ง"}),
            ("POST", f"/agenda/{snap['case_id']}/defer", None),
            ("POST", f"/deferred/{snap['case_id']}/restore", None),
            ("PATCH", f"/agenda/{snap['case_id']}", {"amount": "1000.00"}),
        ):
            r = env.call(method, p, json=body)
            assert r.status_code == 409, (p, r.json)
            assert r.json["error"]["code"] == "case_disqualified"
        events = outbox(env.sessions, "case.disqualified")
        assert [e["payload"]["reason"] for e in events] == ["ไม่มีทะเบียนบ้านในกรุงเทพมหานคร"]
        assert audit_actions(env, snap["case_id"])[-1][3] == {
            "status": "disqualified",
            "disqualify_reason": "ไม่มีทะเบียนบ้านในกรุงเทพมหานคร",
        }

    def test_a_deferred_case_can_be_disqualified(self, env: Env) -> None:
        snap = register(env.sessions)
        env.call("POST", f"/agenda/{snap['case_id']}/defer")
        r = env.call("POST", f"/cases/{snap['case_id']}/disqualify", json={"reason": "ขาดคุณสมบัติ"})
        assert r.status_code == 200
        assert env.call("GET", "/deferred").json["total"] == 0

    def test_other_district_and_unknown_cases_are_404(self, env: Env) -> None:
        snap = register(env.sessions, district="1001")
        for method, path, body in (
            ("POST", f"/agenda/{snap['case_id']}/defer", None),
            ("POST", f"/deferred/{snap['case_id']}/restore", None),
            ("POST", f"/cases/{snap['case_id']}/disqualify", {"reason": "x"}),
            ("PATCH", f"/agenda/{snap['case_id']}", {"amount": "100.00"}),
            ("POST", "/agenda/no-such-case/defer", None),
        ):
            r = env.call(method, path, json=body)
            assert r.status_code == 404, path
        assert item(env, snap["case_id"]).status == "on_agenda"
        assert env.intake.calls == []

    @pytest.mark.parametrize("role", ["finance", "central_admin", "operator"])
    def test_only_officers_and_heads_decide(self, env: Env, role: str) -> None:
        snap = register(env.sessions)
        district = None if role in ("central_admin", "operator") else "1008"
        r = env.call("POST", f"/agenda/{snap['case_id']}/defer", role=role, district=district)
        assert r.status_code == 403
        assert item(env, snap["case_id"]).status == "on_agenda"


class TestAmendment:
    def test_committee_changes_type_and_amount(self, env: Env) -> None:
        snap = register(env.sessions, amount="2000.00")
        r = env.call(
            "PATCH", f"/agenda/{snap['case_id']}", json={"welfare_type_code": "CAREER", "amount": "4500.00"}
        )
        assert r.status_code == 200, r.json
        assert r.json["welfare_type_code"] == "CAREER"
        assert r.json["welfare_type_name"] == "ทุนประกอบอาชีพ"
        assert r.json["regulation_ref"] == "บัญชีที่ 1 ลำดับที่ 3"
        assert r.json["amount"] == "4500.00"
        assert r.json["amended_by"] == "officer.1008"
        call = env.intake.calls[-1]
        assert call["case_id"] == snap["case_id"]
        assert (call["welfare_type_code"], call["amount"]) == ("CAREER", "4500.00")
        assert call["auth"].startswith("Bearer ")  # the caller's own token is forwarded
        amended = outbox(env.sessions, "case.amended")
        assert [(e["payload"]["welfare_type_code"], e["payload"]["amount"]) for e in amended] == [
            ("CAREER", "4500.00")
        ]
        assert audit_actions(env, snap["case_id"])[-1][2:] == (
            {"welfare_type_code": "KINDERGARTEN", "amount": "2000.00"},
            {"welfare_type_code": "CAREER", "amount": "4500.00"},
        )
        assert env.call("GET", "/agenda").json["total_amount"] == "4500.00"

    def test_amount_above_the_ceiling_is_422_and_nothing_changes(self, env: Env) -> None:
        snap = register(env.sessions, amount="2000.00")
        r = env.call("PATCH", f"/agenda/{snap['case_id']}", json={"amount": "3500.00"})
        assert r.status_code == 422
        assert "เกินเพดาน" in r.json["error"]["message"]
        assert r.json["error"]["fields"]["amount"]
        assert item(env, snap["case_id"]).amount == Decimal("2000.00")
        assert outbox(env.sessions, "case.amended") == []

    def test_bad_amount_is_400_before_asking_intake(self, env: Env) -> None:
        snap = register(env.sessions)
        for bad in (3000.5, "-5", "1,000", "abc", "10.123"):
            r = env.call("PATCH", f"/agenda/{snap['case_id']}", json={"amount": bad})
            assert r.status_code == 400, bad
            assert "amount" in r.json["error"]["fields"]
        assert env.call("PATCH", f"/agenda/{snap['case_id']}", json={}).status_code == 400
        assert env.intake.calls == []

    def test_intake_unreachable_is_503_and_nothing_changes(self, env: Env) -> None:
        snap = register(env.sessions, amount="2000.00")
        url = env.system.env["ECASE_INTAKE_URL"]
        intake_client.HTTP.mount(url, WSGIAdapter(fail=lambda: requests.ConnectionError("refused")))
        try:
            r = env.call("PATCH", f"/agenda/{snap['case_id']}", json={"amount": "2500.00"})
        finally:
            intake_client.HTTP.mount(url, WSGIAdapter(env.intake.app))
        assert r.status_code == 503
        assert r.json["error"]["code"] == "intake_unavailable"
        assert item(env, snap["case_id"]).amount == Decimal("2000.00")

    def test_a_deferred_case_can_be_amended(self, env: Env) -> None:
        snap = register(env.sessions, amount="2000.00")
        env.call("POST", f"/agenda/{snap['case_id']}/defer")
        r = env.call("PATCH", f"/agenda/{snap['case_id']}", json={"amount": "2500.00"})
        assert r.status_code == 200
        assert r.json["status"] == "deferred"

    def test_no_change_asks_nobody(self, env: Env) -> None:
        snap = register(env.sessions, amount="2000.00")
        r = env.call("PATCH", f"/agenda/{snap['case_id']}", json={"amount": "2000"})
        assert r.status_code == 200
        assert env.intake.calls == []
        assert outbox(env.sessions, "case.amended") == []


class TestMeetings:
    def test_record_and_list(self, env: Env) -> None:
        r = env.call(
            "POST",
            "/meetings",
            json={
                "meeting_date": "2022-10-06",
                "number": 1,
                "attendees": ["ผู้อำนวยการเขต", "หัวหน้าฝ่ายพัฒนาชุมชน"],
                "notes": "มีมติอนุมัติ 2 ราย",
            },
        )
        assert r.status_code == 201, r.json
        assert r.json["fiscal_year"] == 2566
        assert r.json["number"] == "1"
        env.call(
            "POST", "/meetings", json={"meeting_date": "2022-09-01", "number": "12/2565", "attendees": ["ก"]}
        )
        env.call(
            "POST",
            "/meetings",
            district="1001",
            json={"meeting_date": "2022-10-06", "number": "1", "attendees": ["ข"]},
        )
        listed = env.call("GET", "/meetings").json
        assert listed["total"] == 2
        assert [m["number"] for m in listed["items"]] == ["1", "12/2565"]
        assert env.call("GET", "/meetings?fiscal_year=2566").json["total"] == 1
        assert env.call("GET", "/meetings", role="central_admin", district=None).json["total"] == 3
        with env.sessions() as s:
            assert s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == r.json["id"])).all() == [
                "meeting.record"
            ]
            assert verify_chain(s).ok

    def test_bad_meeting_is_400(self, env: Env) -> None:
        r = env.call("POST", "/meetings", json={"meeting_date": "06/10/2565", "number": "", "attendees": []})
        assert r.status_code == 400
        assert set(r.json["error"]["fields"]) == {"meeting_date", "number", "attendees"}
        assert env.call("GET", "/meetings").json["total"] == 0
