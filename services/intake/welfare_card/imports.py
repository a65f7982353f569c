"""Importing the participants list: accept an upload (HTTP), apply it all-or-nothing (worker).

``request_import`` checks the file's type and size, stores it and asks intake's worker — through
the outbox, so an upload is never lost — to run ``apply_import``.  That runs in the worker's inbox
transaction: every line is read and checked while it streams into a staging table (``COPY`` on
PostgreSQL); a national ID repeated within the file is an error of its later line; a file with any
bad line is rejected and nothing of it is kept.  A clean file is merged set-based: one statement
finds the new and changed people, one inserts, one updates; people whose line is unchanged are not
touched, so re-importing the same file changes nothing and a corrected file changes only its
corrected lines.  The import, its counts, the ``welfare_card.participants_changed`` event and the
audit entry commit together.

Imports are applied one at a time (a transaction-scoped advisory lock on PostgreSQL; SQLite has a
single writer anyway), which keeps each event's per-key totals exact.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from services.intake.welfare_card import domain
from services.intake.welfare_card.config import MAX_LISTED_ERRORS, WelfareCardSettings
from services.intake.welfare_card.models import Area, ImportFile, ParticipantImport
from services.intake.welfare_card.scope import WcActor, check_import_scope
from shared import audit, messaging
from shared.db import UTCDateTime, is_sqlite, utcnow
from shared.models import Job

log = logging.getLogger(__name__)
PRODUCER = "intake"
IMPORT_LOCK_KEY = 7_420_091  # pg_advisory_xact_lock key: one import applied at a time
SQLITE_BATCH = 5_000
COPY_CHUNK = 5_000
STAGE_COLUMNS = (
    "line",
    "national_id",
    "title",
    "first_name",
    "last_name",
    "province_code",
    "area_code",
    "agency",
    "grp",
)
DATA_COLUMNS = STAGE_COLUMNS[1:]


def safe_filename(name: str | None) -> str:
    """The user's file name reduced to something harmless to store and show."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\- ()\u0e00-\u0e7f]", "_", base)[:200].strip()
    return cleaned or "participants"


# --- the HTTP side -------------------------------------------------------------------------------------
def request_import(
    session: Session,
    *,
    actor: WcActor,
    job: Job,
    filename: str | None,
    data: bytes,
    province_code: str,
    agency: str,
    settings: WelfareCardSettings,
) -> ParticipantImport:
    """Store an uploaded list and ask the worker to apply it.

    :raises domain.Forbidden: the province or agency is outside the caller's scope.
    :raises domain.FileProblem: empty.  :raises domain.FileTooLarge: over the limit.
    :raises domain.UnsupportedFile: not a CSV or xlsx.
    """
    check_import_scope(actor, province_code=province_code, agency=agency)
    if len(data) > settings.max_import_bytes:
        raise domain.FileTooLarge(
            f"ไฟล์ใหญ่เกิน {settings.max_import_bytes // (1024 * 1024)} MB กรุณาแบ่งไฟล์ตามจังหวัดและหน่วยงาน",
            field="file",
        )
    kind = domain.sniff(data, filename)
    imp = ParticipantImport(
        job_id=job.id,
        filename=safe_filename(filename),
        kind=kind,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        province_code=province_code,
        agency=agency,
        status="queued",
        lines=0,
        added=0,
        updated=0,
        unchanged=0,
        rejected_count=0,
        created_by=actor.username,
    )
    session.add(imp)
    session.flush()
    session.add(ImportFile(import_id=imp.id, data=data))
    job.result = {"import_id": imp.id}
    audit.record(
        session,
        action="welfare_card.import_upload",
        object_type="welfare_card_import",
        object_id=imp.id,
        actor=actor.username,
        role=actor.role,
        district_code=province_code,
        ip=actor.ip,
        fields=("file",),
        after={
            "filename": imp.filename,
            "size": imp.size,
            "sha256": imp.sha256,
            "province_code": province_code,
            "agency": agency,
        },
    )
    messaging.publish(session, "welfare_card.import_requested", {"import_id": imp.id}, producer=PRODUCER)
    return imp


def get_import(session: Session, import_id: int, actor: WcActor) -> ParticipantImport:
    """An import the caller may see.

    :raises domain.NotFound: unknown, or outside the caller's scope.
    """
    imp = session.get(ParticipantImport, import_id)
    if imp is None or not actor.can_see_import(imp.province_code, imp.agency):
        raise domain.NotFound("ไม่พบการนำเข้ารายชื่อที่ต้องการ")
    return imp


def list_imports(session: Session, actor: WcActor, *, page: int, per_page: int) -> tuple[list[Any], int]:
    """The imports the caller may see, newest first."""
    stmt = select(ParticipantImport)
    if actor.province_code:
        stmt = stmt.where(ParticipantImport.province_code == actor.province_code)
    if actor.agency:
        stmt = stmt.where(ParticipantImport.agency == actor.agency)
    if not actor.is_central and not actor.province_code and not actor.agency:
        return [], 0
    rows = session.scalars(
        stmt.order_by(ParticipantImport.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return list(rows), total


def import_view(imp: ParticipantImport) -> dict[str, Any]:
    """An import as the API answers it (``accepted``: lines kept; 0 when rejected)."""
    accepted = imp.added + imp.updated + imp.unchanged if imp.status == "done" else 0
    return {
        "id": imp.id,
        "import_id": imp.id,
        "job_id": imp.job_id,
        "status": imp.status,
        "filename": imp.filename,
        "kind": imp.kind,
        "size": imp.size,
        "sha256": imp.sha256,
        "province_code": imp.province_code,
        "agency": imp.agency,
        "lines": imp.lines,
        "accepted": accepted,
        "added": imp.added,
        "updated": imp.updated,
        "unchanged": imp.unchanged,
        "rejected_count": imp.rejected_count,
        "rejected": imp.rejected or [],
        "message": imp.message,
        "created_by": imp.created_by,
        "created_at": imp.created_at,
        "finished_at": imp.finished_at,
    }


# --- the worker side -------------------------------------------------------------------------------
def apply_import(
    session: Session, *, import_id: int, settings: WelfareCardSettings
) -> ParticipantImport | None:
    """Check and apply one uploaded list in the caller's transaction (all or nothing)."""
    started = time.monotonic()
    sqlite = is_sqlite(session)
    if not sqlite:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK_KEY})
    imp = session.get(ParticipantImport, import_id, with_for_update=not sqlite)
    if imp is None or imp.status != "queued":
        return imp  # already applied or refused (a redelivery): nothing to do
    if not sqlite:
        _mark_running(session, imp.job_id)
    job = session.get(Job, imp.job_id)
    data = session.scalar(select(ImportFile.data).where(ImportFile.import_id == imp.id))
    areas = dict(session.execute(select(Area.code, Area.province_code)).tuples().all())
    _create_stage(session, sqlite)
    try:
        # A savepoint: a file that breaks off in the middle of a COPY must not abort the transaction
        # that records why it failed.
        with session.begin_nested():
            lines, errors, error_count = _stage_lines(session, imp, data or b"", areas, settings, sqlite)
    except domain.WelfareCardError as exc:
        _finish(session, imp, job, status="failed", message=exc.message, errors=[], error_count=0)
        _drop(session, sqlite)
        return imp
    imp.lines = lines
    staged = time.monotonic()
    if error_count:
        merged = sorted(errors, key=lambda e: (e["line"], e["field"]))[:MAX_LISTED_ERRORS]
        _finish(
            session,
            imp,
            job,
            status="rejected",
            message=(f"ไฟล์มีข้อมูลไม่ถูกต้อง {error_count:,} รายการ จึงไม่ได้นำเข้าข้อมูลใดเลย กรุณาแก้ไขแล้วนำเข้าใหม่"),
            errors=merged,
            error_count=error_count,
        )
        _drop(session, sqlite)
        return imp
    checked = time.monotonic()
    counts = _merge(session, imp, sqlite)
    _finish(session, imp, job, status="done", message=None, errors=[], error_count=0)
    _drop(session, sqlite)
    log.info(
        "welfare card import %s: %s lines read, checked and staged in %.1f s, merged in %.1f s"
        " (%s added, %s updated, %s unchanged)",
        imp.id,
        imp.lines,
        staged - started,
        time.monotonic() - checked,
        imp.added,
        imp.updated,
        imp.unchanged,
    )
    if imp.added or imp.updated:
        messaging.publish(
            session,
            "welfare_card.participants_changed",
            {
                "import_id": imp.id,
                "applied_at": imp.finished_at.isoformat() if imp.finished_at else utcnow().isoformat(),
                "applied_by": imp.created_by,
                "province_code": imp.province_code,
                "agency": imp.agency,
                "lines": imp.lines,
                "added": imp.added,
                "updated": imp.updated,
                "unchanged": imp.unchanged,
                "counts": counts,
                "development_record_by": (
                    settings.development.record_by.isoformat() if settings.development.record_by else None
                ),
            },
            producer=PRODUCER,
        )
    return imp


def _mark_running(session: Session, job_id: str) -> None:
    """Show the job as running at once: its own short transaction, while the import's stays open.

    PostgreSQL only (SQLite's single writer is the import's transaction itself).
    """
    with Session(session.get_bind()) as own, own.begin():
        own.execute(update(Job).where(Job.id == job_id, Job.status == "queued").values(status="running"))


def _create_stage(session: Session, sqlite: bool) -> None:
    columns = (
        "line integer, national_id varchar(13), title varchar(40), first_name varchar(100),"
        " last_name varchar(100), province_code varchar(2), area_code varchar(4), agency varchar(10),"
        " grp varchar(20)"
    )
    if sqlite:
        session.execute(text("DROP TABLE IF EXISTS temp.wc_stage"))
        session.execute(text(f"CREATE TEMP TABLE wc_stage ({columns})"))
    else:
        session.execute(text(f"CREATE TEMP TABLE wc_stage ({columns}) ON COMMIT DROP"))


def _drop(session: Session, sqlite: bool) -> None:
    if sqlite:  # PostgreSQL drops them at commit
        session.execute(text("DROP TABLE IF EXISTS temp.wc_stage"))
        session.execute(text("DROP TABLE IF EXISTS temp.wc_diff"))


def _checked_rows(
    imp: ParticipantImport,
    data: bytes,
    areas: dict[str, str],
    settings: WelfareCardSettings,
    sink: dict[str, Any],
) -> Iterator[domain.StagedRow]:
    """Good rows of the file; the bad ones' errors (first ``MAX_LISTED_ERRORS``) and counts go to ``sink``.

    A national ID already seen on an earlier line is an error of the later line.
    """
    rows = domain.iter_rows(data, imp.kind, max_unpacked=settings.max_xlsx_unpacked_bytes)
    header: dict[str, int] | None = None
    checker: domain.LineChecker | None = None
    seen: dict[int, int] = {}  # national ID -> its first line (ints: a fraction of the memory of strings)

    def refuse(found: list[domain.LineError]) -> None:
        sink["error_count"] += len(found)
        room = MAX_LISTED_ERRORS - len(sink["errors"])
        if room > 0:
            sink["errors"].extend(e.as_dict() for e in found[:room])

    for number, cells in rows:
        if checker is None:
            if domain.is_blank(cells):
                continue
            header = domain.header_map(cells)
            checker = domain.LineChecker(
                header, areas=areas, province_code=imp.province_code, agency=imp.agency
            )
            continue
        if domain.is_blank(cells):
            continue
        sink["lines"] += 1
        result = checker.check(number, cells)
        if isinstance(result, list):
            refuse(result)
            continue
        first = seen.setdefault(int(result[1]), number)
        if first != number:
            refuse([domain.LineError(number, "national_id", f"เลขประจำตัวประชาชนซ้ำกับบรรทัดที่ {first}")])
            continue
        yield result
    if checker is None:
        raise domain.FileProblem("ไม่พบหัวตารางในไฟล์", field="file", code="missing_columns")


def _stage_lines(
    session: Session,
    imp: ParticipantImport,
    data: bytes,
    areas: dict[str, str],
    settings: WelfareCardSettings,
    sqlite: bool,
) -> tuple[int, list[dict[str, Any]], int]:
    """Stream the file's good lines into ``wc_stage``; return (lines, listed errors, error count)."""
    sink: dict[str, Any] = {"lines": 0, "errors": [], "error_count": 0}
    good = _checked_rows(imp, data, areas, settings, sink)
    if sqlite:
        placeholders = ", ".join(":" + c for c in STAGE_COLUMNS)
        insert = text(f"INSERT INTO wc_stage ({', '.join(STAGE_COLUMNS)}) VALUES ({placeholders})")  # noqa: S608
        batch: list[dict[str, Any]] = []
        for row in good:
            batch.append(dict(zip(STAGE_COLUMNS, row, strict=True)))
            if len(batch) >= SQLITE_BATCH:
                session.execute(insert, batch)
                batch = []
        if batch:
            session.execute(insert, batch)
    else:
        raw = session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            # COPY streams the lines in as they are checked (no list of a million rows in memory), as
            # ready-made text in chunks: per-row adaptation would cost more than checking the line.
            with cursor.copy(f"COPY wc_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                chunk: list[str] = []
                for row in good:
                    chunk.append(_copy_line(row))
                    if len(chunk) >= COPY_CHUNK:
                        copy.write("".join(chunk))
                        chunk = []
                if chunk:
                    copy.write("".join(chunk))
            cursor.execute("ANALYZE wc_stage")
    return sink["lines"], sink["errors"], sink["error_count"]


def _copy_line(row: domain.StagedRow) -> str:
    """One line of COPY's text format.  Checked lines hold no tab, newline or other control
    character (the names are refused otherwise), so only the backslash needs escaping."""
    line, national_id, title, first, last, province, area, agency, group = row
    title_text = "\\N" if title is None else title.replace("\\", "\\\\")
    first, last = first.replace("\\", "\\\\"), last.replace("\\", "\\\\")
    return f"{line}\t{national_id}\t{title_text}\t{first}\t{last}\t{province}\t{area}\t{agency}\t{group}\n"


def _merge(session: Session, imp: ParticipantImport, sqlite: bool) -> list[dict[str, Any]]:
    """Insert the new people, update the changed ones; return the changed (area, agency, group) counts."""
    differs = " OR ".join(
        f"p.{c} IS NOT s.{c}" if sqlite else f"p.{c} IS DISTINCT FROM s.{c}" for c in DATA_COLUMNS[1:]
    )
    new_values = ", ".join("s." + c for c in DATA_COLUMNS)
    # Every name in these statements is one of this module's constants: nothing comes from input.
    select_diff = (
        f"SELECT {new_values}, p.id AS pid, p.province_code AS old_province,"  # noqa: S608
        " p.area_code AS old_area, p.agency AS old_agency, p.grp AS old_grp"
        " FROM wc_stage s LEFT JOIN wc_participants p ON p.national_id = s.national_id"
        f" WHERE p.id IS NULL OR {differs}"
    )
    if sqlite:
        session.execute(text("DROP TABLE IF EXISTS temp.wc_diff"))
        session.execute(text(f"CREATE TEMP TABLE wc_diff AS {select_diff}"))
    else:
        session.execute(text("SET LOCAL work_mem = '256MB'"))  # the join of a big list hashes in memory
        session.execute(text(f"CREATE TEMP TABLE wc_diff ON COMMIT DROP AS {select_diff}"))
    added, updated = session.execute(
        text(
            "SELECT coalesce(sum(CASE WHEN pid IS NULL THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN pid IS NULL THEN 0 ELSE 1 END), 0) FROM wc_diff"
        )
    ).one()
    moved = "(old_area <> area_code OR old_agency <> agency OR old_grp <> grp)"
    deltas = session.execute(
        text(
            "SELECT province_code, area_code, agency, grp, sum(d) FROM ("  # noqa: S608  (constants only)
            f" SELECT province_code, area_code, agency, grp, 1 AS d FROM wc_diff WHERE pid IS NULL OR {moved}"
            " UNION ALL SELECT old_province, old_area, old_agency, old_grp, -1 FROM wc_diff"
            f" WHERE pid IS NOT NULL AND {moved}"
            ") x GROUP BY province_code, area_code, agency, grp"
        )
    ).all()
    params = {"import_id": imp.id, "now": utcnow()}
    now = bindparam("now", type_=UTCDateTime())  # stored as the ORM stores it (naive UTC on SQLite)
    session.execute(
        text(
            f"INSERT INTO wc_participants ({', '.join(DATA_COLUMNS)}, import_id, created_at, updated_at)"  # noqa: S608
            f" SELECT {', '.join(DATA_COLUMNS)}, :import_id, :now, :now FROM wc_diff WHERE pid IS NULL"
        ).bindparams(now),
        params,
    )
    assignments = ", ".join(f"{c} = d.{c}" for c in DATA_COLUMNS[1:])
    session.execute(
        text(
            f"UPDATE wc_participants SET {assignments}, import_id = :import_id, updated_at = :now"  # noqa: S608
            " FROM wc_diff AS d WHERE wc_participants.id = d.pid"
        ).bindparams(now),
        params,
    )
    imp.added, imp.updated = int(added), int(updated)
    imp.unchanged = imp.lines - imp.added - imp.updated
    changed = {(r[0], r[1], r[2], r[3]): int(r[4]) for r in deltas if int(r[4]) != 0}
    if not changed:
        return []
    provinces = sorted({k[0] for k in changed})
    totals: Counter[tuple[str, str, str, str]] = Counter()
    for province in provinces:
        for p, a, ag, g, n in session.execute(
            text(
                "SELECT province_code, area_code, agency, grp, count(*) FROM wc_participants"
                " WHERE province_code = :p GROUP BY province_code, area_code, agency, grp"
            ),
            {"p": province},
        ):
            totals[(p, a, ag, g)] = int(n)
    return [
        {
            "province_code": key[0],
            "area_code": key[1],
            "agency": key[2],
            "group": key[3],
            "delta": delta,
            "total": totals.get(key, 0),
        }
        for key, delta in sorted(changed.items())
    ]


def _finish(
    session: Session,
    imp: ParticipantImport,
    job: Job | None,
    *,
    status: str,
    message: str | None,
    errors: list[dict[str, Any]],
    error_count: int,
) -> None:
    imp.status = status
    imp.message = message
    imp.rejected = errors
    imp.rejected_count = error_count
    imp.finished_at = utcnow()
    view = {k: v for k, v in import_view(imp).items() if k not in ("rejected", "created_at", "finished_at")}
    if job is not None:
        job.status = "done" if status == "done" else "failed"
        job.result = view
        job.error = None if status == "done" else {"code": status, "message": message}
    audit.record(
        session,
        action="welfare_card.import_apply" if status == "done" else f"welfare_card.import_{status}",
        object_type="welfare_card_import",
        object_id=imp.id,
        actor=imp.created_by,
        district_code=imp.province_code,
        fields=("participants",) if status == "done" else (),
        after={
            "status": status,
            "lines": imp.lines,
            "added": imp.added,
            "updated": imp.updated,
            "unchanged": imp.unchanged,
            "rejected_count": error_count,
        },
    )
