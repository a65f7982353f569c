"""Importing the bank's result report (spec §8.2–8.3; reliability P5–P9, P11).

``request_result_import`` (HTTP) checks the type and size, stores the raw file, answers a
duplicate at once, and otherwise asks the payment worker — through the outbox — to run
``run_result_import``.  That runs in the worker's inbox transaction: the file is parsed and
checked completely first (a rejected file posts nothing), then every line is matched and posted,
and the import is finished, all in one commit.  A SIGKILL before the commit leaves nothing; the
redelivered message does it all again, once.

Matching (§8.3): ``ref2`` (unique across all files); when a line has no ref2, the running
number within the file its ``batch_id`` column names (or the only unresolved file of the batch);
when it has neither, a unique (bank, account, amount) among the batch's unresolved transfers.
A ref2 we never made is an unknown reference and is not guessed at.  After matching, bank,
account (last 10 digits) and amount are compared with what was sent: any difference, or a
status that is not clearly success or failure, puts the line in review, never "paid".

Reversals (P10): a line whose status is a reversal word (``reports.REVERSED``) moves a *paid*
transfer and its payee to ``reversed`` (with the reason, the bank's date and the import); a
reversal of a transfer that was never paid is an ``invalid_reversal`` exception for finance and
changes nothing; a second reversal is a duplicate.  Lines of one report are applied in order, so
a success followed by its reversal in the same report ends reversed.

Invariant (P8): ``applied + reversed + review + duplicates + contradictions + invalid_reversals
+ unknown + ambiguous`` equals the number of lines in the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.payment import domain, reports
from services.payment.domain import LineState, Outcome
from services.payment.models import (
    FileLine,
    PaymentAlert,
    PaymentFile,
    PayoutBatch,
    PayoutLine,
    ResultImport,
    ResultLine,
)
from services.payment.services.common import (
    Actor,
    NotFound,
    RuleBroken,
    baht,
    bulk_insert,
    get_batch,
    mask_account,
    publish_event,
    publish_many,
    record_audit,
)
from shared.db import utcnow
from shared.models import Job
from shared.money import from_satang, money_str

if TYPE_CHECKING:
    from services.payment.config import PaymentSettings

MAX_LISTED = 500
UNRESOLVED = ("pending", "review")


def safe_filename(name: str | None) -> str:
    """The user's file name reduced to something harmless to store and show (never used as a path)."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\- ()\u0e00-\u0e7f]", "_", base)[:200].strip()
    return cleaned or "result"


def request_result_import(
    session: Session,
    *,
    batch_id: int,
    filename: str | None,
    data: bytes,
    actor: Actor,
    job: Job,
    settings: PaymentSettings,
) -> ResultImport:
    """Accept an uploaded result report for a batch; a duplicate is answered without any work.

    :raises NotFound: another district's batch.
    :raises reports.ReportError: empty (400), too large or a zip bomb (413), wrong type (415).
    :raises RuleBroken: the file is one of our own payment files, not the bank's report.
    """
    batch = get_batch(session, batch_id, actor, lock=True)
    kind = reports.sniff(data, filename, settings.limits)
    sha = hashlib.sha256(data).hexdigest()
    own = session.scalars(
        select(PaymentFile.id).where((PaymentFile.txt_sha256 == sha) | (PaymentFile.xlsx_sha256 == sha))
    ).first()
    if own is not None:
        raise RuleBroken(
            "ไฟล์นี้คือไฟล์โอนเงินที่ระบบจัดทำให้ (ส่งธนาคาร) ไม่ใช่รายงานผลการโอนเงินจากธนาคาร", "own_payment_file"
        )
    content = reports.content_key(data, kind)
    original = session.scalars(
        select(ResultImport)
        .where(
            ResultImport.batch_id == batch.id,
            (ResultImport.dedupe_sha256 == sha) | (ResultImport.dedupe_content == content),
        )
        .order_by(ResultImport.id)
    ).first()
    imp = ResultImport(
        batch_id=batch.id,
        district_code=batch.district_code,
        job_id=job.id,
        filename=safe_filename(filename),
        kind=kind,
        size=len(data),
        raw=data,
        sha256=sha,
        content_hash=content,
        status="queued",
        created_by=actor.username,
    )
    session.add(imp)
    if original is not None:
        imp.status = "done"
        imp.duplicate_of = original.id
        imp.shape = original.shape
        imp.counts = {"lines": 0}
        imp.finished_at = utcnow()
        session.flush()
        job.status = "done"
        job.result = {"import_id": imp.id, "duplicate_of": original.id}
        record_audit(
            session,
            actor,
            action="result_import.duplicate",
            object_type="result_import",
            object_id=imp.id,
            district_code=batch.district_code,
            after={"duplicate_of": original.id, "sha256": sha},
        )
        return imp
    imp.dedupe_sha256, imp.dedupe_content = sha, content
    session.flush()
    job.result = {"import_id": imp.id}
    record_audit(
        session,
        actor,
        action="result_import.upload",
        object_type="result_import",
        object_id=imp.id,
        district_code=batch.district_code,
        after={"filename": imp.filename, "size": imp.size, "sha256": sha, "kind": kind},
    )
    publish_event(
        session,
        "payment.result_import_requested",
        {"import_id": imp.id, "batch_id": batch.id, "district_code": batch.district_code},
    )
    return imp


def get_import(session: Session, import_id: int, actor: Actor) -> ResultImport:
    """An import the actor may see."""
    imp = session.get(ResultImport, import_id)
    if imp is None or not (actor.is_city_wide or actor.district_code == imp.district_code):
        raise NotFound("ไม่พบการนำเข้าผลการโอนเงินที่ต้องการ")
    return imp


# --- the worker side ---------------------------------------------------------------------------------
@dataclass(slots=True)
class _Transfer:
    """A file line as the import sees it (plain values: an import may touch 100,000 of them)."""

    id: int
    file_id: int
    line_id: int
    running_no: int
    ref2: str
    amount_satang: int
    bank_code: str
    account_no: str
    recv_account: str
    outcome: str
    new: tuple[str, str | None, str | None] | None = None  # (outcome, raw status, reason) once changed
    reversal: tuple[str | None, str | None] | None = None  # (reason, bank's date) once reversed


@dataclass(slots=True)
class _Payee:
    """A payout line as the import sees it."""

    id: int
    case_id: str
    case_no: str
    district_code: str
    amount_satang: int
    state: str
    current_file_line_id: int | None
    new: tuple[str, str] | None = None  # (state, last outcome) once changed
    reason: str = ""


class _Batch:
    """The transfers of one batch, indexed for matching; outcomes are applied to these objects."""

    def __init__(self, session: Session, batch: PayoutBatch) -> None:
        self.batch = batch
        self.files = {
            f.id: f for f in session.scalars(select(PaymentFile).where(PaymentFile.batch_id == batch.id))
        }
        self.payees = {
            row.id: _Payee(*row)
            for row in session.execute(
                select(
                    PayoutLine.id,
                    PayoutLine.case_id,
                    PayoutLine.case_no,
                    PayoutLine.district_code,
                    PayoutLine.amount_satang,
                    PayoutLine.state,
                    PayoutLine.current_file_line_id,
                ).where(PayoutLine.batch_id == batch.id)
            )
        }
        transfers = [
            _Transfer(*row)
            for row in session.execute(
                select(
                    FileLine.id,
                    FileLine.file_id,
                    FileLine.line_id,
                    FileLine.running_no,
                    FileLine.ref2,
                    FileLine.amount_satang,
                    FileLine.bank_code,
                    FileLine.account_no,
                    FileLine.recv_account,
                    FileLine.outcome,
                )
                .join(PaymentFile, PaymentFile.id == FileLine.file_id)
                .where(PaymentFile.batch_id == batch.id)
            )
        ]
        self.transfers = transfers
        self.by_ref2 = {t.ref2: t for t in transfers}
        self.by_running = {(t.file_id, t.running_no): t for t in transfers}
        self.by_amount: dict[int, list[_Transfer]] = defaultdict(list)
        for t in transfers:
            self.by_amount[t.amount_satang].append(t)
        unresolved = {
            t.file_id
            for t in transfers
            if t.outcome in UNRESOLVED and self.files[t.file_id].status == "active"
        }
        self.only_unresolved_file = unresolved.pop() if len(unresolved) == 1 else None

    def file_for(self, file_ref: str | None) -> int | None:
        """The file a report line's ``batch_id`` column names, else the batch's only unresolved file."""
        if file_ref:
            match = re.search(r"F(\d+)", file_ref) or re.fullmatch(r"\s*(\d+)\s*", file_ref)
            if match and int(match.group(1)) in self.files:
                return int(match.group(1))
        return self.only_unresolved_file

    def match(self, record: reports.ResultRecord) -> tuple[_Transfer | None, str | None, Outcome | None]:
        """(transfer, matched_by, failure outcome) for one report line."""
        if record.ref2:
            t = self.by_ref2.get(record.ref2)
            return (t, "ref2", None) if t is not None else (None, None, Outcome.UNKNOWN_REFERENCE)
        if record.running_no is not None:
            file_id = self.file_for(record.file_ref)
            if file_id is not None:
                t = self.by_running.get((file_id, record.running_no))
                if t is not None:
                    return t, "running_no", None
        candidates = [
            t
            for t in self.by_amount.get(record.satang, ())
            if t.outcome in UNRESOLVED
            and (record.bank_code is None or record.bank_code == t.bank_code)
            and domain.accounts_match(record.account_no or "", t.account_no, t.recv_account)
        ]
        if len(candidates) == 1:
            return candidates[0], "account_amount", None
        return None, None, Outcome.AMBIGUOUS if candidates else Outcome.UNKNOWN_REFERENCE


def _mismatch(record: reports.ResultRecord, t: _Transfer) -> str | None:
    problems = []
    if record.bank_code and record.bank_code != t.bank_code:
        problems.append(f"รหัสธนาคารไม่ตรง (ส่ง {t.bank_code} รายงาน {record.bank_code})")
    if record.account_no and not domain.accounts_match(record.account_no, t.account_no, t.recv_account):
        problems.append(
            f"เลขที่บัญชีไม่ตรง (ส่ง {mask_account(t.account_no)} รายงาน {mask_account(record.account_no)})"
        )
    if record.satang != t.amount_satang:
        problems.append(
            f"จำนวนเงินไม่ตรง (ส่ง {money_str(from_satang(t.amount_satang))} รายงาน {money_str(record.amount)})"
        )
    return "; ".join(problems) or None


def _reason(record: reports.ResultRecord) -> str:
    parts = [p for p in (record.reason_code, record.reason_text) if p]
    return " ".join(parts) or ("โอนสำเร็จ" if record.status == reports.SUCCESS else record.raw_status or "")


_ALERT_KIND = {Outcome.REVERSED: "reversal", Outcome.INVALID_REVERSAL: "invalid_reversal"}


def _reject(session: Session, imp: ResultImport, job: Job | None, exc: reports.ReportError) -> ResultImport:
    imp.status = "rejected"
    imp.error_message = exc.message
    imp.errors = exc.errors or [{"line": None, "message": exc.message}]
    imp.dedupe_sha256 = imp.dedupe_content = None  # a rejected file may be uploaded again once fixed
    imp.finished_at = utcnow()
    if job is not None:
        job.status = "failed"
        job.error = {"code": exc.code, "message": exc.message, "errors": imp.errors[:MAX_LISTED]}
    record_audit(
        session,
        Actor("system:payment-worker", "system"),
        action="result_import.reject",
        object_type="result_import",
        object_id=imp.id,
        district_code=imp.district_code,
        after={"code": exc.code, "errors": len(imp.errors)},
    )
    return imp


def _update_grouped(session: Session, table: Any, changes: dict[int, dict[str, Any]], **common: Any) -> int:
    """``UPDATE table SET … WHERE id IN (…)`` once per distinct set of values (chunked).

    A report's lines share a handful of outcomes and reason texts, so 100,000 changes become a
    few statements instead of 100,000 (tests/perf/bench_payment.py).
    """
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for row_id, values in changes.items():
        groups[tuple(sorted(values.items()))].append(row_id)
    done = 0
    for values, ids in groups.items():
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            result = session.execute(
                table.update().where(table.c.id.in_(chunk)).values(**dict(values), **common)
            )
            done += result.rowcount
    return done


def run_result_import(session: Session, *, import_id: int, settings: PaymentSettings) -> ResultImport | None:
    """Parse, check, match and post one uploaded report, all in the caller's transaction.

    Idempotent: an import that is no longer queued is left as it is.
    """
    imp = session.get(ResultImport, import_id)
    if imp is None:
        return None
    batch = session.scalars(select(PayoutBatch).where(PayoutBatch.id == imp.batch_id).with_for_update()).one()
    session.refresh(imp)
    if imp.status != "queued":
        return imp
    job = session.get(Job, imp.job_id)
    try:
        parsed = reports.parse_report(imp.raw, imp.filename, settings.limits)
    except reports.ReportError as exc:
        return _reject(session, imp, job, exc)
    imp.shape = parsed.shape
    state = _Batch(session, batch)
    now = utcnow()
    counts: Counter[str] = Counter()
    unmatched: list[dict[str, Any]] = []
    result_rows: list[dict[str, Any]] = []
    alerts: list[PaymentAlert] = []
    paid: list[tuple[_Payee, _Transfer]] = []
    failed: list[_Payee] = []
    reversed_: list[_Payee] = []
    reversal_events: dict[int, dict[str, Any]] = {}  # payee id -> payout.reversed payload
    seen: set[int] = set()
    reported: dict[int, Counter[str]] = defaultdict(Counter)
    for record in parsed.records:
        t, matched_by, failure = state.match(record)
        note = None
        if t is None:
            assert failure is not None
            outcome = failure
            if len(unmatched) < MAX_LISTED:
                unmatched.append(
                    {
                        "line": record.line,
                        "ref2": record.ref2,
                        "running_no": record.running_no,
                        "bank_code": record.bank_code,
                        "account_no": mask_account(record.account_no),
                        "amount": money_str(record.amount),
                        "status": record.status,
                        "reason": "ambiguous" if failure is Outcome.AMBIGUOUS else "unknown_reference",
                    }
                )
        else:
            seen.add(t.id)
            if record.status in (reports.SUCCESS, reports.FAILED):
                reported[t.file_id][record.status] += record.satang
                reported[t.file_id]["count"] += 1
            payee = state.payees[t.line_id]
            mismatch = _mismatch(record, t)
            decision = domain.decide(
                status=record.status,
                file_line_outcome=t.outcome,
                line_state=payee.state,
                is_current=payee.current_file_line_id == t.id,
                mismatch=mismatch,
            )
            outcome = decision.outcome
            note = mismatch or (
                f"สถานะ {record.raw_status!r} ไม่ชัดเจน" if record.status == reports.UNKNOWN else None
            )
            reason = _reason(record)
            if decision.file_line_outcome == "reversed":
                t.outcome = "reversed"
                t.reversal = ((reason or "")[:500] or None, (record.value_date or "")[:40] or None)
            elif decision.file_line_outcome:
                t.outcome = decision.file_line_outcome
                t.new = (
                    t.outcome,
                    (record.raw_status or "")[:100] or None,
                    (reason or note or "")[:500] or None,
                )
            if decision.line_state == LineState.PAID:
                payee.state = LineState.PAID
                payee.new = (payee.state, "โอนสำเร็จ")
                paid.append((payee, t))
            elif decision.line_state == LineState.FAILED:
                payee.state = LineState.FAILED
                payee.new = (payee.state, f"โอนไม่สำเร็จ: {reason}"[:500])
                payee.reason = reason
                failed.append(payee)
            elif decision.line_state == LineState.REVIEW:
                payee.state = LineState.REVIEW
                payee.new = (payee.state, f"รอตรวจสอบ: {note}"[:500])
            elif decision.line_state == LineState.REVERSED:
                payee.state = LineState.REVERSED
                when = f" (วันที่ตามธนาคาร {record.value_date})" if record.value_date else ""
                payee.new = (payee.state, f"ธนาคารโอนคืน: {reason}{when}"[:500])
                reversed_.append(payee)
                reversal_events[payee.id] = {
                    "case_id": payee.case_id,
                    "district_code": payee.district_code,
                    "approval_batch_id": batch.approval_batch_id,
                    "amount": baht(t.amount_satang),
                    "ref2": t.ref2,
                    "reason": (reason or "")[:500] or "ธนาคารโอนคืน",
                    "reason_code": (record.reason_code or "")[:100] or None,
                    "value_date": (record.value_date or "")[:40] or None,
                    "at": now.isoformat(),
                }
            if decision.alert:
                alerts.append(
                    PaymentAlert(
                        batch_id=batch.id,
                        district_code=batch.district_code,
                        line_id=payee.id,
                        import_id=imp.id,
                        kind=_ALERT_KIND.get(outcome, "contradiction"),
                        message=f"{payee.case_no} ({t.ref2}): {decision.alert}",
                    )
                )
        counts[outcome.value] += 1
        result_rows.append(
            {
                "import_id": imp.id,
                "line_no": record.line,
                "file_line_id": t.id if t is not None else None,
                "ref2": (record.ref2 or "")[:64] or None,
                "running_no": record.running_no,
                "bank_code": record.bank_code,
                "account_no": (record.account_no or "")[:20] or None,
                "amount_satang": record.satang,
                "status": record.status,
                "raw_status": (record.raw_status or "")[:100] or None,
                "reason_code": (record.reason_code or "")[:100] or None,
                "reason_text": (record.reason_text or "")[:500] or None,
                "value_date": (record.value_date or "")[:40] or None,
                "bank_txn_ref": (record.bank_txn_ref or "")[:100] or None,
                "matched_by": matched_by,
                "outcome": outcome.value,
                "note": (note or "")[:500] or None,
            }
        )
    reversed_payloads = [
        p for payee_id, p in reversal_events.items() if state.payees[payee_id].state == LineState.REVERSED
    ]
    _post(session, imp, batch, state, now, result_rows, alerts, paid, failed, reversed_payloads)
    _finish(
        session,
        imp,
        job,
        state,
        len(parsed.records),
        counts,
        (
            sum(1 for payee, _ in paid if payee.state == LineState.PAID),
            len(failed),
            len(reversed_),
        ),
        unmatched,
        seen,
        reported,
    )
    return imp


def _post(
    session: Session,
    imp: ResultImport,
    batch: PayoutBatch,
    state: _Batch,
    now: dt.datetime,
    result_rows: list[dict[str, Any]],
    alerts: list[PaymentAlert],
    paid: list[tuple[_Payee, _Transfer]],
    failed: list[_Payee],
    reversed_payloads: list[dict[str, Any]],
) -> None:
    """Write every effect of the import in the caller's transaction (set-based: see _update_grouped)."""
    transfers = {
        t.id: {"outcome": t.new[0], "raw_status": t.new[1], "reason": t.new[2]}
        for t in state.transfers
        if t.new
    }
    # Outcomes first: the partial unique index refuses a second paid transfer of a payee here.
    _update_grouped(session, FileLine.__table__, transfers, outcome_at=now, outcome_import_id=imp.id)
    # Reversals after them (a transfer paid earlier in this same report is reversed here); the
    # outcome fields keep the original success.
    reversals = {
        t.id: {"reversal_reason": t.reversal[0], "reversal_value_date": t.reversal[1]}
        for t in state.transfers
        if t.reversal
    }
    _update_grouped(
        session,
        FileLine.__table__,
        reversals,
        outcome="reversed",
        reversed_at=now,
        reversal_import_id=imp.id,
    )
    # A payee paid and then reversed by this same report ends reversed: never marked paid.
    paid = [(payee, t) for payee, t in paid if payee.state == LineState.PAID]
    table = PayoutLine.__table__
    paid_ids = [payee.id for payee, _ in paid]
    ref2 = select(FileLine.ref2).where(FileLine.id == table.c.current_file_line_id).scalar_subquery()
    for start in range(0, len(paid_ids), 5000):
        chunk = paid_ids[start : start + 5000]
        done = session.execute(
            table.update()
            .where(table.c.id.in_(chunk), table.c.paid_at.is_(None))
            .values(
                state=LineState.PAID, paid_at=now, paid_ref2=ref2, last_outcome="โอนสำเร็จ", updated_at=now
            )
        ).rowcount
        if done != len(chunk):
            raise RuntimeError("a payee would be paid twice; the import is rolled back")
    others = {
        p.id: {"state": p.new[0], "last_outcome": p.new[1]}
        | ({"paid_at": None, "paid_ref2": None} if p.new[0] == LineState.REVERSED else {})
        for p in state.payees.values()
        if p.new and p.new[0] != LineState.PAID
    }
    _update_grouped(session, table, others, updated_at=now)
    bulk_insert(session, ResultLine.__table__, result_rows)
    session.add_all(alerts)
    approval_batch_id = batch.approval_batch_id
    publish_many(
        session,
        "payout.paid",
        [
            {
                "case_id": payee.case_id,
                "district_code": payee.district_code,
                "approval_batch_id": approval_batch_id,
                "amount": baht(payee.amount_satang),
                "paid_at": now.isoformat(),
                "ref2": t.ref2,
            }
            for payee, t in paid
        ],
    )
    publish_many(
        session,
        "payout.failed",
        [
            {
                "case_id": payee.case_id,
                "district_code": payee.district_code,
                "approval_batch_id": approval_batch_id,
                "reason": payee.reason or "โอนไม่สำเร็จ",
                "final": False,
                "at": now.isoformat(),
            }
            for payee in failed
        ],
    )
    # A payee whose success this same report also reversed gets no payout.paid, but does get
    # payout.reversed: the money went out and came back, and the case waits for new bank details.
    publish_many(session, "payout.reversed", reversed_payloads)


def _finish(
    session: Session,
    imp: ResultImport,
    job: Job | None,
    state: _Batch,
    lines_in_file: int,
    counts: Counter[str],
    applied: tuple[int, int, int],
    unmatched: list[dict[str, Any]],
    seen: set[int],
    reported: dict[int, Counter[str]],
) -> None:
    assert sum(counts.values()) == lines_in_file, "every line of the report has exactly one outcome"
    summary = {
        "lines": lines_in_file,
        "matched": lines_in_file - counts[Outcome.UNKNOWN_REFERENCE] - counts[Outcome.AMBIGUOUS],
        "applied": counts[Outcome.APPLIED],
        "paid": applied[0],
        "failed": applied[1],
        "reversed": applied[2],
        "review": counts[Outcome.REVIEW],
        "duplicates": counts[Outcome.DUPLICATE],
        "contradictions": counts[Outcome.CONTRADICTION],
        "invalid_reversals": counts[Outcome.INVALID_REVERSAL],
        "unknown": counts[Outcome.UNKNOWN_REFERENCE],
        "ambiguous": counts[Outcome.AMBIGUOUS],
    }
    touched = {t.file_id for t in state.transfers if t.id in seen}
    not_in_report: list[dict[str, Any]] = []
    for t in state.transfers:
        if (
            t.file_id in touched
            and t.id not in seen
            and t.outcome in UNRESOLVED
            and len(not_in_report) < MAX_LISTED
        ):
            not_in_report.append(
                {
                    "ref2": t.ref2,
                    "case_no": state.payees[t.line_id].case_no,
                    "amount": money_str(from_satang(t.amount_satang)),
                }
            )
    reconciliation: list[dict[str, Any]] = []
    for file_id in sorted(touched):
        pf = state.files[file_id]
        got = reported[file_id]
        reconciliation.append(
            {
                "file_id": file_id,
                "group": pf.bank_group,
                "file_lines": pf.line_count,
                "file_total": money_str(pf.total_amount),
                "reported_count": got["count"],
                "reported_success": money_str(from_satang(got[reports.SUCCESS])),
                "reported_failed": money_str(from_satang(got[reports.FAILED])),
                "reconciled": got["count"] == pf.line_count
                and got[reports.SUCCESS] + got[reports.FAILED] == pf.total_satang,
            }
        )
    imp.status = "done"
    imp.counts = summary
    imp.unmatched = unmatched
    imp.not_in_report = not_in_report
    imp.reconciliation = reconciliation
    imp.errors = []
    imp.finished_at = utcnow()
    if job is not None:
        job.status = "done"
        job.result = {"import_id": imp.id, **summary}
    record_audit(
        session,
        Actor("system:payment-worker", "system"),
        action="result_import.apply",
        object_type="result_import",
        object_id=imp.id,
        district_code=imp.district_code,
        after=summary,
    )


def import_lines(session: Session, imp: ResultImport, *, limit: int = 1000) -> Sequence[ResultLine]:
    """The first lines of an import (for the detail view)."""
    return session.scalars(
        select(ResultLine).where(ResultLine.import_id == imp.id).order_by(ResultLine.line_no).limit(limit)
    ).all()
