"""Payment use cases: ``(session, *, ...) -> result``; they flush, never commit.

Events go out through the outbox (``shared.messaging.publish``) and every state change is
audited (``shared.audit.record``) in the caller's transaction.  Every use case that changes a
batch first locks its row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers
with ``BEGIN IMMEDIATE``), so file making, result imports, corrections and settlement of one
batch never interleave.

* ``common``  — errors, the actor, district scoping and locks, audit and event helpers
* ``batches`` — batch.approved / case.updated, reading, settlement, alerts
* ``files``   — the KTB files of a group: made, downloaded, cancelled
* ``lines``   — corrections, closing as not paid, review decisions
* ``ingest``  — the bank's result report: upload and import
"""

from services.payment.services.batches import (
    acknowledge_alert,
    batch_files,
    batch_lines,
    current_refs,
    follow_case_update,
    list_alerts,
    list_batches,
    list_imports,
    open_alerts,
    open_payout_batch,
    review_summary,
    settle_batch,
    state_counts,
)
from services.payment.services.common import (
    SYSTEM,
    Actor,
    Conflict,
    NotFound,
    RuleBroken,
    get_batch,
    get_file,
    get_line,
    mask_account,
)
from services.payment.services.files import cancel_file, get_or_make_file, record_download, ref2_for
from services.payment.services.ingest import (
    get_import,
    import_lines,
    request_result_import,
    run_result_import,
)
from services.payment.services.lines import close_failed, correct_bank_details, resolve_review

__all__ = [
    "SYSTEM",
    "Actor",
    "Conflict",
    "NotFound",
    "RuleBroken",
    "acknowledge_alert",
    "batch_files",
    "batch_lines",
    "cancel_file",
    "close_failed",
    "correct_bank_details",
    "current_refs",
    "follow_case_update",
    "get_batch",
    "get_file",
    "get_import",
    "get_line",
    "get_or_make_file",
    "import_lines",
    "list_alerts",
    "list_batches",
    "list_imports",
    "mask_account",
    "open_alerts",
    "open_payout_batch",
    "record_download",
    "ref2_for",
    "request_result_import",
    "resolve_review",
    "review_summary",
    "run_result_import",
    "settle_batch",
    "state_counts",
]
