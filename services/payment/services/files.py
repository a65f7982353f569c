"""KTB Corporate Online files: made for the outstanding lines of a group, downloaded, cancelled."""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.payment import domain, ktb
from services.payment.domain import LineState
from services.payment.models import FileDownload, FileLine, PaymentFile, PayoutBatch, PayoutLine
from services.payment.services.common import (
    Actor,
    Conflict,
    RuleBroken,
    ensure_open,
    get_batch,
    get_file,
    record_audit,
)
from shared.banks import KTB_CODE
from shared.db import utcnow
from shared.money import money_str

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

    from services.payment.config import PaymentSettings

log = logging.getLogger(__name__)
MAX_FILE_ID = 999_999_999  # keeps ref2 "WF<9 digits>-<6 digits>" within 18 characters


# --- files -----------------------------------------------------------------------------------------
def _group_filter(group: str) -> Any:
    return PayoutLine.bank_code == KTB_CODE if group == "ktb" else PayoutLine.bank_code != KTB_CODE


def ref2_for(file_id: int, running_no: int) -> str:
    """The transfer reference: unique across every file ever made (file id + running number)."""
    if not 0 < file_id <= MAX_FILE_ID:
        raise ValueError("file id out of range for ref2")
    return f"WF{file_id:06d}-{running_no:06d}"


def _latest_unresolved_file(session: Session, batch_id: int, group: str) -> PaymentFile | None:
    unresolved = (
        select(FileLine.id)
        .where(FileLine.file_id == PaymentFile.id, FileLine.outcome.in_(("pending", "review")))
        .exists()
    )
    return session.scalars(
        select(PaymentFile)
        .where(
            PaymentFile.batch_id == batch_id,
            PaymentFile.bank_group == group,
            PaymentFile.status == "active",
            unresolved,
        )
        .order_by(PaymentFile.id.desc())
    ).first()


def get_or_make_file(
    session: Session,
    *,
    batch_id: int,
    group: str,
    actor: Actor,
    settings: PaymentSettings,
    effective_date: dt.date | None = None,
) -> tuple[PaymentFile, bool]:
    """The file to download for a group: a new one for the outstanding lines that are in no
    unresolved file, else the latest unresolved file again (same ref2s, same bytes).

    :raises NotFound: another district's batch.
    :raises Conflict: settled batch; nothing outstanding; a different effective date asked
        for a file that exists already.
    :raises RuleBroken: an effective date in the past, or lines that break §9 (every problem
        is listed; no file is made).
    """
    batch = get_batch(session, batch_id, actor, lock=True)
    ensure_open(batch)
    if effective_date is not None and effective_date < settings.today():
        raise RuleBroken(
            f"วันที่มีผล (effective date) {effective_date.isoformat()}"
            f" ต้องไม่ก่อนวันนี้ ({settings.today().isoformat()})",
            "effective_date_in_past",
        )
    # Plain rows through Core (not the ORM's row loading): a file may hold 100,000 lines
    # (tests/perf/bench_payment.py).  The session's own connection: same transaction, same lock.
    candidates = (
        session.connection()
        .execute(
            select(  # _make_file unpacks the rows in this order
                PayoutLine.id,
                PayoutLine.case_no,
                PayoutLine.bank_code,
                PayoutLine.branch_code,
                PayoutLine.account_no,
                PayoutLine.account_name,
                PayoutLine.amount_satang,
                PayoutLine.email,
                PayoutLine.phone,
            )
            .where(
                PayoutLine.batch_id == batch.id,
                PayoutLine.state.in_(tuple(domain.SENDABLE_STATES)),
                _group_filter(group),
            )
            .order_by(PayoutLine.id)
            .limit(settings.file.max_lines_per_file)
        )
        .all()
    )
    if candidates:
        return _make_file(session, batch, group, candidates, actor, settings, effective_date), True
    existing = _latest_unresolved_file(session, batch.id, group)
    if existing is None:
        label = "ธนาคารกรุงไทย" if group == "ktb" else "ธนาคารอื่น"
        raise Conflict(f"ไม่มีรายการค้างโอนของกลุ่ม{label}ในชุดนี้", "nothing_outstanding")
    if effective_date is not None and effective_date != existing.effective_date:
        raise Conflict(
            f"ไฟล์ของรายการเหล่านี้จัดทำแล้วด้วยวันที่มีผล {existing.effective_date.isoformat()}"
            " หากต้องการเปลี่ยนวันที่ ให้ยกเลิกไฟล์เดิมก่อน",
            "file_exists",
        )
    return existing, False


def _make_file(
    session: Session,
    batch: PayoutBatch,
    group: str,
    lines: Sequence[Row[Any]],
    actor: Actor,
    settings: PaymentSettings,
    effective_date: dt.date | None,
) -> PaymentFile:
    fs = settings.file
    effective = effective_date or settings.default_effective_date()
    now = utcnow()
    pf = PaymentFile(
        batch_id=batch.id,
        bank_group=group,
        status="active",
        effective_date=effective,
        service_type=fs.service_type(group),
        company_id=fs.company_id,
        debit_account=fs.debit_account,
        sender_name=fs.sender_name,
        placeholder_config=settings.uses_placeholders,
        line_count=0,
        total_satang=0,
        txt_name="",
        txt_content=b"",
        txt_sha256="",
        xlsx_content=b"",
        xlsx_sha256="",
        created_by=actor.username,
        created_at=now,
    )
    session.add(pf)
    session.flush()  # the file id goes into every ref2
    file_id = pf.id
    # The database records the transfers (COPY with its FK and index checks, then marking the
    # lines sent) while this thread checks the next lines and renders the two files, so the work
    # of the database server and of Python overlap (tests/perf/bench_payment.py).  Checked lines
    # go to the recording thread part by part; only that thread uses the connection until it is
    # joined, and this thread touches neither the session nor the connection meanwhile.  Any
    # problem stops the recording and refuses the request, which rolls everything back.
    if not 0 < file_id <= MAX_FILE_ID:
        raise ValueError("file id out of range for ref2")
    amounts: dict[int, Decimal] = {}  # a batch has few distinct amounts; Decimal per amount once
    recorder = _Recorder(session.connection(), file_id, now)
    recorder.start()
    try:
        preparer = ktb.Preparer(group=group, settings=fs)
        prepared: list[ktb.PreparedLine] = []
        problems: list[ktb.LineProblem] = []
        for start in range(0, len(lines), _PART):
            part = lines[start : start + _PART]
            good, bad = preparer.feed(
                [
                    ktb.TransferLine(
                        line_id,
                        case_no,
                        bank_code,
                        branch_code,
                        account_no,
                        account_name,
                        amounts.get(satang) or amounts.setdefault(satang, Decimal(satang).scaleb(-2)),
                        f"WF{file_id:06d}-{running_no:06d}",  # ref2_for, inlined
                        email,
                        phone,
                    )
                    # rows unpacked as tuples: much cheaper than attribute access by name
                    for running_no, (
                        line_id,
                        case_no,
                        bank_code,
                        branch_code,
                        account_no,
                        account_name,
                        satang,
                        email,
                        phone,
                    ) in enumerate(part, start=start + 1)
                ]
            )
            prepared += good
            problems += bad
            if not problems:
                branches = {row[0]: row[3] for row in part if row[3] is not None}  # id: branch_code
                recorder.put([_transfer_row(file_id, p, branches.get(p.key)) for p in good])  # type: ignore[call-overload]
        problems += ktb.file_problems(prepared, fs) if not problems else []
        if problems:
            raise _rejected(problems)
        recorder.finish()
        built = ktb.render_files(prepared, group=group, settings=fs, effective_date=effective, created_at=now)
    except ktb.FileRejected as exc:
        recorder.abort()  # the request is refused and rolled back either way
        raise _rejected(exc.problems) from None
    except BaseException:
        recorder.abort()
        raise
    recorder.join()
    if recorder.marked != len(prepared):  # the batch row lock makes this impossible; refuse rather than guess
        raise Conflict("รายการในชุดนี้เปลี่ยนไประหว่างจัดทำไฟล์ กรุณาลองใหม่", "concurrent_change")
    pf.line_count = built.line_count
    pf.total_satang = built.total_satang
    pf.txt_content, pf.txt_sha256 = built.txt, built.txt_sha256
    pf.xlsx_content, pf.xlsx_sha256 = built.xlsx, built.xlsx_sha256
    pf.txt_name = settings.file_name(
        group=group, batch_id=batch.id, file_id=file_id, date=effective, ext="txt"
    )
    record_audit(
        session,
        actor,
        action="payment_file.create",
        object_type="payment_file",
        object_id=pf.id,
        district_code=batch.district_code,
        after={
            "batch_id": batch.id,
            "group": group,
            "effective_date": effective.isoformat(),
            "line_count": pf.line_count,
            "total": money_str(pf.total_amount),
            "txt_sha256": pf.txt_sha256,
            "xlsx_sha256": pf.xlsx_sha256,
            "placeholder_config": pf.placeholder_config,
        },
    )
    if settings.uses_placeholders:
        log.warning("payment file %s was made with placeholder KTB settings", pf.id)
    return pf


def _rejected(problems: Sequence[ktb.LineProblem]) -> RuleBroken:
    return RuleBroken(
        f"จัดทำไฟล์ไม่ได้: มี {len(problems)} รายการที่ไม่ผ่านการตรวจสอบ กรุณาแก้ไขข้อมูลบัญชีหรือปิดรายการก่อน",
        "lines_invalid",
        [p.to_dict() for p in problems],
    )


_TRANSFER_COLUMNS = (
    "file_id",
    "line_id",
    "running_no",
    "ref2",
    "amount_satang",
    "bank_code",
    "branch_code",
    "account_no",
    "recv_branch",
    "recv_account",
    "receiver_name",
    "outcome",
)


_PART = 10_000  # lines checked and handed to the recording thread at a time


def _transfer_row(file_id: int, p: ktb.PreparedLine, branch_code: str | None) -> tuple[Any, ...]:
    return (
        file_id,
        p.key,
        p.running_no,
        p.ref2,
        p.satang,
        p.bank_code,
        branch_code,
        p.account_no,
        p.recv_branch,
        p.recv_acct,
        p.receiver_name,
        "pending",
    )


# Constant text (column names of this module), so no injection is possible.
_SQLITE_INSERT = (
    f"INSERT INTO file_lines ({', '.join(_TRANSFER_COLUMNS)})"  # noqa: S608
    f" VALUES ({', '.join('?' * len(_TRANSFER_COLUMNS))})"
)


class _Aborted(Exception):
    """The request failed: the recording stops (and the transaction is rolled back)."""


class _Recorder(threading.Thread):
    """Records a new file's transfers as they come and marks its lines sent, on the caller's connection.

    ``put`` hands over rows, ``finish`` says there are no more, ``abort`` gives up (and waits).
    ``join`` re-raises what went wrong in the thread (an IntegrityError rolls the whole request
    back, as if the statements had run in the caller's thread).
    """

    _END = object()

    def __init__(self, connection: Connection, file_id: int, now: dt.datetime) -> None:
        super().__init__(name=f"payment-file-{file_id}", daemon=True)
        self.connection, self.file_id, self.now = connection, file_id, now
        self.parts: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.marked = -1
        self.error: BaseException | None = None

    def put(self, rows: list[tuple[Any, ...]]) -> None:
        self.parts.put(rows)

    def finish(self) -> None:
        self.parts.put(self._END)

    def abort(self) -> None:
        """Stop recording and wait for the thread (its own error, if any, is then moot)."""
        self.parts.put(_Aborted)
        super().join()
        self.error = None

    def _rows(self) -> Iterator[list[tuple[Any, ...]]]:
        while True:
            part = self.parts.get()
            if part is self._END:
                return
            if part is _Aborted:
                raise _Aborted
            yield part  # type: ignore[misc]

    def run(self) -> None:
        try:
            _insert_transfers(self.connection, self._rows())
            # One set-based UPDATE … FROM (a join, not a correlated subquery: the new rows have no
            # planner statistics yet) links every line to its new transfer and marks it sent.
            lines_t, transfers_t = PayoutLine.__table__, FileLine.__table__
            self.marked = self.connection.execute(
                lines_t.update()
                .where(
                    lines_t.c.id == transfers_t.c.line_id,
                    transfers_t.c.file_id == self.file_id,
                    lines_t.c.state.in_(tuple(domain.SENDABLE_STATES)),
                )
                .values(state=LineState.SENT, current_file_line_id=transfers_t.c.id, updated_at=self.now)
            ).rowcount
        except _Aborted:
            pass
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        """Wait for the recording; re-raise its error."""
        super().join(timeout)
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _insert_transfers(connection: Connection, parts: Iterable[list[tuple[Any, ...]]]) -> None:
    """The transfer rows (plain values, no type processing needed): one COPY on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(_TRANSFER_COLUMNS)
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY file_lines ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for rows in parts:
                for row in rows:
                    copy.write_row(row)
        return
    for rows in parts:  # SQLite: the rows as they are, without SQLAlchemy's per-row processing
        connection.exec_driver_sql(_SQLITE_INSERT, rows)


def record_download(
    session: Session, pf: PaymentFile, *, fmt: str, actor: Actor, created: bool
) -> FileDownload:
    """Record who downloaded which rendering of a file, with its checksum."""
    sha = pf.txt_sha256 if fmt == "txt" else pf.xlsx_sha256
    row = FileDownload(
        file_id=pf.id,
        format=fmt,
        sha256=sha,
        line_count=pf.line_count,
        total_satang=pf.total_satang,
        created_file=created,
        downloaded_by=actor.username,
        role=actor.role,
        ip=actor.ip,
    )
    session.add(row)
    batch = session.get(PayoutBatch, pf.batch_id)
    record_audit(
        session,
        actor,
        action="payment_file.download",
        object_type="payment_file",
        object_id=pf.id,
        district_code=batch.district_code if batch else None,
        after={
            "format": fmt,
            "sha256": sha,
            "line_count": pf.line_count,
            "total": money_str(pf.total_amount),
        },
    )
    return row


def cancel_file(session: Session, *, file_id: int, reason: str, actor: Actor) -> PaymentFile:
    """Cancel a file the bank never processed: its lines become pending again (new ref2 next time).

    :raises Conflict: already cancelled, or the bank's results for it were already recorded.
    """
    pf = get_file(session, file_id, actor, lock=True)
    batch = session.get(PayoutBatch, pf.batch_id)
    assert batch is not None
    ensure_open(batch)
    if pf.status != "active":
        raise Conflict("ไฟล์นี้ถูกยกเลิกไปแล้ว", "file_cancelled")
    file_lines = list(session.scalars(select(FileLine).where(FileLine.file_id == pf.id)))
    if any(fl.outcome != "pending" for fl in file_lines):
        raise Conflict(
            "ยกเลิกไฟล์นี้ไม่ได้ เพราะบันทึกผลการโอนของไฟล์นี้แล้วบางรายการ (ธนาคารดำเนินการไฟล์นี้แล้ว)",
            "file_has_results",
        )
    now = utcnow()
    for fl in file_lines:
        fl.outcome = "cancelled"
        fl.outcome_at = now
    fl_ids = [fl.id for fl in file_lines]
    session.execute(
        update(PayoutLine)
        .where(PayoutLine.current_file_line_id.in_(fl_ids), PayoutLine.state == LineState.SENT)
        .values(state=LineState.PENDING, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    pf.status = "cancelled"
    pf.cancelled_at = now
    pf.cancelled_by = actor.username
    pf.cancel_reason = reason
    record_audit(
        session,
        actor,
        action="payment_file.cancel",
        object_type="payment_file",
        object_id=pf.id,
        district_code=batch.district_code,
        before={"status": "active"},
        after={"status": "cancelled", "reason": reason, "lines": len(file_lines)},
    )
    return pf
