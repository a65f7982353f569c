"""Intake following the other stages: statuses, amendments, the lock saga, payments (both backends)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from services.intake import tasks
from services.intake.models import BatchLock, Case, CaseEvent
from services.intake.schemas import CaseCreateSchema
from services.intake.services import Actor, record_case
from shared import events, inbox
from shared.audit import AuditEntry
from shared.config import MessagingSettings
from shared.db import utcnow
from shared.messaging import task_name
from shared.models import OutboxMessage
from tests.intake.support import OFFICER, IntakeEnv, case_body, intake_env

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntakeEnv]:
    """intake's database on each backend."""
    with intake_env(tmp_path_factory.mktemp(f"consumers-{request.param}"), request.param) as built:
        yield built


def deliver(
    env: IntakeEnv, event_type: str, payload: dict[str, Any], envelope: dict[str, Any] | None = None
) -> str:
    """Deliver one event to intake's consumer through the inbox, as the worker does."""
    envelope = envelope or events.build(event_type, payload, producer="approval")
    return inbox.handle(
        env.sessions,
        consumer=task_name("intake", event_type),
        queue="intake",
        message=envelope,
        handler=tasks.CONSUMERS[event_type],
        settings=MessagingSettings(),
    )


def new_case(env: IntakeEnv, actor: Actor = OFFICER, **overrides: Any) -> Case:
    data = CaseCreateSchema().load(case_body(**overrides))
    with env.sessions.begin() as s:
        return record_case(s, data=data, actor=actor)


def case(env: IntakeEnv, case_id: str) -> Case:
    with env.sessions() as s:
        row = s.get(Case, case_id)
        assert row is not None
        return row


def ref(c: Case, **extra: Any) -> dict[str, Any]:
    return {
        "case_id": c.id,
        "district_code": c.district_code,
        "at": utcnow().isoformat(),
        "by": "head.1008",
        **extra,
    }


def published(env: IntakeEnv, event_type: str, batch_id: str) -> list[dict[str, Any]]:
    with env.sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type)).all()
    return [r.body["payload"] for r in rows if r.body["payload"]["batch_id"] == batch_id]


def test_agenda_events_move_the_status_and_keep_history(env: IntakeEnv) -> None:
    c = new_case(env)
    for event_type, status in (
        ("case.placed_on_agenda", "on_agenda"),
        ("case.deferred", "deferred"),
        ("case.restored", "on_agenda"),
    ):
        assert deliver(env, event_type, ref(c)) == "applied"
        assert case(env, c.id).status == status
    assert deliver(env, "case.disqualified", ref(c, reason="มีรายได้เกินเกณฑ์")) == "applied"
    got = case(env, c.id)
    assert (got.status, got.status_reason) == ("disqualified", "มีรายได้เกินเกณฑ์")
    with env.sessions() as s:
        history = s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id).order_by(CaseEvent.id)).all()
        trail = s.scalars(
            select(AuditEntry).where(AuditEntry.object_id == c.id).order_by(AuditEntry.seq)
        ).all()
    assert [(h.kind, h.status) for h in history] == [
        ("registered", "registered"),
        ("placed_on_agenda", "on_agenda"),
        ("deferred", "deferred"),
        ("restored", "on_agenda"),
        ("disqualified", "disqualified"),
    ]
    assert history[-1].note == "มีรายได้เกินเกณฑ์"
    assert trail[-1].actor == "approval:head.1008"
    assert trail[-1].after == {"status": "disqualified"}


def test_stale_and_unknown_events_are_ignored(env: IntakeEnv) -> None:
    c = new_case(env)
    paid = {
        "case_id": c.id,
        "district_code": "1008",
        "approval_batch_id": "b",
        "amount": "3000.00",
        "paid_at": utcnow().isoformat(),
        "ref2": "R2",
    }
    assert deliver(env, "payout.paid", paid) == "applied"  # consumed, but changes nothing
    assert case(env, c.id).status == "registered"
    ghost = {
        "case_id": "00000000-0000-4000-8000-000000000000",
        "district_code": "1008",
        "at": utcnow().isoformat(),
        "by": "x",
    }
    assert deliver(env, "case.deferred", ghost) == "applied"


def test_redelivered_event_applies_once(env: IntakeEnv) -> None:
    c = new_case(env)
    envelope = events.build("case.placed_on_agenda", ref(c), producer="approval")
    assert deliver(env, "case.placed_on_agenda", {}, envelope) == "applied"
    assert deliver(env, "case.placed_on_agenda", {}, envelope) == "duplicate"
    with env.sessions() as s:
        kinds = s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == c.id)).all()
    assert kinds == ["registered", "placed_on_agenda"]


def test_amendment_changes_type_and_amount(env: IntakeEnv) -> None:
    c = new_case(env)
    deliver(env, "case.amended", ref(c, welfare_type_code="ELDERLY_FUNERAL", amount="2000.00"))
    got = case(env, c.id)
    assert (got.welfare_type_code, got.amount) == ("ELDERLY_FUNERAL", Decimal("2000.00"))
    with env.sessions() as s:
        event = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.kind == "amended")
        ).one()
    assert event.details == {
        "before": {"welfare_type_code": "MEDICAL", "amount": "3000.00"},
        "after": {"welfare_type_code": "ELDERLY_FUNERAL", "amount": "2000.00"},
    }


def lock_request(
    batch_id: str, *cases: Case, district: str = "1008", **item_overrides: Any
) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "district_code": district,
        "fiscal_year": cases[0].fiscal_year if cases else 2567,
        "items": [
            {
                "case_id": c.id,
                "welfare_type_code": c.welfare_type_code,
                "amount": f"{c.amount:.2f}",
                **item_overrides,
            }
            for c in cases
        ],
    }


class TestLockSaga:
    def test_locks_all_and_sends_final_snapshots(self, env: IntakeEnv) -> None:
        a = new_case(env, phone="0811111111", email="a@example.com")
        b = new_case(
            env,
            bank={
                "bank_code": "034",
                "branch_code": "0456",
                "account_name": "ข ค",
                "account_no": "020123456789",
            },
        )
        batch = f"batch-{a.id}"
        assert deliver(env, "batch.lock_requested", lock_request(batch, a, b)) == "applied"
        assert case(env, a.id).locked_batch_id == batch
        assert case(env, b.id).locked_batch_id == batch
        [locked] = published(env, "cases.locked", batch)
        snaps = {s["case_id"]: s for s in locked["cases"]}
        assert snaps[a.id]["phone"] == "0811111111"
        assert snaps[a.id]["email"] == "a@example.com"
        assert snaps[a.id]["bank"]["account_no"] == "1234567890"
        assert snaps[b.id]["bank"] == {
            "bank_code": "034",
            "branch_code": "0456",
            "account_name": "ข ค",
            "account_no": "020123456789",
        }
        assert snaps[a.id]["case_no"] == a.case_no
        assert snaps[a.id]["amount"] == "3000.00"
        assert snaps[a.id]["welfare_type_name"]
        assert "national_id" not in snaps[a.id]

    def test_asked_again_after_the_lock_sends_the_same_snapshots(self, env: IntakeEnv) -> None:
        a = new_case(env)
        batch = f"batch-{a.id}"
        request = lock_request(batch, a)
        envelope = events.build("batch.lock_requested", request, producer="approval")
        assert deliver(env, "batch.lock_requested", {}, envelope) == "applied"
        assert deliver(env, "batch.lock_requested", {}, envelope) == "duplicate"
        assert len(published(env, "cases.locked", batch)) == 1
        assert deliver(env, "batch.lock_requested", request) == "applied"  # a new request, same batch
        first, second = published(env, "cases.locked", batch)
        assert first == second
        with env.sessions() as s:
            assert s.get(BatchLock, batch) is not None

    @pytest.mark.parametrize("problem", ["unknown", "other_district", "locked", "disqualified", "changed"])
    def test_refuses_all_when_one_case_cannot_be_locked(self, env: IntakeEnv, problem: str) -> None:
        good = new_case(env)
        bad = (
            new_case(env, actor=Actor("officer.1001", "officer", "1001"))
            if problem == "other_district"
            else new_case(env)
        )
        request = lock_request(f"batch-{good.id}", good, bad)
        expected = {
            "unknown": "ไม่พบเคส",
            "other_district": "สำนักงานเขตนี้",
            "locked": "รายการอนุมัติเงินครั้งอื่น",
            "disqualified": "ขาดคุณสมบัติ",
            "changed": "ข้อมูลเคสถูกแก้ไขระหว่างจัดทำรายการ",
        }[problem]
        if problem == "unknown":
            request["items"][1]["case_id"] = "00000000-0000-4000-8000-00000000dead"
        elif problem == "locked":
            deliver(env, "batch.lock_requested", lock_request(f"other-{bad.id}", bad))
        elif problem == "disqualified":
            deliver(env, "case.disqualified", ref(bad, reason="x"))
        elif problem == "changed":
            request["items"][1]["amount"] = "2999.00"
        assert deliver(env, "batch.lock_requested", request) == "applied"
        [refused] = published(env, "cases.lock_refused", request["batch_id"])
        assert len(refused["refusals"]) == 1
        assert expected in refused["refusals"][0]["reason"]
        assert refused["refusals"][0]["case_id"] == request["items"][1]["case_id"]
        assert case(env, good.id).locked_batch_id is None
        assert published(env, "cases.locked", request["batch_id"]) == []


def test_approval_and_payment_events(env: IntakeEnv) -> None:
    a, b, c = new_case(env), new_case(env), new_case(env)
    batch = f"batch-{a.id}"
    deliver(env, "batch.lock_requested", lock_request(batch, a, b, c))
    [locked] = published(env, "cases.locked", batch)
    approved = {
        "batch_id": batch,
        "district_code": "1008",
        "fiscal_year": a.fiscal_year,
        "number": 1,
        "title": "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่ 1-ปีงบประมาณ 2567",
        "meeting_date": "2024-01-10",
        "approved_at": utcnow().isoformat(),
        "approved_by": "head.1008",
        "total_amount": "9000.00",
        "cases": locked["cases"],
    }
    deliver(env, "batch.approved", approved)
    assert {case(env, x.id).status for x in (a, b, c)} == {"approved"}
    base = {"district_code": "1008", "approval_batch_id": batch, "at": utcnow().isoformat()}
    deliver(env, "payout.failed", {**base, "case_id": a.id, "reason": "บัญชีปิด", "final": False})
    assert case(env, a.id).status == "paying"
    assert case(env, a.id).status_reason == "บัญชีปิด"
    deliver(
        env,
        "payout.bank_details_corrected",
        {
            "case_id": a.id,
            "district_code": "1008",
            "bank": {
                "bank_code": "014",
                "branch_code": None,
                "account_name": "สมศรี ใจดี",
                "account_no": "1112223334",
            },
            "by": "finance.1008",
            "at": utcnow().isoformat(),
        },
    )
    assert (case(env, a.id).bank_code, case(env, a.id).account_no) == ("014", "1112223334")
    paid = {
        "district_code": "1008",
        "approval_batch_id": batch,
        "amount": "3000.00",
        "paid_at": utcnow().isoformat(),
    }
    deliver(env, "payout.paid", {**paid, "case_id": a.id, "ref2": "A"})
    deliver(env, "payout.paid", {**paid, "case_id": b.id, "ref2": "B"})
    deliver(env, "payout.failed", {**base, "case_id": c.id, "reason": "ไม่มีบัญชีนี้", "final": True})
    assert [case(env, x.id).status for x in (a, b, c)] == ["paid", "paid", "payment_failed"]
    assert case(env, a.id).status_reason is None  # the failure's reason went with the failure
    assert case(env, c.id).status_reason == "ไม่มีบัญชีนี้"
    settled = {
        "approval_batch_id": batch,
        "payout_batch_id": "p",
        "district_code": "1008",
        "settled_at": utcnow().isoformat(),
        "settled_by": "finance.1008",
        "paid_count": 2,
        "paid_total": "6000.00",
        "closed_count": 1,
    }
    assert deliver(env, "batch.settled", settled) == "applied"
    with env.sessions() as s:
        trail = s.scalars(
            select(AuditEntry).where(AuditEntry.object_id == a.id).order_by(AuditEntry.seq)
        ).all()
    corrected = next(t for t in trail if t.action == "case.bank_details_corrected")
    assert corrected.actor == "payment:finance.1008"
    assert corrected.after == {
        "bank": {"bank_code": "014", "branch_code": None, "account_name": "***", "account_no": "xxxxxx3334"}
    }


def test_a_reversed_payment_leaves_paid_until_payment_pays_again(env: IntakeEnv) -> None:
    """payout.reversed: paid -> reversed (history, audit, reason); a redelivery or the stale paid
    changes nothing; a later payout.paid brings the case back to paid, a final close to payment_failed."""
    a, b = new_case(env), new_case(env)
    batch = f"batch-{a.id}"
    deliver(env, "batch.lock_requested", lock_request(batch, a, b))
    [locked] = published(env, "cases.locked", batch)
    approved = {
        "batch_id": batch,
        "district_code": "1008",
        "fiscal_year": a.fiscal_year,
        "number": 1,
        "title": "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่ 1-ปีงบประมาณ 2567",
        "meeting_date": "2024-01-10",
        "approved_at": utcnow().isoformat(),
        "approved_by": "head.1008",
        "total_amount": "6000.00",
        "cases": locked["cases"],
    }
    deliver(env, "batch.approved", approved)
    t = utcnow()
    first_paid = {
        "district_code": "1008",
        "approval_batch_id": batch,
        "amount": "3000.00",
        "paid_at": t.isoformat(),
        "ref2": "WF2567-000001",
    }
    for c in (a, b):
        deliver(env, "payout.paid", {**first_paid, "case_id": c.id})
    assert [case(env, x.id).status for x in (a, b)] == ["paid", "paid"]

    def reversal(c: Case) -> dict[str, Any]:
        payload = {
            "case_id": c.id,
            "district_code": "1008",
            "approval_batch_id": batch,
            "amount": "3000.00",
            "ref2": "WF2567-000001",
            "reason": "R03 บัญชีปิดหลังโอน",
            "reason_code": "R03",
            "value_date": "2026-01-20",
            "at": (t + timedelta(hours=1)).isoformat(),
        }
        return events.build("payout.reversed", payload, producer="payment")

    reversed_a = reversal(a)
    assert deliver(env, "payout.reversed", reversed_a["payload"], reversed_a) == "applied"
    got = case(env, a.id)
    assert (got.status, got.status_reason) == ("reversed", "R03 บัญชีปิดหลังโอน")
    with env.sessions() as s:
        history = s.scalars(select(CaseEvent).where(CaseEvent.case_id == a.id).order_by(CaseEvent.id)).all()
        trail = s.scalars(select(AuditEntry).where(AuditEntry.object_id == a.id)).all()
    assert [h.kind for h in history][-2:] == ["paid", "reversed"]
    assert (history[-1].status, history[-1].note, history[-1].by) == (
        "reversed",
        "R03 บัญชีปิดหลังโอน",
        "payment",
    )
    assert history[-1].details == {
        "amount": "3000.00",
        "ref2": "WF2567-000001",
        "batch_id": batch,
        "reason_code": "R03",
        "value_date": "2026-01-20",
    }
    audited = next(e for e in trail if e.action == "case.reversed")
    assert (audited.actor, audited.before, audited.after) == (
        "payment",
        {"status": "paid"},
        {"status": "reversed"},
    )

    # the same message again, and the paid it undid arriving late (a new event id): nothing changes
    assert deliver(env, "payout.reversed", reversed_a["payload"], reversed_a) == "duplicate"
    deliver(env, "payout.paid", {**first_paid, "case_id": a.id})
    with env.sessions() as s:
        rows = s.scalars(select(CaseEvent.id).where(CaseEvent.case_id == a.id)).all()
    assert len(rows) == len(history)
    assert case(env, a.id).status == "reversed"

    # finance corrected the account and the next file paid it: paid again, the reason cleared
    again = {
        **first_paid,
        "case_id": a.id,
        "paid_at": (t + timedelta(days=2)).isoformat(),
        "ref2": "WF2567-000002",
    }
    paid_again = events.build("payout.paid", again, producer="payment")
    assert deliver(env, "payout.paid", again, paid_again) == "applied"
    assert deliver(env, "payout.paid", again, paid_again) == "duplicate"
    got = case(env, a.id)
    assert (got.status, got.status_reason) == ("paid", None)
    # the reversal redelivered under another id after the new payment: older, ignored
    deliver(env, "payout.reversed", reversed_a["payload"])
    assert case(env, a.id).status == "paid"
    with env.sessions() as s:
        kinds = [
            h.kind
            for h in s.scalars(select(CaseEvent).where(CaseEvent.case_id == a.id).order_by(CaseEvent.id))
        ]
    assert kinds[-3:] == ["paid", "reversed", "paid"]

    # b is reversed and then closed by finance as not paid
    reversed_b = reversal(b)
    deliver(env, "payout.reversed", reversed_b["payload"], reversed_b)
    assert case(env, b.id).status == "reversed"
    closed = {
        "case_id": b.id,
        "district_code": "1008",
        "approval_batch_id": batch,
        "reason": "ผู้รับเสียชีวิต",
        "final": True,
        "at": (t + timedelta(days=1)).isoformat(),
    }
    deliver(env, "payout.failed", closed)
    assert (case(env, b.id).status, case(env, b.id).status_reason) == ("payment_failed", "ผู้รับเสียชีวิต")


def test_a_whole_batch_is_locked_and_approved_with_history_and_audit_per_case(env: IntakeEnv) -> None:
    """The batch paths write one history row and one audit entry per case, and skip what does not apply."""
    cases_ = [new_case(env) for _ in range(5)]
    batch = f"batch-{cases_[0].id}"
    deliver(env, "batch.lock_requested", lock_request(batch, *cases_))
    [locked] = published(env, "cases.locked", batch)
    with env.sessions() as s:
        s.execute(select(Case).where(Case.id == cases_[4].id)).scalar_one().status = "paid"  # stale
        s.commit()
    approved = {
        "batch_id": batch,
        "district_code": "1008",
        "fiscal_year": cases_[0].fiscal_year,
        "number": 1,
        "title": "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่ 1-ปีงบประมาณ 2567",
        "meeting_date": "2024-01-10",
        "approved_at": utcnow().isoformat(),
        "approved_by": "head.1008",
        "total_amount": "15000.00",
        "cases": locked["cases"] + [{**locked["cases"][0], "case_id": "no-such-case"}],
    }
    deliver(env, "batch.approved", approved)
    ids = [c.id for c in cases_]
    with env.sessions() as s:
        statuses = dict(s.execute(select(Case.id, Case.status).where(Case.id.in_(ids))).all())
        history = s.execute(
            select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.status).where(CaseEvent.case_id.in_(ids))
        ).all()
        audits = s.execute(
            select(AuditEntry.object_id, AuditEntry.action, AuditEntry.after).where(
                AuditEntry.object_id.in_(ids), AuditEntry.action.in_(("case.lock", "case.approved"))
            )
        ).all()
    assert [statuses[i] for i in ids] == ["approved"] * 4 + ["paid"]
    assert sorted((cid, kind) for cid, kind, _ in history if kind in ("locked", "approved")) == sorted(
        [(i, "locked") for i in ids] + [(i, "approved") for i in ids[:4]]
    )
    assert sorted((oid, action) for oid, action, _ in audits) == sorted(
        [(i, "case.lock") for i in ids] + [(i, "case.approved") for i in ids[:4]]
    )
    assert all(after == {"status": "approved"} for _, action, after in audits if action == "case.approved")
    with env.sessions() as s:
        assert s.scalar(select(Case.locked_batch_id).where(Case.id == ids[0])) == batch
