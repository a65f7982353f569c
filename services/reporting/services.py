"""Reporting's use cases: fold events into the read tables, rebuild them, budgets and templates.

Every ``on_*`` function is an idempotent upsert: applying an event twice, or older events after
newer ones, leaves the tables as applying each once in time order would (guards in ``domain``).
They flush, never commit: the inbox (or ``rebuild``) owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, cast, delete, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.reporting import domain
from services.reporting.domain import Contribution, is_newer, status_may_change
from services.reporting.models import (
    EVENT_TABLES,
    RptBatch,
    RptBatchPayee,
    RptBudget,
    RptCase,
    RptDailyIntake,
    RptSummaryTotal,
    RptTemplate,
    RptWelfareType,
)
from shared import audit, events
from shared.db import utcnow
from shared.districts import get_district
from shared.money import money_str

Payload = Mapping[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who asks (for the audit log)."""

    username: str
    role: str
    district_code: str | None
    ip: str | None = None


_STATEMENTS: dict[str, dict[str, Any]] = {}


def _upserts(session: Session) -> dict[str, Any]:
    """The upsert statements, built once per dialect (PostgreSQL and SQLite both have ON CONFLICT)."""
    dialect = session.get_bind().dialect.name
    if dialect not in _STATEMENTS:
        ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
        total = ins(RptSummaryTotal.__table__)
        day = ins(RptDailyIntake.__table__)
        welfare = ins(RptWelfareType.__table__)
        payee = ins(RptBatchPayee.__table__)
        payee_keys = ("batch_id", "case_id")
        _STATEMENTS[dialect] = {
            "case": ins(RptCase.__table__).on_conflict_do_nothing(index_elements=["case_id"]),
            "batch": ins(RptBatch.__table__).on_conflict_do_nothing(index_elements=["batch_id"]),
            "total": total.on_conflict_do_update(
                index_elements=["fiscal_year", "district_code", "dimension", "key"],
                set_={m: _S[m] + getattr(total.excluded, m) for m in domain.MEASURES},
            ),
            "day": day.on_conflict_do_update(
                index_elements=["fiscal_year", "district_code", "day"],
                set_={"case_count": _D.case_count + day.excluded.case_count},
            ),
            "welfare": welfare.on_conflict_do_update(
                index_elements=["code"],
                set_={k: getattr(welfare.excluded, k) for k in ("name_th", "regulation_ref", "seen_at")},
                where=RptWelfareType.__table__.c.seen_at <= welfare.excluded.seen_at,
            ),
            "payee": payee.on_conflict_do_update(
                index_elements=list(payee_keys),
                set_={
                    c.name: getattr(payee.excluded, c.name)
                    for c in RptBatchPayee.__table__.columns
                    if c.name not in payee_keys
                },
            ),
        }
    return _STATEMENTS[dialect]


# --- summary bookkeeping -------------------------------------------------------------------------
_S = RptSummaryTotal.__table__.c
_D = RptDailyIntake.__table__.c


class _Totals:
    """Moves of cases between summary rows during one event, written in key order at the end.

    Writing in a fixed order keeps two workers that move cases between the same rows from
    deadlocking on PostgreSQL; increments commute, so concurrent events add up correctly.
    """

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str, str, str], list[int]] = {}
        self.days: dict[tuple[int, str, dt.date], int] = {}

    def before(self, case: RptCase) -> tuple[Contribution | None, tuple[int, str, dt.date] | None]:
        return domain.contribution(case), domain.intake_day(case)

    def after(
        self, case: RptCase, token: tuple[Contribution | None, tuple[int, str, dt.date] | None]
    ) -> None:
        old, old_day = token
        new, new_day = domain.contribution(case), domain.intake_day(case)
        if old != new:
            self._add(old, -1)
            self._add(new, 1)
        if old_day != new_day:
            if old_day is not None:
                self.days[old_day] = self.days.get(old_day, 0) - 1
            if new_day is not None:
                self.days[new_day] = self.days.get(new_day, 0) + 1

    def _add(self, c: Contribution | None, sign: int) -> None:
        if c is None:
            return
        for key in c.keys:
            row = self.rows.setdefault(key, [0] * len(domain.MEASURES))
            for i, value in enumerate(c.measures):
                row[i] += sign * value

    def flush(self, session: Session) -> None:
        rows = [(k, v) for k, v in sorted(self.rows.items()) if any(v)]
        if rows:
            session.execute(
                _upserts(session)["total"],
                [
                    {
                        "fiscal_year": k[0],
                        "district_code": k[1],
                        "dimension": k[2],
                        "key": k[3],
                        **dict(zip(domain.MEASURES, v, strict=True)),
                    }
                    for k, v in rows
                ],
            )
            emptied = [k for k, v in rows if v[0] < 0]
            if emptied:  # a row left by its last case disappears, as if it had never been
                session.execute(
                    delete(RptSummaryTotal).where(
                        tuple_(_S.fiscal_year, _S.district_code, _S.dimension, _S.key).in_(emptied),
                        *(_S[m] == 0 for m in domain.MEASURES),
                    )
                )
        days = [(k, v) for k, v in sorted(self.days.items()) if v]
        if days:
            session.execute(
                _upserts(session)["day"],
                [{"fiscal_year": k[0], "district_code": k[1], "day": k[2], "case_count": v} for k, v in days],
            )
            emptied_days = [k for k, v in days if v < 0]
            if emptied_days:
                session.execute(
                    delete(RptDailyIntake).where(
                        tuple_(_D.fiscal_year, _D.district_code, _D.day).in_(emptied_days), _D.case_count == 0
                    )
                )
        self.rows.clear()
        self.days.clear()


# --- loading rows --------------------------------------------------------------------------------
def _load_cases(session: Session, districts: Mapping[str, str]) -> dict[str, RptCase]:
    """The cases named (case id -> district), created empty where unknown, locked for this event."""
    if not districts:
        return {}
    now = utcnow()
    session.execute(
        _upserts(session)["case"],
        [{"case_id": cid, "district_code": d, "updated_at": now} for cid, d in districts.items()],
    )
    rows = session.scalars(
        select(RptCase).where(RptCase.case_id.in_(list(districts))).with_for_update()
    ).all()
    return {row.case_id: row for row in rows}


def _load_case(session: Session, case_id: str, district_code: str) -> RptCase:
    return _load_cases(session, {case_id: district_code})[case_id]


def _load_batch(session: Session, batch_id: str, district_code: str) -> RptBatch:
    session.execute(
        _upserts(session)["batch"],
        {"batch_id": batch_id, "district_code": district_code, "status": "pending", "updated_at": utcnow()},
    )
    return session.scalars(select(RptBatch).where(RptBatch.batch_id == batch_id).with_for_update()).one()


def _refresh_batch_status(batch: RptBatch) -> None:
    if batch.settled_at is not None:
        batch.status = "settled"
    elif batch.approved_at is not None:
        batch.status = "approved"
    elif batch.failure_reason is not None:
        batch.status = "failed"
    else:
        batch.status = "pending"


def _remember_welfare_types(
    session: Session, seen: Mapping[str, tuple[str, str | None]], at: dt.datetime
) -> None:
    """Keep each welfare type's latest name and regulation reference (the amendment event has codes only)."""
    if not seen:
        return
    session.execute(
        _upserts(session)["welfare"],
        [
            {"code": code, "name_th": n, "regulation_ref": r, "seen_at": at}
            for code, (n, r) in sorted(seen.items())
        ],
    )


# --- folding facts into a case -------------------------------------------------------------------
def _set_status(case: RptCase, status: str, at: dt.datetime) -> None:
    if status_may_change(case.status, case.status_at, status, at):
        case.status, case.status_at = status, at


def _set_bank(case: RptCase, bank: Payload | None, at: dt.datetime) -> None:
    if bank and is_newer(at, case.bank_at):
        case.bank_code = bank["bank_code"]
        case.branch_code = bank.get("branch_code")
        case.account_name = bank["account_name"]
        case.account_no = bank["account_no"]
        case.bank_at = at


def _decided(case: RptCase, at: dt.datetime) -> None:
    if case.decided_at is None or at < case.decided_at:
        case.decided_at = at


def _apply_snapshot(case: RptCase, snap: Payload, at: dt.datetime, *, from_batch: bool) -> None:
    """Take a case snapshot (registration, edit or the batch's locked copy) where it is newest."""
    if is_newer(at, case.data_at):
        case.case_no = snap["case_no"]
        case.fiscal_year = snap["fiscal_year"]
        case.title = snap["title"]
        case.first_name = snap["first_name"]
        case.last_name = snap["last_name"]
        case.case_type = snap["case_type"]
        registered: dt.datetime = snap["registered_at"]
        case.registered_at = registered
        case.registered_on = domain.bangkok_date(registered)
        case.registered_month = case.registered_on.strftime("%Y-%m")
        case.data_at = at
    if is_newer(at, case.current_at):
        case.welfare_type_code = snap["welfare_type_code"]
        case.welfare_type_name = snap["welfare_type_name"]
        case.regulation_ref = snap.get("regulation_ref")
        case.amount_current = snap["amount"]
        case.current_at = at
    if from_batch:
        if case.amount_requested is None:  # provisional until the registration arrives
            case.amount_requested = snap["amount"]
    elif (case.decided_at is None or at < case.decided_at) and is_newer(at, case.requested_at):
        case.amount_requested = snap["amount"]
        case.requested_at = at


def record_case_snapshot(
    session: Session,
    *,
    snapshot: Payload,
    at: dt.datetime,
    registered: bool,
    bank: Payload | None = None,
    status: str | None = None,
) -> RptCase:
    """``case.registered`` / ``case.updated``: the officer's data of a case.

    The status in ``case.updated`` is intake's view and may lag behind approval's and payment's
    events, so it only fills a status that no other event has set yet.
    """
    case = _load_case(session, snapshot["case_id"], snapshot["district_code"])
    totals = _Totals()
    token = totals.before(case)
    _apply_snapshot(case, snapshot, at, from_batch=False)
    if registered:
        _set_status(case, "registered", at)
    elif case.status is None and status:
        case.status, case.status_at = status, at
    _set_bank(case, bank, at)
    totals.after(case, token)
    _remember_welfare_types(
        session,
        {snapshot["welfare_type_code"]: (snapshot["welfare_type_name"], snapshot.get("regulation_ref"))},
        at,
    )
    totals.flush(session)
    return case


def record_case_status(
    session: Session, *, ref: Payload, status: str, at: dt.datetime, reason: str | None = None
) -> RptCase:
    """``case.placed_on_agenda`` / ``deferred`` / ``restored`` / ``disqualified``."""
    case = _load_case(session, ref["case_id"], ref["district_code"])
    totals = _Totals()
    token = totals.before(case)
    _set_status(case, status, at)
    if status == "disqualified" and case.status == "disqualified":
        case.disqualify_reason = reason
    totals.after(case, token)
    totals.flush(session)
    return case


def record_amendment(session: Session, *, ref: Payload, at: dt.datetime) -> RptCase:
    """``case.amended``: the committee changed the welfare type and/or the amount."""
    case = _load_case(session, ref["case_id"], ref["district_code"])
    totals = _Totals()
    token = totals.before(case)
    _decided(case, at)
    if is_newer(at, case.current_at):
        code = ref["welfare_type_code"]
        known = session.get(RptWelfareType, code)
        if code != case.welfare_type_code:
            case.welfare_type_name = known.name_th if known else None
            case.regulation_ref = known.regulation_ref if known else None
        case.welfare_type_code = code
        case.amount_current = ref["amount"]
        case.current_at = at
    totals.after(case, token)
    totals.flush(session)
    return case


def record_batch_approved(session: Session, *, payload: Payload, at: dt.datetime) -> RptBatch:
    """``batch.approved``: the batch, its locked lines, and every case approved."""
    p = payload
    batch = _load_batch(session, p["batch_id"], p["district_code"])
    batch.fiscal_year = p["fiscal_year"]
    batch.number = p["number"]
    batch.title = p["title"]
    batch.meeting_date = p["meeting_date"]
    batch.approved_at = p["approved_at"]
    batch.approved_by = p["approved_by"]
    batch.total_amount = p["total_amount"]
    batch.case_count = len(p["cases"])
    _refresh_batch_status(batch)

    cases = _load_cases(session, {c["case_id"]: c["district_code"] for c in p["cases"]})
    totals = _Totals()
    welfare: dict[str, tuple[str, str | None]] = {}
    payees = []
    for seq, snap in enumerate(p["cases"], start=1):
        case = cases[snap["case_id"]]
        token = totals.before(case)
        _apply_snapshot(case, snap, at, from_batch=True)
        _decided(case, at)
        case.batch_id = p["batch_id"]
        case.approved_at = p["approved_at"]
        case.amount_approved = snap["amount"]
        _set_status(case, "approved", at)
        _set_bank(case, snap["bank"], at)
        totals.after(case, token)
        welfare[snap["welfare_type_code"]] = (snap["welfare_type_name"], snap.get("regulation_ref"))
        payees.append(
            {
                "batch_id": p["batch_id"],
                "case_id": snap["case_id"],
                "seq": seq,
                "case_no": snap["case_no"],
                "title": snap["title"],
                "first_name": snap["first_name"],
                "last_name": snap["last_name"],
                "welfare_type_code": snap["welfare_type_code"],
                "welfare_type_name": snap["welfare_type_name"],
                "regulation_ref": snap.get("regulation_ref"),
                "amount": snap["amount"],
            }
        )
    if payees:
        session.execute(_upserts(session)["payee"], payees)
    _remember_welfare_types(session, welfare, at)
    totals.flush(session)
    return batch


def record_batch_failed(session: Session, *, payload: Payload) -> RptBatch:
    """``batch.failed``: the batch could not be approved (kept so that its documents answer 409)."""
    batch = _load_batch(session, payload["batch_id"], payload["district_code"])
    batch.failure_reason = payload["reason"]
    _refresh_batch_status(batch)
    return batch


#: The case status each payment state of its payee gives.
PAY_STATUS = {"failed": "paying", "reversed": "reversed", "paid": "paid", "closed_failed": "payment_failed"}
_PAY_RANK = {None: 0, "failed": 1, "reversed": 1, "paid": 2, "closed_failed": 2}


def _pay_may_change(case: RptCase, state: str, at: dt.datetime) -> bool:
    """Whether a payout fact that occurred at ``at`` replaces the payee's payment state.

    Payment publishes one payee's facts from successive transactions (a bank report, a
    correction, the next file: a day or more apart), so the later one is the truth: a reversal
    undoes the payment before it, and a new payment the reversal before it.  Before reversals
    existed a paid payee never had a later fact, so this gives what ranking paid above failed
    gave.  Equal times (never from payment, but a hand-made replay) fall back to that rank.
    """
    if case.pay_at is None or at != case.pay_at:
        return is_newer(at, case.pay_at)
    return _PAY_RANK[state] >= _PAY_RANK.get(case.pay_state, 0)


def _set_pay(case: RptCase, state: str, at: dt.datetime) -> bool:
    """Take a payout fact where it is the latest; the case's status follows the payment state."""
    if not _pay_may_change(case, state, at):
        return False
    case.pay_state, case.pay_at = state, at
    case.status, case.status_at = PAY_STATUS[state], at
    if state != "paid":  # not paid (any more): the folded result must not depend on the order
        case.paid_at = case.paid_amount = None
    return True


def record_payout_paid(session: Session, *, payload: Payload, at: dt.datetime) -> RptCase:
    """``payout.paid``: the bank paid the case's payee."""
    case = _load_case(session, payload["case_id"], payload["district_code"])
    totals = _Totals()
    token = totals.before(case)
    if _set_pay(case, "paid", at):
        case.paid_at = payload["paid_at"]
        case.paid_amount = payload["amount"]
        case.failure_reason = None  # an earlier failed attempt or reversal no longer matters
    case.batch_id = case.batch_id or payload["approval_batch_id"]
    totals.after(case, token)
    totals.flush(session)
    return case


def record_payout_failed(session: Session, *, payload: Payload, at: dt.datetime) -> RptCase:
    """``payout.failed``: a transfer failed; ``final`` when finance closed the payee as not paid."""
    case = _load_case(session, payload["case_id"], payload["district_code"])
    totals = _Totals()
    token = totals.before(case)
    if _set_pay(case, "closed_failed" if payload["final"] else "failed", at):
        case.failure_reason = payload["reason"]
    case.batch_id = case.batch_id or payload["approval_batch_id"]
    totals.after(case, token)
    totals.flush(session)
    return case


def record_payout_reversed(session: Session, *, payload: Payload, at: dt.datetime) -> RptCase:
    """``payout.reversed``: the bank reversed the paid transfer; the case no longer counts as paid."""
    case = _load_case(session, payload["case_id"], payload["district_code"])
    totals = _Totals()
    token = totals.before(case)
    if _set_pay(case, "reversed", at):
        case.failure_reason = payload["reason"]
    case.batch_id = case.batch_id or payload["approval_batch_id"]
    totals.after(case, token)
    totals.flush(session)
    return case


def record_bank_correction(session: Session, *, payload: Payload, at: dt.datetime) -> RptCase:
    """``payout.bank_details_corrected``: the bank forms print the corrected account."""
    case = _load_case(session, payload["case_id"], payload["district_code"])
    _set_bank(case, payload["bank"], at)
    return case


def record_batch_settled(session: Session, *, payload: Payload) -> RptBatch:
    """``batch.settled``: every payee is paid or closed."""
    p = payload
    batch = _load_batch(session, p["approval_batch_id"], p["district_code"])
    batch.payout_batch_id = p["payout_batch_id"]
    batch.settled_at = p["settled_at"]
    batch.settled_by = p["settled_by"]
    batch.paid_count = p["paid_count"]
    batch.paid_total = p["paid_total"]
    batch.closed_count = p["closed_count"]
    _refresh_batch_status(batch)
    return batch


# --- the event handlers (the consumers and the rebuild use the same ones) --------------------------
Handler = Callable[[Session, events.Event], None]


def _status_handler(status: str) -> Handler:
    def handle(session: Session, event: events.Event) -> None:
        record_case_status(
            session,
            ref=event.payload,
            status=status,
            at=event.occurred_at,
            reason=event.payload.get("reason"),
        )

    handle.__name__ = handle.__qualname__ = f"on_case_{status}"
    handle.__doc__ = f"Set the case's status to {status}."
    return handle


def on_case_registered(session: Session, event: events.Event) -> None:
    """A district recorded a case."""
    record_case_snapshot(session, snapshot=event.payload, at=event.occurred_at, registered=True)


def on_case_updated(session: Session, event: events.Event) -> None:
    """An officer edited a case (its bank, when it changed)."""
    p = event.payload
    record_case_snapshot(
        session,
        snapshot=p,
        at=event.occurred_at,
        registered=False,
        bank=p.get("bank"),
        status=p.get("status"),
    )


def on_case_amended(session: Session, event: events.Event) -> None:
    """The committee changed a case's welfare type and/or amount."""
    record_amendment(session, ref=event.payload, at=event.occurred_at)


def on_batch_approved(session: Session, event: events.Event) -> None:
    """An approval batch is final."""
    record_batch_approved(session, payload=event.payload, at=event.occurred_at)


def on_batch_failed(session: Session, event: events.Event) -> None:
    """An approval batch failed."""
    record_batch_failed(session, payload=event.payload)


def on_payout_paid(session: Session, event: events.Event) -> None:
    """A payee was paid."""
    record_payout_paid(session, payload=event.payload, at=event.occurred_at)


def on_payout_failed(session: Session, event: events.Event) -> None:
    """A transfer failed (or the payee was closed as not paid)."""
    record_payout_failed(session, payload=event.payload, at=event.occurred_at)


def on_payout_reversed(session: Session, event: events.Event) -> None:
    """The bank reversed a payee's paid transfer (the money came back)."""
    record_payout_reversed(session, payload=event.payload, at=event.occurred_at)


def on_payout_bank_details_corrected(session: Session, event: events.Event) -> None:
    """Finance corrected a payee's bank details."""
    record_bank_correction(session, payload=event.payload, at=event.occurred_at)


def on_batch_settled(session: Session, event: events.Event) -> None:
    """Every payee of a batch is paid or closed."""
    record_batch_settled(session, payload=event.payload)


HANDLERS: dict[str, Handler] = {
    "case.registered": on_case_registered,
    "case.updated": on_case_updated,
    "case.placed_on_agenda": _status_handler("on_agenda"),
    "case.deferred": _status_handler("deferred"),
    "case.restored": _status_handler("on_agenda"),
    "case.disqualified": _status_handler("disqualified"),
    "case.amended": on_case_amended,
    "batch.approved": on_batch_approved,
    "batch.failed": on_batch_failed,
    "payout.paid": on_payout_paid,
    "payout.failed": on_payout_failed,
    "payout.reversed": on_payout_reversed,
    "payout.bank_details_corrected": on_payout_bank_details_corrected,
    "batch.settled": on_batch_settled,
}


def rebuild(session: Session, envelopes: Iterable[Mapping[str, Any] | events.Event]) -> dict[str, int]:
    """Empty the event-built tables and apply ``envelopes`` again, in the order given.

    Budgets and templates (entered through the API) are kept.  An event id seen twice is
    applied once; event types reporting does not consume are counted and skipped.
    """
    for model in reversed(EVENT_TABLES):
        session.execute(delete(model))
    seen: set[str] = set()
    counts = {"applied": 0, "duplicates": 0, "ignored": 0}
    for item in envelopes:
        event = item if isinstance(item, events.Event) else events.parse(dict(item))
        if event.event_id in seen:
            counts["duplicates"] += 1
            continue
        seen.add(event.event_id)
        handler = HANDLERS.get(event.event_type)
        if handler is None:
            counts["ignored"] += 1
            continue
        handler(session, event)
        counts["applied"] += 1
    session.flush()
    return counts


def recompute_totals(session: Session) -> dict[str, int]:
    """Rebuild ``rpt_summary_totals`` and ``rpt_daily_intake`` from ``rpt_cases`` with GROUP BY.

    The consumers keep both tables up to date as events arrive; this is for a bulk load (the
    benchmark) or a reconciliation after a manual repair.  It gives what the consumers give.
    """
    c = RptCase.__table__.c
    is_approved = c.status.in_(domain.APPROVED_STATUSES)
    is_paid, is_failed = c.status == "paid", c.status == "payment_failed"

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    def satang(column: Any) -> Any:
        return cast(func.round(func.coalesce(func.sum(column), 0) * 100), BigInteger)

    figures = (
        func.count(),
        satang(c.amount_requested),
        count_if(is_approved),
        satang(case((is_approved, c.amount_approved), else_=0)),
        count_if(is_paid),
        satang(case((is_paid, c.paid_amount), else_=0)),
        count_if(is_failed),
        satang(case((is_failed, c.amount_approved), else_=0)),
    )
    keys = (c.fiscal_year, c.district_code, c.welfare_type_code, c.registered_month, c.status)
    complete = [k.is_not(None) for k in keys] + [c.amount_requested.is_not(None)]
    session.execute(delete(RptSummaryTotal))
    session.execute(delete(RptDailyIntake))
    columns = ["fiscal_year", "district_code", "dimension", "key", *domain.MEASURES]
    for dimension, column in (
        ("status", c.status),
        ("welfare_type", c.welfare_type_code),
        ("month", c.registered_month),
    ):
        session.execute(
            RptSummaryTotal.__table__.insert().from_select(
                columns,
                select(c.fiscal_year, c.district_code, literal(dimension), column, *figures)
                .where(*complete)
                .group_by(c.fiscal_year, c.district_code, column),
            )
        )
    day_keys = (c.fiscal_year, c.district_code, c.registered_on)
    session.execute(
        RptDailyIntake.__table__.insert().from_select(
            ["fiscal_year", "district_code", "day", "case_count"],
            select(*day_keys, func.count()).where(*(k.is_not(None) for k in day_keys)).group_by(*day_keys),
        )
    )
    return {
        "rows": int(session.scalar(select(func.count()).select_from(RptSummaryTotal)) or 0),
        "days": int(session.scalar(select(func.count()).select_from(RptDailyIntake)) or 0),
    }


# --- budgets -------------------------------------------------------------------------------------
def set_budget(
    session: Session, *, fiscal_year: int, district_code: str, amount: Decimal, actor: Actor
) -> RptBudget:
    """The central office enters a district's allocation for a fiscal year (audited)."""
    if get_district(district_code) is None:
        raise domain.NotFound("ไม่พบรหัสเขตนี้", code="unknown_district")
    row = session.scalars(
        select(RptBudget)
        .where(RptBudget.fiscal_year == fiscal_year, RptBudget.district_code == district_code)
        .with_for_update()
    ).first()
    before = {"amount": money_str(row.amount)} if row is not None else None
    if row is None:
        row = RptBudget(
            fiscal_year=fiscal_year, district_code=district_code, amount=amount, updated_by=actor.username
        )
        session.add(row)
    else:
        row.amount, row.updated_by = amount, actor.username
    row.updated_at = utcnow()
    audit.record(
        session,
        action="budget.set",
        object_type="budget",
        object_id=f"{fiscal_year}-{district_code}",
        actor=actor.username,
        role=actor.role,
        district_code=district_code,
        ip=actor.ip,
        fields=("amount",),
        before=before,
        after={"amount": money_str(amount)},
    )
    session.flush()
    return row


# --- exports ---------------------------------------------------------------------------------------
#: Documents that carry personal data beyond names: the bank forms list full account numbers.
ACCOUNT_NUMBER_DOCUMENTS = frozenset({"tk1", "kcorp2"})


def audit_export(
    session: Session,
    actor: Actor,
    *,
    document: str,
    object_id: str,
    district_code: str | None,
    fmt: str,
    rows: int,
) -> None:
    """Audit a document downloaded (reliability D3: exports of personal data are audited).

    ``fields`` names what personal data the file holds; no value of it is logged.
    """
    carried = ["name", "account_no"] if document in ACCOUNT_NUMBER_DOCUMENTS else ["name"]
    audit.record(
        session,
        action="document.export",
        object_type=document,
        object_id=object_id,
        actor=actor.username,
        role=actor.role,
        district_code=district_code,
        ip=actor.ip,
        fields=carried,
        after={"format": fmt, "rows": rows},
    )


# --- templates -----------------------------------------------------------------------------------
def template_override(session: Session, doc: str, district_code: str) -> RptTemplate | None:
    """A district's stored adjustments of a document, if any."""
    return session.get(RptTemplate, (district_code, doc))


def set_template(
    session: Session, *, doc: str, district_code: str, data: Mapping[str, Any], actor: Actor
) -> RptTemplate:
    """Store a district's adjustments of a document's layout text (``{}`` returns to the default)."""
    if get_district(district_code) is None:
        raise domain.NotFound("ไม่พบรหัสเขตนี้", code="unknown_district")
    row = session.get(RptTemplate, (district_code, doc), with_for_update=True)
    before = dict(row.data) if row is not None else None
    clean = {k: v for k, v in data.items() if k in domain.TEMPLATE_KEYS and v is not None}
    if row is None:
        row = RptTemplate(district_code=district_code, doc=doc, data=clean, updated_by=actor.username)
        session.add(row)
    else:
        row.data, row.updated_by = clean, actor.username
    row.updated_at = utcnow()
    audit.record(
        session,
        action="template.set",
        object_type="report_template",
        object_id=f"{district_code}/{doc}",
        actor=actor.username,
        role=actor.role,
        district_code=district_code,
        ip=actor.ip,
        fields=tuple(sorted(set(clean) | set(before or {}))),
        before=before,
        after=clean,
    )
    session.flush()
    return row
