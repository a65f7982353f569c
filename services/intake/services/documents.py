"""The two PDFs of a case and its home visits."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.intake import domain
from services.intake.domain import NotFound, StateConflict
from services.intake.models import Case, CaseDocument, HomeVisit
from services.intake.services.cases import get_case
from services.intake.services.common import Actor, add_case_event, audit_case
from services.intake.storage import DocumentStore
from shared.db import utcnow
from shared.errors import ValidationError


# --- documents and home visits -------------------------------------------------------------------
def _check_open_for_general_changes(case: Case, what: str) -> None:
    if case.status in domain.FINAL_STATUSES:
        raise StateConflict(
            f"เคสนี้สิ้นสุดแล้ว (สถานะ {domain.STATUS_TH[case.status]}) {what}ไม่ได้", code="case_closed"
        )
    if case.locked_batch_id:
        raise StateConflict(
            f"เคสนี้อยู่ในรายการอนุมัติเงินแล้ว {what}ไม่ได้ (แก้ไขได้เฉพาะข้อมูลทางการเงิน หมายเลขโทรศัพท์ และอีเมล)",
            code="case_locked",
        )


def upload_document(
    session: Session,
    *,
    case_id: str,
    kind: str,
    content: bytes,
    actor: Actor,
    store: DocumentStore,
    max_bytes: int,
    now: dt.datetime | None = None,
) -> CaseDocument:
    """Attach (or replace) a case's PDF; the replaced version stays, marked ``replaced_at``.

    :raises DocumentRejected: not a PDF (415), too large (413), empty or truncated (400).
    :raises StateConflict: the case is locked or closed.
    """
    now = now or utcnow()
    case = get_case(session, case_id, actor, for_update=True)
    if kind not in domain.DOCUMENT_KINDS:
        raise ValidationError("ประเภทเอกสารต้องเป็น related หรือ financial", field="kind", code="invalid_kind")
    domain.check_pdf(content, max_bytes=max_bytes)
    _check_open_for_general_changes(case, f"เปลี่ยน{domain.DOCUMENT_KIND_TH[kind]}")
    sha = hashlib.sha256(content).hexdigest()
    current = session.scalars(
        select(CaseDocument)
        .where(CaseDocument.case_id == case.id, CaseDocument.kind == kind, CaseDocument.replaced_at.is_(None))
        .with_for_update()
    ).first()
    store.put(content)
    if current is not None:
        current.replaced_at = now
        current.replaced_by = actor.username
    doc = CaseDocument(
        case_id=case.id, kind=kind, sha256=sha, size=len(content), uploaded_at=now, uploaded_by=actor.username
    )
    session.add(doc)
    audit_case(
        session,
        actor,
        action="document.replace" if current is not None else "document.upload",
        case=case,
        fields=[kind],
        before={"kind": kind, "sha256": current.sha256, "size": current.size}
        if current is not None
        else None,
        after={"kind": kind, "sha256": sha, "size": len(content)},
    )
    session.flush()
    return doc


def open_document(
    session: Session, *, case_id: str, kind: str, actor: Actor, sha256: str | None = None
) -> tuple[Case, CaseDocument]:
    """The current version of a case's document, or the version with ``sha256``; audited.

    :raises NotFound: no such case, no document of this kind yet, or no such version.
    """
    case = get_case(session, case_id, actor)
    if kind not in domain.DOCUMENT_KINDS:
        raise NotFound("ไม่พบเอกสารที่ต้องการ", code="document_not_found")
    query = select(CaseDocument).where(CaseDocument.case_id == case.id, CaseDocument.kind == kind)
    if sha256 is None:
        query = query.where(CaseDocument.replaced_at.is_(None))
    else:
        query = query.where(CaseDocument.sha256 == sha256)
    doc = session.scalars(query.order_by(CaseDocument.id.desc())).first()
    if doc is None and sha256 is not None:
        raise NotFound(f"ไม่พบ{domain.DOCUMENT_KIND_TH[kind]}ฉบับที่ต้องการของเคสนี้", code="document_not_found")
    if doc is None:
        raise NotFound(f"ยังไม่ได้อัปโหลด{domain.DOCUMENT_KIND_TH[kind]}ของเคสนี้", code="document_not_found")
    audit_case(
        session, actor, action="document.download", case=case, fields=[kind], after={"sha256": doc.sha256}
    )
    return case, doc


def record_home_visit(
    session: Session,
    *,
    case_id: str,
    visited_on: dt.date,
    findings: str,
    actor: Actor,
    now: dt.datetime | None = None,
) -> HomeVisit:
    """Record a home visit (date, findings; the officer is the caller).

    :raises StateConflict: the case is locked or closed.
    """
    now = now or utcnow()
    case = get_case(session, case_id, actor, for_update=True)
    domain.check_not_future(visited_on, domain.bangkok_date(now), field="visited_on", label="วันที่เยี่ยมบ้าน")
    _check_open_for_general_changes(case, "บันทึกการเยี่ยมบ้าน")
    visit = HomeVisit(
        case_id=case.id, visited_on=visited_on, findings=findings, officer=actor.username, recorded_at=now
    )
    session.add(visit)
    add_case_event(session, case, "home_visit", status=None, by=actor.username, at=now)
    audit_case(session, actor, action="home_visit.record", case=case, fields=["visited_on", "findings"])
    session.flush()
    return visit
