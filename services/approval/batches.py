"""The batch saga: closing the agenda, intake's answers, and the batches as they are read.

DESIGN.md "Locking a batch":

1. :func:`close_agenda` (HTTP, head) makes a ``locking`` batch of the district's ``on_agenda``
   cases and publishes ``batch.lock_requested``;
2. intake locks the cases and answers ``cases.locked`` (→ :func:`complete_batch`: the batch is
   numbered, ``approved``, and ``batch.approved`` carries the final snapshots) or
   ``cases.lock_refused`` (→ :func:`fail_batch`: the batch is ``failed``, its items deleted, the
   cases are back on the agenda as before).

Each step is one transaction of one consumer with the inbox, so a crash anywhere resumes from
the last committed step when the message is redelivered.  Like ``services``, functions flush
but never commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from services.approval.domain import (
    AgendaStatus,
    BatchStatus,
    Conflict,
    DomainError,
    NotFound,
    RuleBroken,
    batch_fiscal_year,
    batch_title,
    next_batch_number,
    refusal_message,
    total_of,
)
from services.approval.models import AgendaItem, Batch, BatchItem, Meeting
from services.approval.services import PRODUCER, SNAPSHOT_FIELDS, SYSTEM_ACTOR, Actor
from shared import audit
from shared.contracts import LockedCaseSnapshot
from shared.db import utcnow
from shared.messaging import publish
from shared.models import Job
from shared.money import money_str

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_SNAPSHOT_KEYS = tuple(LockedCaseSnapshot._declared_fields)


class SagaError(RuntimeError):
    """A saga message that contradicts approval's state (retried, then parked for an operator)."""


def _closing_in_progress() -> Conflict:
    return Conflict(
        "มีการจัดทำรายการอนุมัติของสำนักงานเขตนี้อยู่ระหว่างดำเนินการ กรุณารอให้เสร็จสิ้นก่อน",
        code="closing_in_progress",
    )


def close_agenda(
    session: Session,
    *,
    actor: Actor,
    meeting_date: dt.date | None,
    meeting_id: str | None,
    job: Job,
) -> Batch:
    """Close the district's agenda into a ``locking`` batch and ask intake to lock its cases.

    :raises Conflict: the agenda is empty, or another closing of the district is in progress.
    :raises NotFound: ``meeting_id`` is not a meeting of the caller's district.
    """
    district = actor.district_code
    if district is None:
        raise DomainError("ต้องเป็นผู้ใช้ของสำนักงานเขต", code="district_required")
    meeting_date = _meeting_date(session, district, meeting_date, meeting_id)
    # Lock the district's agenda rows first: a second closing waits here and then sees the
    # rows taken (PostgreSQL re-checks the WHERE clause), and the locking batch just committed.
    items = list(
        session.scalars(
            select(AgendaItem)
            .where(
                AgendaItem.district_code == district,
                AgendaItem.status == AgendaStatus.ON_AGENDA,
                AgendaItem.batch_id.is_(None),
            )
            .order_by(AgendaItem.registered_at, AgendaItem.case_no)
            .with_for_update()
        )
    )
    locking = session.scalar(
        select(Batch.id).where(Batch.district_code == district, Batch.status == BatchStatus.LOCKING)
    )
    if locking is not None:
        raise _closing_in_progress()
    if not items:
        raise Conflict("ไม่มีเคสในรายการที่ประชุม จึงไม่สามารถจัดทำรายการอนุมัติได้", code="agenda_empty")
    total = total_of(i.amount for i in items)
    batch = Batch(
        id=str(uuid.uuid4()),
        district_code=district,
        fiscal_year=batch_fiscal_year(meeting_date),
        meeting_date=meeting_date,
        meeting_id=meeting_id,
        status=BatchStatus.LOCKING,
        count=len(items),
        total_amount=total,
        job_id=job.id,
        created_by=actor.username,
        created_at=utcnow(),
    )
    try:
        # The partial unique index (one locking batch per district) and the unique case_id of
        # batch_items are the guards when two closings race past the checks above.
        with session.begin_nested():
            session.add(batch)
            session.flush()
            session.execute(
                BatchItem.__table__.insert(),
                [
                    {
                        "batch_id": batch.id,
                        "case_id": i.case_id,
                        "position": n,
                        "case_no": i.case_no,
                        "welfare_type_code": i.welfare_type_code,
                        "amount": i.amount,
                        "snapshot": None,
                    }
                    for n, i in enumerate(items, start=1)
                ],
            )
    except IntegrityError:
        raise _closing_in_progress() from None
    lock_items = [
        {"case_id": i.case_id, "welfare_type_code": i.welfare_type_code, "amount": money_str(i.amount)}
        for i in items
    ]
    session.execute(
        update(AgendaItem)
        .where(AgendaItem.case_id.in_([i["case_id"] for i in lock_items]))
        .values(batch_id=batch.id, version=AgendaItem.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    for item in items:  # the rows changed under the loaded objects
        session.expire(item)
    publish(
        session,
        "batch.lock_requested",
        {
            "batch_id": batch.id,
            "district_code": district,
            "fiscal_year": batch.fiscal_year,
            "items": lock_items,
        },
        producer=PRODUCER,
    )
    job.status = "running"
    job.progress = {
        "step": "lock_requested",
        "batch_id": batch.id,
        "count": batch.count,
        "total_amount": money_str(total),
    }
    audit.record(
        session,
        action="batch.close",
        object_type="batch",
        object_id=batch.id,
        actor=actor.username,
        role=actor.role,
        district_code=district,
        ip=actor.ip,
        fields=("status", "meeting_date", "count", "total_amount"),
        after={
            "status": batch.status,
            "meeting_date": meeting_date.isoformat(),
            "count": batch.count,
            "total_amount": money_str(total),
        },
    )
    return batch


def _meeting_date(
    session: Session, district: str, meeting_date: dt.date | None, meeting_id: str | None
) -> dt.date:
    if meeting_id is not None:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.district_code != district:
            raise NotFound("ไม่พบการประชุมที่ระบุ", code="meeting_not_found", field="meeting_id")
        if meeting_date is not None and meeting_date != meeting.meeting_date:
            raise RuleBroken(
                "วันที่ประชุมไม่ตรงกับวันที่ของการประชุมที่เลือก", code="meeting_date_mismatch", field="meeting_date"
            )
        return meeting.meeting_date
    if meeting_date is None:
        raise DomainError("กรุณาระบุวันที่ประชุม", code="meeting_date_required", field="meeting_date")
    return meeting_date


def _locked_batch(session: Session, batch_id: str) -> Batch:
    batch = session.scalars(select(Batch).where(Batch.id == batch_id).with_for_update()).first()
    if batch is None:
        raise SagaError(f"unknown approval batch {batch_id}")
    return batch


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return money_str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _snapshot_json(case: Mapping[str, Any]) -> dict[str, Any]:
    """A loaded LockedCaseSnapshot back in its JSON form (the contract's fields only).

    Done by hand because marshmallow costs ~0.15 ms per nested case; ``publish`` validates the
    result against the contract anyway.
    """
    return {name: _plain(case.get(name)) for name in _SNAPSHOT_KEYS}


def _store_final_snapshots(
    session: Session, batch_id: str, ordered: Sequence[Mapping[str, Any]], now: dt.datetime
) -> None:
    """Keep intake's final snapshots on the batch's items and mark the cases approved."""
    # Replacing the lock-time rows with one multi-row insert is far cheaper than 2,000 updates;
    # the unique case_id holds throughout (same transaction, rows of this batch only).
    session.execute(delete(BatchItem).where(BatchItem.batch_id == batch_id))
    session.execute(
        BatchItem.__table__.insert(),
        [
            {
                "batch_id": batch_id,
                "case_id": s["case_id"],
                "position": n,
                "case_no": s["case_no"],
                "welfare_type_code": s["welfare_type_code"],
                "amount": Decimal(s["amount"]),
                "snapshot": dict(s),
            }
            for n, s in enumerate(ordered, start=1)
        ],
    )
    columns = [getattr(AgendaItem, name) for name in SNAPSHOT_FIELDS]
    current = {
        row[0]: row[1:]
        for row in session.execute(
            select(AgendaItem.case_id, *columns).where(AgendaItem.batch_id == batch_id)
        ).all()
    }
    changed = []
    for s in ordered:
        final = tuple(Decimal(s[n]) if n == "amount" else s[n] for n in SNAPSHOT_FIELDS)
        if current.get(s["case_id"]) != final:
            changed.append({"case_id": s["case_id"], **dict(zip(SNAPSHOT_FIELDS, final, strict=True))})
    if changed:  # usually none: the agenda already holds what intake locked
        session.execute(update(AgendaItem), changed)
    session.execute(
        update(AgendaItem)
        .where(AgendaItem.batch_id == batch_id)
        .values(status=AgendaStatus.IN_BATCH, snapshot_at=now, updated_at=now, version=AgendaItem.version + 1)
        .execution_options(synchronize_session=False)
    )


def complete_batch(
    session: Session, *, batch_id: str, cases: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """Intake locked the batch's cases (``cases.locked``): approve, number and publish the batch.

    Idempotent: a batch already approved is left as it is (None is returned).

    :raises SagaError: unknown batch, a failed batch, or snapshots that are not the batch's cases.
    """
    batch = _locked_batch(session, batch_id)
    if batch.status in (BatchStatus.APPROVED, BatchStatus.SETTLED):
        log.info("batch %s is already approved; cases.locked ignored", batch_id)
        return None
    if batch.status != BatchStatus.LOCKING:
        raise SagaError(f"batch {batch_id} is {batch.status}; it cannot be approved")
    positions = dict(
        session.execute(
            select(BatchItem.case_id, BatchItem.position).where(BatchItem.batch_id == batch.id)
        ).all()
    )
    snapshots = [_snapshot_json(c) for c in cases]
    if {s["case_id"] for s in snapshots} != set(positions) or len(snapshots) != len(positions):
        raise SagaError(
            f"cases.locked for batch {batch_id} has {len(snapshots)} cases, the batch has {len(positions)}"
        )
    ordered = sorted(snapshots, key=lambda s: positions[s["case_id"]])
    now = utcnow()
    batch.number = next_batch_number(
        session.scalars(
            select(Batch.number).where(
                Batch.district_code == batch.district_code,
                Batch.fiscal_year == batch.fiscal_year,
                Batch.status.in_((BatchStatus.APPROVED, BatchStatus.SETTLED)),
            )
        )
    )
    batch.title = batch_title(batch.district_code, batch.number, batch.fiscal_year)
    batch.status = BatchStatus.APPROVED
    batch.approved_at = now
    batch.total_amount = total_of(Decimal(s["amount"]) for s in ordered)
    batch.count = len(ordered)
    _store_final_snapshots(session, batch.id, ordered, now)
    _finish_job(
        session,
        batch,
        status="done",
        progress={"step": "approved", "batch_id": batch.id},
        result={"batch_id": batch.id, "number": batch.number, "title": batch.title},
    )
    payload = {
        "batch_id": batch.id,
        "district_code": batch.district_code,
        "fiscal_year": batch.fiscal_year,
        "number": batch.number,
        "title": batch.title,
        "meeting_date": batch.meeting_date.isoformat(),
        "approved_at": now.isoformat(),
        "approved_by": batch.created_by,
        "total_amount": money_str(batch.total_amount),
        "cases": ordered,
    }
    publish(session, "batch.approved", payload, producer=PRODUCER)
    audit.record(
        session,
        action="batch.approve",
        object_type="batch",
        object_id=batch.id,
        actor=SYSTEM_ACTOR,
        district_code=batch.district_code,
        fields=("status", "number", "title", "count", "total_amount"),
        before={
            "status": BatchStatus.LOCKING,
            "number": None,
            "title": None,
            "count": len(positions),
            "total_amount": None,
        },
        after={
            "status": batch.status,
            "number": batch.number,
            "title": batch.title,
            "count": batch.count,
            "total_amount": money_str(batch.total_amount),
        },
    )
    return payload


def fail_batch(session: Session, *, batch_id: str, refusals: Sequence[Mapping[str, Any]]) -> Batch | None:
    """Intake refused the lock (``cases.lock_refused``): fail the batch, put the agenda back.

    Nothing was locked in intake, so the compensation is local: the batch's items are deleted
    (their cases may go into a later batch), the cases return to the agenda as before, the job
    fails with a message naming each case and why.  Idempotent (None when already failed).

    :raises SagaError: unknown batch, or a batch already approved.
    """
    batch = _locked_batch(session, batch_id)
    if batch.status == BatchStatus.FAILED:
        return None
    if batch.status != BatchStatus.LOCKING:
        raise SagaError(f"batch {batch_id} is {batch.status}; a lock refusal cannot fail it")
    case_nos = dict(
        session.execute(
            select(BatchItem.case_id, BatchItem.case_no).where(BatchItem.batch_id == batch.id)
        ).all()
    )
    detail = [
        {
            "case_id": str(r["case_id"]),
            "case_no": r.get("case_no") or case_nos.get(str(r["case_id"])),
            "reason": str(r["reason"]),
        }
        for r in refusals
    ]
    message = refusal_message(detail)
    now = utcnow()
    session.execute(delete(BatchItem).where(BatchItem.batch_id == batch.id))
    session.execute(
        update(AgendaItem)
        .where(AgendaItem.batch_id == batch.id)
        .values(batch_id=None, version=AgendaItem.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    batch.status, batch.failed_at, batch.failure = BatchStatus.FAILED, now, detail
    _finish_job(
        session,
        batch,
        status="failed",
        progress={"step": "lock_refused", "batch_id": batch.id},
        error={"message": message, "refusals": detail},
    )
    publish(
        session,
        "batch.failed",
        {"batch_id": batch.id, "district_code": batch.district_code, "reason": message[:2000]},
        producer=PRODUCER,
    )
    audit.record(
        session,
        action="batch.fail",
        object_type="batch",
        object_id=batch.id,
        actor=SYSTEM_ACTOR,
        district_code=batch.district_code,
        fields=("status", "failure"),
        before={"status": BatchStatus.LOCKING, "failure": None},
        after={"status": batch.status, "failure": detail},
    )
    return batch


def _finish_job(
    session: Session,
    batch: Batch,
    *,
    status: str,
    progress: dict[str, Any],
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    job = session.get(Job, batch.job_id) if batch.job_id else None
    if job is None:
        return
    job.status, job.progress, job.result, job.error = status, progress, result, error


def settle_batch(
    session: Session, *, approval_batch_id: str, settled_at: dt.datetime, settled_by: str
) -> Batch:
    """Payment settled every payee of the batch (``batch.settled``).

    :raises SagaError: unknown batch, or a batch that was never approved.
    """
    batch = _locked_batch(session, approval_batch_id)
    if batch.status == BatchStatus.SETTLED:
        return batch
    if batch.status != BatchStatus.APPROVED:
        raise SagaError(f"batch {approval_batch_id} is {batch.status}; it cannot be settled")
    batch.status, batch.settled_at = BatchStatus.SETTLED, settled_at
    audit.record(
        session,
        action="batch.settle",
        object_type="batch",
        object_id=batch.id,
        actor=settled_by,
        district_code=batch.district_code,
        fields=("status",),
        before={"status": BatchStatus.APPROVED},
        after={"status": BatchStatus.SETTLED},
    )
    return batch


# --- batches (read) ------------------------------------------------------------------------------
def list_batches(
    session: Session, *, district_filter: str | None, fiscal_year: int | None, page: int, per_page: int
) -> tuple[list[Batch], int]:
    """Approval batches, newest first."""
    stmt = select(Batch)
    if district_filter is not None:
        stmt = stmt.where(Batch.district_code == district_filter)
    if fiscal_year is not None:
        stmt = stmt.where(Batch.fiscal_year == fiscal_year)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Batch.created_at.desc(), Batch.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), int(total)


@dataclass
class BatchDetail:
    """A batch and its cases: ``{"item": BatchItem, "case": AgendaItem}`` in batch order."""

    batch: Batch
    items: list[dict[str, Any]]


def get_batch(session: Session, *, batch_id: str, district_filter: str | None) -> BatchDetail:
    """One batch with its cases (agenda row and, once approved, intake's final snapshot)."""
    batch = session.get(Batch, batch_id)
    if batch is None or (district_filter is not None and batch.district_code != district_filter):
        raise NotFound("ไม่พบรายการอนุมัตินี้", code="batch_not_found")
    rows = session.execute(
        select(BatchItem, AgendaItem)
        .join(AgendaItem, AgendaItem.case_id == BatchItem.case_id)
        .where(BatchItem.batch_id == batch.id)
        .order_by(BatchItem.position)
    ).all()
    return BatchDetail(batch=batch, items=[{"item": b, "case": a} for b, a in rows])
