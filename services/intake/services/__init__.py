"""Intake's use cases: check, record, edit, find; documents and home visits; the catalogue.

Each function takes the caller's session, flushes but never commits, publishes events through
the outbox (``shared.messaging.publish``) and audits through ``shared.audit.record``.  The
consumers of the other stages' events are in ``services.intake.handlers``.
"""

from services.intake.services.cases import (
    CaseDetail,
    CaseQuery,
    case_detail,
    check_amendment,
    find_cases,
    get_case,
    record_case,
    update_case,
)
from services.intake.services.catalogue import (
    create_programme,
    create_welfare_type,
    update_programme,
    update_welfare_type,
)
from services.intake.services.common import (
    PRODUCER,
    Actor,
    add_case_event,
    add_case_events,
    audit_case,
    bank_of,
    case_event_row,
    case_snapshot,
    locked_snapshot,
    set_bank,
)
from services.intake.services.documents import open_document, record_home_visit, upload_document
from services.intake.services.history import citizen_history

__all__ = [
    "PRODUCER",
    "Actor",
    "CaseDetail",
    "CaseQuery",
    "add_case_event",
    "add_case_events",
    "audit_case",
    "bank_of",
    "case_detail",
    "case_event_row",
    "case_snapshot",
    "check_amendment",
    "citizen_history",
    "create_programme",
    "create_welfare_type",
    "find_cases",
    "get_case",
    "locked_snapshot",
    "open_document",
    "record_case",
    "record_home_visit",
    "set_bank",
    "update_case",
    "update_programme",
    "update_welfare_type",
    "upload_document",
]
