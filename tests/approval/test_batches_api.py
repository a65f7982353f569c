"""Closing the agenda into approval batches and the lock saga's steps, on SQLite and on PostgreSQL.

intake's answers (cases.locked / cases.lock_refused) are delivered here through approval's own
handlers and inbox, exactly as the worker applies them; the end-to-end tests with real
processes are in ``test_saga_e2e.py``.
"""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.approval.models import AgendaItem, Batch, BatchItem
from shared.audit import AuditEntry, verify_chain
from shared.models import Job
from tests.approval.conftest import Env
from tests.approval.helpers import deliver, envelope, lock_answer, outbox, register

pytestmark = pytest.mark.integration


def close(env: Env, meeting_date: str = "2022-10-06", **kw: Any) -> Any:
    return env.call("POST", "/batches", role="head", json={"meeting_date": meeting_date, **kw})


def job(env: Env, job_id: str) -> dict[str, Any]:
    r = env.call("GET", f"/jobs/{job_id}", role="head")
    assert r.status_code == 200
    return dict(r.json)


def approve(env: Env, batch_id: str) -> dict[str, Any]:
    message = lock_answer(env.sessions, batch_id)
    assert deliver(env.sessions, message)
    return message


def count(env: Env, model: Any) -> int:
    with env.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


class TestClose:
    def test_head_closes_the_agenda_and_the_saga_approves_it(self, env: Env) -> None:
        a = register(env.sessions, amount="3000.00")
        b = register(env.sessions, welfare_type_code="CAREER", amount="5000.00")
        deferred = register(env.sessions)
        env.call("POST", f"/agenda/{deferred['case_id']}/defer")
        r = close(env)
        assert r.status_code == 202, r.json
        batch_id, job_id = r.json["batch_id"], r.json["job_id"]
        assert job_id.startswith("approval-")
        running = job(env, job_id)
        assert running["status"] == "running"
        assert running["progress"] == {
            "step": "lock_requested",
            "batch_id": batch_id,
            "count": 2,
            "total_amount": "8000.00",
        }
        # The lock request names exactly the agenda's cases with the values approval holds.
        (request,) = outbox(env.sessions, "batch.lock_requested", "intake")
        assert request["payload"]["items"] == [
            {"case_id": a["case_id"], "welfare_type_code": "KINDERGARTEN", "amount": "3000.00"},
            {"case_id": b["case_id"], "welfare_type_code": "CAREER", "amount": "5000.00"},
        ]
        assert request["payload"]["fiscal_year"] == 2566
        # While intake locks, the agenda is empty for new work and says a batch is closing.
        agenda = env.call("GET", "/agenda").json
        assert (agenda["count"], agenda["closing"]["batch_id"]) == (0, batch_id)
        locking = env.call("GET", f"/batches/{batch_id}").json
        assert (locking["status"], locking["number"], locking["title"]) == ("locking", None, None)
        # A case registered meanwhile goes to the next agenda, not into this batch.
        late = register(env.sessions)
        assert [i["case_id"] for i in env.call("GET", "/agenda").json["items"]] == [late["case_id"]]

        approve(env, batch_id)

        done = job(env, job_id)
        title = "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขตป้อมปราบศัตรูพ่าย ครั้งที่1-ปีงบประมาณ2566"
        assert done["status"] == "done"
        assert done["result"] == {"batch_id": batch_id, "number": 1, "title": title}
        detail = env.call("GET", f"/batches/{batch_id}").json
        assert detail["status"] == "approved"
        assert (detail["number"], detail["title"], detail["count"], detail["total_amount"]) == (
            1,
            title,
            2,
            "8000.00",
        )
        assert detail["approved_at"]
        assert [i["case_no"] for i in detail["items"]] == [a["case_no"], b["case_no"]]
        assert detail["items"][0]["bank"]["account_no"] == "xxxxxx7890"  # masked: last 4 digits only
        assert detail["items"][1]["regulation_ref"] == "บัญชีที่ 1 ลำดับที่ 3"
        listed = env.call("GET", "/batches?fiscal_year=2566").json
        assert listed["total"] == 1
        assert {k: listed["items"][0][k] for k in ("id", "number", "count", "total_amount", "status")} == {
            "id": batch_id,
            "number": 1,
            "count": 2,
            "total_amount": "8000.00",
            "status": "approved",
        }
        assert env.call("GET", "/batches?fiscal_year=2567").json["total"] == 0
        (approved,) = outbox(env.sessions, "batch.approved")
        p = approved["payload"]
        assert (p["batch_id"], p["number"], p["title"], p["total_amount"]) == (batch_id, 1, title, "8000.00")
        assert (p["approved_by"], p["meeting_date"], p["fiscal_year"]) == ("head.1008", "2022-10-06", 2566)
        assert [c["case_id"] for c in p["cases"]] == [a["case_id"], b["case_id"]]
        assert p["cases"][0]["bank"]["account_no"] == "1234567890"  # payment needs the full number
        assert {m["destination"] for m in _outbox_rows(env, "batch.approved")} == {
            "payment",
            "reporting",
            "intake",
        }
        for case in (a, b):
            got = env.call("GET", f"/cases/{case['case_id']}").json
            assert (got["status"], got["batch_id"]) == ("in_batch", batch_id)
        for method, path, body in (
            ("POST", f"/agenda/{a['case_id']}/defer", None),
            ("POST", f"/cases/{a['case_id']}/disqualify", {"reason": "x"}),
            ("PATCH", f"/agenda/{a['case_id']}", {"amount": "100.00"}),
        ):
            conflict = env.call(method, path, json=body)
            assert conflict.status_code == 409
            assert conflict.json["error"]["code"] == "case_in_batch"
        with env.sessions() as s:
            actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == batch_id)).all()
            assert actions == ["batch.close", "batch.approve"]
            assert verify_chain(s).ok

    def test_amounts_come_from_intakes_final_snapshot(self, env: Env) -> None:
        register(env.sessions, amount="3000.00")
        batch_id = close(env).json["batch_id"]
        message = lock_answer(env.sessions, batch_id)
        message["payload"]["cases"][0]["amount"] = "2999.50"
        assert deliver(env.sessions, envelope("cases.locked", message["payload"]))
        detail = env.call("GET", f"/batches/{batch_id}").json
        assert (detail["total_amount"], detail["items"][0]["amount"]) == ("2999.50", "2999.50")
        assert outbox(env.sessions, "batch.approved")[0]["payload"]["total_amount"] == "2999.50"

    def test_numbers_count_per_district_and_fiscal_year(self, env: Env) -> None:
        numbers = []
        for district, meeting in (
            ("1008", "2022-10-06"),
            ("1008", "2022-10-20"),
            ("1001", "2022-10-20"),
            ("1008", "2023-10-05"),
        ):
            register(env.sessions, district=district)
            r = env.call("POST", "/batches", role="head", district=district, json={"meeting_date": meeting})
            assert r.status_code == 202
            approve(env, r.json["batch_id"])
            detail = env.call("GET", f"/batches/{r.json['batch_id']}", district=district).json
            numbers.append((district, detail["fiscal_year"], detail["number"]))
        assert numbers == [("1008", 2566, 1), ("1008", 2566, 2), ("1001", 2566, 1), ("1008", 2567, 1)]
        assert env.call("GET", "/batches").json["total"] == 3
        assert env.call("GET", "/batches", role="central_admin", district=None).json["total"] == 4
        assert (
            env.call("GET", "/batches?district_code=1001", role="central_admin", district=None).json["total"]
            == 1
        )

    def test_close_with_a_recorded_meeting(self, env: Env) -> None:
        register(env.sessions)
        meeting = env.call(
            "POST", "/meetings", json={"meeting_date": "2022-10-06", "number": "1/2566", "attendees": ["ก"]}
        ).json
        r = env.call("POST", "/batches", role="head", json={"meeting_id": meeting["id"]})
        assert r.status_code == 202
        detail = env.call("GET", f"/batches/{r.json['batch_id']}").json
        assert (detail["meeting_id"], detail["meeting_date"]) == (meeting["id"], "2022-10-06")

    def test_bad_closings_change_nothing(self, env: Env) -> None:
        empty = close(env)
        assert empty.status_code == 409
        assert empty.json["error"]["code"] == "agenda_empty"
        snap = register(env.sessions)
        officer = env.call("POST", "/batches", json={"meeting_date": "2022-10-06"})
        assert officer.status_code == 403
        no_date = env.call("POST", "/batches", role="head", json={})
        assert no_date.status_code == 400
        assert no_date.json["error"]["fields"] == {"meeting_date": "กรุณาระบุวันที่ประชุม"}
        bad_date = env.call("POST", "/batches", role="head", json={"meeting_date": "6/10/2565"})
        assert bad_date.status_code == 400
        other_meeting = env.call(
            "POST",
            "/meetings",
            district="1001",
            json={"meeting_date": "2022-10-06", "number": "1", "attendees": ["ก"]},
        ).json
        assert (
            env.call("POST", "/batches", role="head", json={"meeting_id": other_meeting["id"]}).status_code
            == 404
        )
        assert count(env, Batch) == 0
        assert count(env, BatchItem) == 0
        with env.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Job)) == 0
        assert env.call("GET", f"/cases/{snap['case_id']}").json["batch_id"] is None
        assert outbox(env.sessions, "batch.lock_requested") == []

    def test_second_closing_while_locking_is_409(self, env: Env) -> None:
        register(env.sessions)
        first = close(env)
        register(env.sessions)  # the next agenda is not empty, yet the district is still closing
        second = close(env)
        assert second.status_code == 409
        assert second.json["error"]["code"] == "closing_in_progress"
        assert count(env, Batch) == 1
        approve(env, first.json["batch_id"])
        third = close(env)
        assert third.status_code == 202

    def test_cases_being_locked_cannot_be_decided(self, env: Env) -> None:
        snap = register(env.sessions)
        close(env)
        for method, path, body in (
            ("POST", f"/agenda/{snap['case_id']}/defer", None),
            ("POST", f"/cases/{snap['case_id']}/disqualify", {"reason": "x"}),
            ("PATCH", f"/agenda/{snap['case_id']}", {"amount": "100.00"}),
        ):
            r = env.call(method, path, json=body)
            assert r.status_code == 409
            assert r.json["error"]["code"] == "case_locking"


class TestSagaSteps:
    def test_refused_lock_fails_cleanly_and_the_agenda_is_as_before(self, env: Env) -> None:
        a = register(env.sessions)
        b = register(env.sessions)
        before = env.call("GET", "/agenda").json
        r = close(env)
        batch_id = r.json["batch_id"]
        refused = envelope(
            "cases.lock_refused",
            {
                "batch_id": batch_id,
                "district_code": "1008",
                "refusals": [
                    {"case_id": b["case_id"], "case_no": None, "reason": "เคสถูกแก้ไขจำนวนเงินหลังการประชุม"}
                ],
            },
        )
        assert deliver(env.sessions, refused)
        failed = job(env, r.json["job_id"])
        assert failed["status"] == "failed"
        assert failed["error"]["refusals"] == [
            {"case_id": b["case_id"], "case_no": b["case_no"], "reason": "เคสถูกแก้ไขจำนวนเงินหลังการประชุม"}
        ]
        assert f"{b['case_no']}: เคสถูกแก้ไขจำนวนเงินหลังการประชุม" in failed["error"]["message"]
        after = env.call("GET", "/agenda").json
        strip = lambda agenda: [{k: v for k, v in i.items() if k != "version"} for i in agenda["items"]]  # noqa: E731
        assert strip(after) == strip(before)
        assert (after["count"], after["total_amount"], after["closing"]) == (2, "6000.00", None)
        detail = env.call("GET", f"/batches/{batch_id}").json
        assert (detail["status"], detail["number"], detail["items"]) == ("failed", None, [])
        assert detail["failure"][0]["case_no"] == b["case_no"]
        assert count(env, BatchItem) == 0
        (event,) = outbox(env.sessions, "batch.failed")
        assert b["case_no"] in event["payload"]["reason"]
        # Redelivery changes nothing; the cases can go into the next batch, which gets number 1.
        assert deliver(env.sessions, refused) is False
        retry = close(env)
        assert retry.status_code == 202
        approve(env, retry.json["batch_id"])
        assert env.call("GET", f"/batches/{retry.json['batch_id']}").json["number"] == 1
        assert {a["case_id"], b["case_id"]} == {
            c["case_id"] for c in outbox(env.sessions, "batch.approved")[0]["payload"]["cases"]
        }

    def test_redelivered_or_repeated_lock_answers_change_nothing(self, env: Env) -> None:
        register(env.sessions)
        batch_id = close(env).json["batch_id"]
        message = approve(env, batch_id)
        assert deliver(env.sessions, message) is False  # same event id: absorbed by the inbox
        # The same answer under a new event id (intake re-sent it) is recognised by the batch state.
        assert deliver(env.sessions, envelope("cases.locked", message["payload"])) is True
        assert len(outbox(env.sessions, "batch.approved")) == 1
        listed = env.call("GET", "/batches").json
        assert (listed["total"], listed["items"][0]["number"]) == (1, 1)

    def test_contradicting_answers_are_refused_for_an_operator(self, env: Env) -> None:
        from services.approval.batches import SagaError

        register(env.sessions)
        batch_id = close(env).json["batch_id"]
        approve(env, batch_id)
        refusal = envelope(
            "cases.lock_refused",
            {"batch_id": batch_id, "district_code": "1008", "refusals": [{"case_id": "x", "reason": "r"}]},
        )
        with pytest.raises(SagaError):
            deliver(env.sessions, refusal)
        unknown = envelope(
            "cases.locked", {"batch_id": str(uuid.uuid4()), "district_code": "1008", "cases": []}
        )
        with pytest.raises(SagaError):
            deliver(env.sessions, unknown)
        assert env.call("GET", f"/batches/{batch_id}").json["status"] == "approved"

    def test_settled_batch(self, env: Env) -> None:
        register(env.sessions)
        batch_id = close(env).json["batch_id"]
        approve(env, batch_id)
        settled = envelope(
            "batch.settled",
            {
                "approval_batch_id": batch_id,
                "payout_batch_id": str(uuid.uuid4()),
                "district_code": "1008",
                "settled_at": "2022-11-01T03:00:00+00:00",
                "settled_by": "finance.1008",
                "paid_count": 1,
                "paid_total": "3000.00",
                "closed_count": 0,
            },
            producer="payment",
        )
        assert deliver(env.sessions, settled)
        detail = env.call("GET", f"/batches/{batch_id}").json
        assert detail["status"] == "settled"
        assert detail["settled_at"].startswith("2022-11-01T03:00:00")


class TestGuarantees:
    def test_a_case_is_in_at_most_one_batch_by_constraint(self, env: Env) -> None:
        snap = register(env.sessions)
        batch_id = close(env).json["batch_id"]
        approve(env, batch_id)
        with env.sessions() as s:
            other = s.get(Batch, batch_id)
            assert other is not None
            s.add(
                Batch(
                    id="another",
                    district_code="1008",
                    fiscal_year=2566,
                    meeting_date=other.meeting_date,
                    status="approved",
                    count=1,
                    total_amount=Decimal("1.00"),
                    created_by="x",
                )
            )
            s.flush()
            s.add(
                BatchItem(
                    batch_id="another",
                    case_id=snap["case_id"],
                    position=1,
                    case_no="x",
                    welfare_type_code="x",
                    amount=Decimal("1.00"),
                )
            )
            with pytest.raises(IntegrityError):
                s.flush()
            s.rollback()

    def test_one_locking_batch_per_district_by_constraint(self, env: Env) -> None:
        register(env.sessions)
        batch_id = close(env).json["batch_id"]
        with env.sessions() as s:
            first = s.get(Batch, batch_id)
            assert first is not None
            s.add(
                Batch(
                    id="racer",
                    district_code="1008",
                    fiscal_year=2566,
                    meeting_date=first.meeting_date,
                    status="locking",
                    count=1,
                    total_amount=Decimal("1.00"),
                    created_by="x",
                )
            )
            with pytest.raises(IntegrityError):
                s.flush()
            s.rollback()

    def test_two_heads_closing_at_once_make_one_batch(self, env: Env) -> None:
        for _ in range(30):
            register(env.sessions)
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def head() -> None:
            barrier.wait()
            results.append(close(env))

        threads = [threading.Thread(target=head) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        statuses = sorted(r.status_code for r in results)
        assert statuses == [202, 409], [r.json for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json["error"]["code"] == "closing_in_progress"
        assert count(env, Batch) == 1
        assert count(env, BatchItem) == 30
        assert len(outbox(env.sessions, "batch.lock_requested")) == 1
        with env.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Job)) == 1

    def test_a_decision_racing_the_closing_is_either_in_or_out(self, env: Env) -> None:
        snaps = [register(env.sessions) for _ in range(20)]
        target = snaps[-1]["case_id"]
        barrier = threading.Barrier(2)
        results: dict[str, Any] = {}

        def closing() -> None:
            barrier.wait()
            results["close"] = close(env)

        def deferring() -> None:
            barrier.wait()
            results["defer"] = env.call("POST", f"/agenda/{target}/defer")

        threads = [threading.Thread(target=closing), threading.Thread(target=deferring)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert results["close"].status_code == 202
        with env.sessions() as s:
            row = s.get(AgendaItem, target)
            in_batch = s.get(BatchItem, (results["close"].json["batch_id"], target)) is not None
        assert row is not None
        if results["defer"].status_code == 200:
            assert (row.status, row.batch_id, in_batch) == ("deferred", None, False)
        else:
            assert results["defer"].status_code == 409
            assert (row.status, in_batch) == ("on_agenda", True)


def _outbox_rows(env: Env, event_type: str) -> list[dict[str, str]]:
    from shared.models import OutboxMessage

    with env.sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type)).all()
        return [{"destination": r.destination, "event_id": r.event_id} for r in rows]
