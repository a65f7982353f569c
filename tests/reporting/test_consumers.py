"""Reporting's consumers fold events into read tables: idempotent, order-tolerant, rebuildable.

Every test runs on SQLite and on PostgreSQL (the ``system`` fixture).
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from services.reporting import services
from services.reporting.domain import APPROVED_STATUSES
from services.reporting.models import RptBatch, RptCase, RptDailyIntake, RptSummaryTotal
from shared import events
from shared.money import to_satang
from tests.reporting import factories as f

pytestmark = [pytest.mark.integration]


def case_row(sessions: sessionmaker[Session], case_id: str) -> RptCase:
    with sessions() as s:
        row = s.get(RptCase, case_id)
        assert row is not None
        return row


Figures = tuple[int, int, int, int, int, int, int, int]


def totals_table(sessions: sessionmaker[Session]) -> dict[tuple[Any, ...], Figures]:
    """rpt_summary_totals as the consumers keep it."""
    with sessions() as s:
        return {
            (r.fiscal_year, r.district_code, r.dimension, r.key): (
                r.case_count,
                r.requested_satang,
                r.approved_count,
                r.approved_satang,
                r.paid_count,
                r.paid_satang,
                r.failed_count,
                r.failed_satang,
            )
            for r in s.scalars(select(RptSummaryTotal))
        }


def totals_by_group_by(sessions: sessionmaker[Session]) -> dict[tuple[Any, ...], Figures]:
    """The same figures computed the slow way, from every case: GROUP BY over rpt_cases."""
    c = RptCase
    approved = c.status.in_(APPROVED_STATUSES)

    figures = (
        func.count(),
        func.sum(c.amount_requested),
        func.sum(case((approved, 1), else_=0)),
        func.sum(case((approved, c.amount_approved), else_=0)),
        func.sum(case((c.status == "paid", 1), else_=0)),
        func.sum(case((c.status == "paid", c.paid_amount), else_=0)),
        func.sum(case((c.status == "payment_failed", 1), else_=0)),
        func.sum(case((c.status == "payment_failed", c.amount_approved), else_=0)),
    )
    complete = [c.fiscal_year.is_not(None), c.welfare_type_code.is_not(None), c.status.is_not(None)]
    complete += [c.registered_month.is_not(None), c.amount_requested.is_not(None)]

    def exact(value: Any, i: int) -> int:
        if i in (0, 2, 4, 6):
            return int(value or 0)
        return to_satang(Decimal(str(value or 0)).quantize(Decimal("0.01")))

    out: dict[tuple[Any, ...], Figures] = {}
    with sessions() as s:
        for dimension, column in (
            ("status", c.status),
            ("welfare_type", c.welfare_type_code),
            ("month", c.registered_month),
        ):
            stmt = select(c.fiscal_year, c.district_code, column, *figures).where(*complete)
            for r in s.execute(stmt.group_by(c.fiscal_year, c.district_code, column)).all():
                values = tuple(exact(v, i) for i, v in enumerate(r[3:]))
                out[(r[0], r[1], dimension, r[2])] = values  # type: ignore[assignment]
    return out


def daily_by_group_by(sessions: sessionmaker[Session]) -> dict[tuple[Any, ...], int]:
    c = RptCase
    stmt = (
        select(c.fiscal_year, c.district_code, c.registered_on, func.count())
        .where(c.fiscal_year.is_not(None), c.registered_on.is_not(None))
        .group_by(c.fiscal_year, c.district_code, c.registered_on)
    )
    with sessions() as s:
        return {tuple(r[:3]): r[3] for r in s.execute(stmt).all()}


def daily_table(sessions: sessionmaker[Session]) -> dict[tuple[Any, ...], int]:
    with sessions() as s:
        return {
            (r.fiscal_year, r.district_code, r.day): r.case_count
            for r in s.scalars(select(RptDailyIntake))
            if r.case_count
        }


def test_a_fiscal_year_of_events_builds_the_read_tables(sessions: sessionmaker[Session]) -> None:
    envs = f.story()
    f.apply(sessions, *envs)
    who = f.ids(envs)
    a = case_row(sessions, who["ทดสอบ1"])
    assert (a.status, a.pay_state, a.paid_amount, a.batch_id) == ("paid", "paid", Decimal("3000.00"), "B-1")
    assert (a.bank_code, a.account_no) == ("006", "9876543210")  # the corrected account
    assert a.registered_month == "2022-10"
    b = case_row(sessions, who["ทดสอบ2"])
    assert b.status == "payment_failed"
    assert (b.amount_requested, b.amount_current, b.amount_approved) == (
        Decimal("5000.00"),
        Decimal("4500.00"),
        Decimal("4500.00"),
    )
    assert b.failure_reason == "บัญชีปิดแล้ว"
    assert case_row(sessions, who["เลื่อน"]).status == "deferred"
    d = case_row(sessions, who["ขาดคุณสมบัติ"])
    assert (d.status, d.disqualify_reason) == ("disqualified", "มีรายได้เกินเกณฑ์")
    with sessions() as s:
        batch = s.get(RptBatch, "B-1")
        assert batch is not None
        assert (batch.status, batch.case_count, batch.paid_count, batch.closed_count) == ("settled", 2, 1, 1)
        failed = s.get(RptBatch, "B-0")
        assert failed is not None
        assert failed.status == "failed"
    assert totals_table(sessions) == totals_by_group_by(sessions)
    assert daily_table(sessions) == daily_by_group_by(sessions)
    totals = totals_table(sessions)
    assert totals[(2566, "1008", "welfare_type", "KINDERGARTEN")] == (1, 300000, 1, 300000, 1, 300000, 0, 0)
    assert totals[(2566, "1008", "status", "payment_failed")] == (1, 500000, 1, 450000, 0, 0, 1, 450000)
    assert totals[(2566, "1008", "month", "2022-11")] == (1, 200000, 0, 0, 0, 0, 0, 0)
    assert totals[(2566, "1008", "status", "deferred")] == (1, 200000, 0, 0, 0, 0, 0, 0)
    assert totals[(2566, "1001", "status", "registered")] == (1, 400000, 0, 0, 0, 0, 0, 0)


def test_every_event_delivered_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    envs = f.story()
    f.apply(sessions, *envs)
    once = f.dump(sessions)
    f.apply(sessions, *envs)
    assert f.dump(sessions) == once
    assert totals_table(sessions) == totals_by_group_by(sessions)


def test_a_stale_case_updated_after_the_approval_does_not_regress(sessions: sessionmaker[Session]) -> None:
    snap = f.snapshot(amount="5000.00")
    f.apply(
        sessions,
        f.registered(snap),
        f.placed(snap, f.at(1)),
        f.batch_approved("B-stale", [(snap, f.bank())], f.at(10)),
        # intake has not seen the approval yet: its status is stale, its bank change is real
        f.updated(snap, f.at(11), status="on_agenda", bank_=f.bank("014", "5556667778")),
        # and an older edit arrives last
        f.updated({**snap, "first_name": "เก่า"}, f.at(0.5), status="registered"),
    )
    row = case_row(sessions, snap["case_id"])
    assert row.status == "approved"
    assert (row.bank_code, row.account_no) == ("014", "5556667778")
    assert row.first_name == snap["first_name"]
    assert totals_table(sessions) == totals_by_group_by(sessions)


def test_a_reversal_stops_counting_the_case_as_paid_until_it_is_paid_again(
    sessions: sessionmaker[Session],
) -> None:
    snap = f.snapshot(amount="5000.00")
    first_paid = f.paid(snap, "B-rev", f.at(20))
    reversal = f.reversed_(snap, "B-rev", f.at(30))
    f.apply(
        sessions,
        f.registered(snap),
        f.placed(snap, f.at(1)),
        f.batch_approved("B-rev", [(snap, f.bank())], f.at(10)),
        first_paid,
    )
    assert totals_table(sessions)[(2566, "1008", "status", "paid")] == (1, 500000, 1, 500000, 1, 500000, 0, 0)
    f.apply(sessions, reversal)
    row = case_row(sessions, snap["case_id"])
    assert (row.status, row.pay_state, row.paid_at, row.paid_amount, row.failure_reason) == (
        "reversed",
        "reversed",
        None,
        None,
        "R03 บัญชีปิดหลังโอน",
    )
    totals = totals_table(sessions)
    assert (2566, "1008", "status", "paid") not in totals
    # still approved, no longer paid, not a failed payment
    assert totals[(2566, "1008", "status", "reversed")] == (1, 500000, 1, 500000, 0, 0, 0, 0)
    assert totals[(2566, "1008", "welfare_type", "CAREER")] == (1, 500000, 1, 500000, 0, 0, 0, 0)
    assert totals == totals_by_group_by(sessions)
    reversed_once = f.dump(sessions)
    # redelivered, and the payment it undid arriving late (another event id): nothing changes
    f.apply(sessions, reversal, first_paid, f.paid(snap, "B-rev", f.at(20)))
    assert f.dump(sessions) == reversed_once
    # paid again after the correction: counted as paid once, with the new payment's figures
    paid_again = f.paid(snap, "B-rev", f.at(60 * 24 * 2))
    f.apply(sessions, paid_again, paid_again, reversal)
    row = case_row(sessions, snap["case_id"])
    assert (row.status, row.pay_state, row.paid_amount, row.failure_reason) == (
        "paid",
        "paid",
        Decimal("5000.00"),
        None,
    )
    assert row.paid_at == f.at(60 * 24 * 2)
    totals = totals_table(sessions)
    assert (2566, "1008", "status", "reversed") not in totals
    assert totals[(2566, "1008", "status", "paid")] == (1, 500000, 1, 500000, 1, 500000, 0, 0)
    assert totals == totals_by_group_by(sessions)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_reversal_sequences_give_the_same_tables_in_any_order(
    sessions: sessionmaker[Session], seed: int
) -> None:
    """paid, reversed, failed, paid again, reversed again, closed: the latest payout fact wins."""
    a, b = f.snapshot(first="กลับ1", amount="3000.00"), f.snapshot(first="กลับ2", amount="2000.00")
    envs = [
        *(f.registered(s) for s in (a, b)),
        f.batch_approved("B-seq", [(a, f.bank()), (b, f.bank())], f.at(10)),
        f.paid(a, "B-seq", f.at(20)),
        f.reversed_(a, "B-seq", f.at(30)),
        f.failed(a, "B-seq", f.at(40), final=False, reason="บัญชีไม่ถูกต้อง"),
        f.paid(a, "B-seq", f.at(50)),
        f.paid(b, "B-seq", f.at(20)),
        f.reversed_(b, "B-seq", f.at(30)),
        f.failed(b, "B-seq", f.at(40), final=True, reason="ผู้รับเสียชีวิต"),
    ]
    with sessions.begin() as s:
        services.rebuild(s, envs)
    in_order = f.dump(sessions)
    assert (case_row(sessions, a["case_id"]).status, case_row(sessions, b["case_id"]).status) == (
        "paid",
        "payment_failed",
    )
    shuffled = envs[:]
    random.Random(seed).shuffle(shuffled)
    with sessions.begin() as s:
        services.rebuild(s, (events.parse(e) for e in shuffled))
    assert f.dump(sessions) == in_order
    assert totals_table(sessions) == totals_by_group_by(sessions)


def test_events_before_the_registration_are_kept_until_it_arrives(sessions: sessionmaker[Session]) -> None:
    snap = f.snapshot(amount="5000.00")
    approved = {**snap, "amount": "4000.00"}
    f.apply(
        sessions,
        f.paid(approved, "B-early", f.at(20), amount="4000.00"),
        f.batch_approved("B-early", [(approved, f.bank())], f.at(10)),
        f.amended(snap, f.at(5), welfare_code="CAREER", amount="4000.00"),
        f.placed(snap, f.at(1)),
    )
    assert case_row(sessions, snap["case_id"]).amount_requested == Decimal("4000.00")  # provisional
    f.apply(sessions, f.registered(snap))
    row = case_row(sessions, snap["case_id"])
    assert (row.status, row.amount_requested, row.amount_approved, row.paid_amount) == (
        "paid",
        Decimal("5000.00"),
        Decimal("4000.00"),
        Decimal("4000.00"),
    )
    assert totals_table(sessions) == totals_by_group_by(sessions)
    assert daily_table(sessions) == daily_by_group_by(sessions)


def test_an_edit_before_the_committee_changes_the_requested_amount_one_after_does_not(
    sessions: sessionmaker[Session],
) -> None:
    other = f.snapshot(welfare=f.MEDICAL, amount="1000.00")
    snap = f.snapshot(amount="5000.00")
    f.apply(
        sessions,
        f.registered(other),
        f.registered(snap),
        f.updated({**snap, "amount": "4800.00"}, f.at(1)),
        f.amended(snap, f.at(2), welfare_code="MEDICAL", amount="3000.00"),
    )
    row = case_row(sessions, snap["case_id"])
    assert (row.amount_requested, row.amount_current) == (Decimal("4800.00"), Decimal("3000.00"))
    # the amendment names only the code; the name comes from a snapshot seen before
    assert (row.welfare_type_code, row.welfare_type_name) == ("MEDICAL", f.MEDICAL[1])
    mirrored = {
        **snap,
        "welfare_type_code": "MEDICAL",
        "welfare_type_name": f.MEDICAL[1],
        "amount": "3000.00",
    }
    f.apply(sessions, f.updated(mirrored, f.at(3), status="on_agenda"))
    assert case_row(sessions, snap["case_id"]).amount_requested == Decimal("4800.00")
    assert totals_table(sessions) == totals_by_group_by(sessions)


def test_rebuild_from_a_replay_gives_the_same_tables(sessions: sessionmaker[Session]) -> None:
    envs = f.story()
    f.apply(sessions, *envs)
    incremental = f.dump(sessions)
    with sessions.begin() as s:
        counts = services.rebuild(s, [*envs, envs[0]])
    assert counts == {"applied": len(envs), "duplicates": 1, "ignored": 0}
    assert f.dump(sessions) == incremental


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replay_in_another_order_gives_the_same_tables(sessions: sessionmaker[Session], seed: int) -> None:
    envs = f.story()
    with sessions.begin() as s:
        services.rebuild(s, envs)
    in_order = f.dump(sessions)
    shuffled = envs[:]
    random.Random(seed).shuffle(shuffled)
    with sessions.begin() as s:
        services.rebuild(s, (events.parse(e) for e in shuffled))
    assert f.dump(sessions) == in_order
    assert totals_table(sessions) == totals_by_group_by(sessions)


def test_rebuild_keeps_budgets_and_skips_events_reporting_does_not_consume(
    sessions: sessionmaker[Session],
) -> None:
    actor = services.Actor("central.admin", "central_admin", None)
    with sessions.begin() as s:
        services.set_budget(
            s, fiscal_year=2566, district_code="1008", amount=Decimal("100000.00"), actor=actor
        )
    probe = events.build("ops.probe", {"key": "k", "sent_at": f.T0.isoformat()}, producer="test")
    with sessions.begin() as s:
        counts = services.rebuild(s, [probe, *f.story()])
    assert counts["ignored"] == 1
    from services.reporting.models import RptBudget

    with sessions() as s:
        assert s.get(RptBudget, (2566, "1008")) is not None


def test_a_big_batch_is_consumed_in_one_event(sessions: sessionmaker[Session]) -> None:
    snaps = [f.snapshot(first=f"ผู้รับ{i}", amount="1000.00") for i in range(300)]
    f.apply(sessions, *(f.registered(s) for s in snaps))
    f.apply(sessions, f.batch_approved("B-big", [(s, f.bank()) for s in snaps], f.at(60)))
    with sessions() as s:
        approved = s.scalar(select(func.count()).select_from(RptCase).where(RptCase.status == "approved"))
    assert approved == 300
    figures = (300, 30_000_000, 300, 30_000_000, 0, 0, 0, 0)
    assert totals_table(sessions) == {
        (2566, "1008", "status", "approved"): figures,
        (2566, "1008", "welfare_type", "CAREER"): figures,
        (2566, "1008", "month", "2022-10"): figures,
    }


def test_recompute_totals_gives_what_the_consumers_keep(sessions: sessionmaker[Session]) -> None:
    f.apply(sessions, *f.story())
    kept, days = totals_table(sessions), daily_table(sessions)
    with sessions.begin() as s:
        counts = services.recompute_totals(s)
    assert counts == {"rows": len(kept), "days": len(days)}
    assert totals_table(sessions) == kept
    assert daily_table(sessions) == days
