"""Payment's HTTP schemas (marshmallow) and the presenters that mask account numbers.

Account numbers appear in full only in a batch's detail and review list, and only for the
owning district's finance officer and section head and for the central office; everyone else
sees the last four digits (reliability D1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from services.payment import domain
from services.payment.models import FileLine, PaymentFile, PayoutBatch, PayoutLine
from services.payment.services import mask_account
from shared.money import from_satang

Money = fields.Decimal(places=2, as_string=True)
STATES = ("pending", "sent", "paid", "failed", "closed_failed", "review", "reversed")


# --- arguments -------------------------------------------------------------------------------------
class BatchListArgs(Schema):
    """``?status=open|settled&district_code=&page=&per_page=``."""

    status = fields.String(load_default=None, validate=validate.OneOf(["open", "settled"]))
    district_code = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{4}$"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DownloadArgs(Schema):
    """``?effective_date=YYYY-MM-DD`` (not before today, Asia/Bangkok); default today + offset."""

    effective_date = fields.Date(load_default=None)


class BankCorrectionSchema(Schema):
    """Corrected bank details of a payee (KTB spec §6–7 rules are checked by the service)."""

    bank_code = fields.String(required=True, validate=validate.Length(min=1, max=3))
    branch_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4))
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_no = fields.String(required=True, validate=validate.Length(min=1, max=30))


class ReasonSchema(Schema):
    """Why (shown to finance and kept in the audit log)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ResolveSchema(ReasonSchema):
    """Finance's decision on a line in review, after checking with the bank."""

    decision = fields.String(required=True, validate=validate.OneOf(["paid", "failed"]))


class UploadSchema(Schema):
    """The bank's result report (.xlsx, .csv or .txt)."""

    file = Upload(required=True)


class AlertArgs(Schema):
    """``?open=true&batch_id=``."""

    open = fields.Boolean(load_default=True)
    batch_id = fields.Integer(load_default=None)


# --- responses ---------------------------------------------------------------------------------------
class StateCountSchema(Schema):
    """Count and amount of the lines in one state."""

    count = fields.Integer()
    amount = Money


class BucketSchema(StateCountSchema):
    """One reconciliation bucket (reliability P11)."""


class ReconciliationSchema(Schema):
    """P11: ``pending + paid + failed + reversed + exceptions_open`` = the batch's count (and sums).

    Buckets: pending = pending + sent; failed = failed + closed_failed; exceptions_open =
    review.  ``balanced`` says the buckets add up to the batch's count and total.
    """

    pending = fields.Nested(BucketSchema)
    paid = fields.Nested(BucketSchema)
    failed = fields.Nested(BucketSchema)
    reversed = fields.Nested(BucketSchema)
    exceptions_open = fields.Nested(BucketSchema)
    count = fields.Integer()
    amount = Money
    balanced = fields.Boolean()


class BatchSummarySchema(Schema):
    """A payout batch with counts per state."""

    id = fields.Integer()
    approval_batch_id = fields.String()
    district_code = fields.String()
    fiscal_year = fields.Integer()
    number = fields.Integer()
    title = fields.String()
    meeting_date = fields.Date(allow_none=True)
    approved_at = fields.DateTime()
    status = fields.String()
    line_count = fields.Integer()
    total_amount = Money
    paid_total = Money
    counts = fields.Dict(keys=fields.String(), values=fields.Nested(StateCountSchema))
    reconciliation = fields.Nested(ReconciliationSchema)
    created_at = fields.DateTime()
    settled_at = fields.DateTime(allow_none=True)
    settled_by = fields.String(allow_none=True)


class BatchListSchema(Schema):
    """A page of batches."""

    items = fields.List(fields.Nested(BatchSummarySchema))
    total = fields.Integer()


class LineSchema(Schema):
    """One payee of a batch."""

    id = fields.Integer()
    case_id = fields.String()
    case_no = fields.String()
    payee_name = fields.String()
    welfare_type_name = fields.String(allow_none=True)
    account_name = fields.String()
    bank_code = fields.String()
    branch_code = fields.String(allow_none=True)
    account_no = fields.String()
    amount = Money
    state = fields.String(metadata={"enum": list(STATES)})
    state_label = fields.String()
    last_outcome = fields.String(allow_none=True)
    ref2 = fields.String(allow_none=True, metadata={"description": "the latest transfer's reference"})
    file_id = fields.Integer(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    paid_ref2 = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)
    reversed_at = fields.DateTime(
        allow_none=True,
        metadata={"description": "when the bank's reversal of the latest transfer was imported"},
    )
    reversal_reason = fields.String(allow_none=True)
    reversal_value_date = fields.String(
        allow_none=True, metadata={"description": "the bank's date, as given"}
    )


class FileSchema(Schema):
    """A KTB file made for one group of a batch."""

    id = fields.Integer()
    batch_id = fields.Integer()
    group = fields.String(attribute="bank_group")
    status = fields.String()
    effective_date = fields.Date()
    service_type = fields.String()
    line_count = fields.Integer()
    total_amount = Money
    txt_name = fields.String()
    txt_sha256 = fields.String()
    xlsx_sha256 = fields.String()
    placeholder_config = fields.Boolean()
    unresolved = fields.Integer()
    downloads = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)


class AlertSchema(Schema):
    """Something finance must look at."""

    id = fields.Integer()
    batch_id = fields.Integer()
    line_id = fields.Integer(allow_none=True)
    import_id = fields.Integer(allow_none=True)
    kind = fields.String()
    message = fields.String()
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)


class BatchDetailSchema(BatchSummarySchema):
    """A batch with its lines, files and open alerts."""

    lines = fields.List(fields.Nested(LineSchema))
    files = fields.List(fields.Nested(FileSchema))
    alerts = fields.List(fields.Nested(AlertSchema))
    accounts_masked = fields.Boolean()


class BlockingLineSchema(Schema):
    """A line that keeps a batch from being settled."""

    id = fields.Integer()
    case_no = fields.String()
    state = fields.String()
    state_label = fields.String()


class ReviewSchema(Schema):
    """The final review list before settling (บันทึกการจ่ายสำเร็จทั้งหมด)."""

    batch_id = fields.Integer()
    title = fields.String()
    status = fields.String()
    lines = fields.List(fields.Nested(LineSchema))
    count = fields.Integer()
    total_amount = Money
    paid_count = fields.Integer()
    paid_total = Money
    closed_count = fields.Integer()
    closed_total = Money
    outstanding_count = fields.Integer()
    can_settle = fields.Boolean()
    blocking = fields.List(fields.Nested(BlockingLineSchema))
    accounts_masked = fields.Boolean()


class ImportAcceptedSchema(Schema):
    """202: the import is queued (or answered at once as a duplicate)."""

    job_id = fields.String()
    import_id = fields.Integer()
    status = fields.String()
    duplicate_of = fields.Integer(allow_none=True)


class LineErrorSchema(Schema):
    """A line of a rejected file and what is wrong with it."""

    line = fields.Integer(allow_none=True)
    message = fields.String()


class ImportSchema(Schema):
    """What an import did (CONTRACT: status, matched, paid, failed, unmatched, duplicate_of)."""

    id = fields.Integer()
    import_id = fields.Function(lambda i: i.id)
    batch_id = fields.Integer()
    job_id = fields.String()
    status = fields.String(metadata={"enum": ["queued", "done", "rejected"]})
    filename = fields.String()
    kind = fields.String()
    shape = fields.String(allow_none=True)
    sha256 = fields.String()
    duplicate_of = fields.Integer(allow_none=True)
    lines = fields.Function(lambda i: i.counts.get("lines"))
    matched = fields.Function(lambda i: i.counts.get("matched", 0))
    applied = fields.Function(lambda i: i.counts.get("applied", 0))
    paid = fields.Function(lambda i: i.counts.get("paid", 0))
    failed = fields.Function(lambda i: i.counts.get("failed", 0))
    review = fields.Function(lambda i: i.counts.get("review", 0))
    duplicates = fields.Function(lambda i: i.counts.get("duplicates", 0))
    contradictions = fields.Function(lambda i: i.counts.get("contradictions", 0))
    reversed = fields.Function(lambda i: i.counts.get("reversed", 0))
    invalid_reversals = fields.Function(lambda i: i.counts.get("invalid_reversals", 0))
    unknown = fields.Function(lambda i: i.counts.get("unknown", 0))
    ambiguous = fields.Function(lambda i: i.counts.get("ambiguous", 0))
    unmatched = fields.List(fields.Dict())
    not_in_report = fields.List(fields.Dict())
    reconciliation = fields.List(fields.Dict())
    errors = fields.List(fields.Nested(LineErrorSchema))
    error_message = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ImportSummarySchema(Schema):
    """An import in a list (the details are at /result-imports/{id})."""

    id = fields.Integer()
    status = fields.String()
    filename = fields.String()
    shape = fields.String(allow_none=True)
    duplicate_of = fields.Integer(allow_none=True)
    counts = fields.Dict()
    error_message = fields.String(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ImportListSchema(Schema):
    """The imports of a batch, newest first."""

    items = fields.List(fields.Nested(ImportSummarySchema))
    total = fields.Integer()


# --- presenters ------------------------------------------------------------------------------------
def present_batch(batch: PayoutBatch, counts: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A batch with its counts per state (every state present)."""
    full = {state: dict(counts.get(state, {"count": 0, "amount": from_satang(0)})) for state in STATES}
    reconciliation: dict[str, Any] = domain.buckets(full)
    added = sum(b["count"] for b in reconciliation.values())
    amount = sum((b["amount"] for b in reconciliation.values()), from_satang(0))
    reconciliation.update(
        count=batch.line_count,
        amount=batch.total_amount,
        balanced=added == batch.line_count and amount == batch.total_amount,
    )
    return {
        "id": batch.id,
        "approval_batch_id": batch.approval_batch_id,
        "district_code": batch.district_code,
        "fiscal_year": batch.fiscal_year,
        "number": batch.number,
        "title": batch.title,
        "meeting_date": batch.meeting_date,
        "approved_at": batch.approved_at,
        "status": batch.status,
        "line_count": batch.line_count,
        "total_amount": batch.total_amount,
        "paid_total": full["paid"]["amount"],
        "counts": full,
        "reconciliation": reconciliation,
        "created_at": batch.created_at,
        "settled_at": batch.settled_at,
        "settled_by": batch.settled_by,
    }


def present_line(line: PayoutLine, transfer: FileLine | None, *, masked: bool) -> dict[str, Any]:
    """One line; the account number masked unless the viewer may see it in full."""
    reversal = transfer if transfer is not None and transfer.reversed_at is not None else None
    return {
        "id": line.id,
        "case_id": line.case_id,
        "case_no": line.case_no,
        "payee_name": line.payee_name,
        "welfare_type_name": line.welfare_type_name,
        "account_name": line.account_name,
        "bank_code": line.bank_code,
        "branch_code": line.branch_code,
        "account_no": mask_account(line.account_no) if masked else line.account_no,
        "amount": line.amount,
        "state": line.state,
        "state_label": domain.state_label(line.state),
        "last_outcome": line.last_outcome,
        "ref2": transfer.ref2 if transfer else None,
        "file_id": transfer.file_id if transfer else None,
        "paid_at": line.paid_at,
        "paid_ref2": line.paid_ref2,
        "close_reason": line.close_reason,
        "reversed_at": reversal.reversed_at if reversal else None,
        "reversal_reason": reversal.reversal_reason if reversal else None,
        "reversal_value_date": reversal.reversal_value_date if reversal else None,
    }


def present_file(pf: PaymentFile, *, unresolved: int, downloads: int) -> dict[str, Any]:
    """A file row with its counts."""
    out = {name: getattr(pf, name) for name in FileSchema().fields if hasattr(pf, name)}
    out.update(bank_group=pf.bank_group, unresolved=unresolved, downloads=downloads)
    return out


def present_lines(
    lines: Sequence[PayoutLine], transfers: Mapping[int, FileLine], *, masked: bool
) -> list[dict[str, Any]]:
    """Lines with their latest transfers."""
    return [present_line(line, transfers.get(line.id), masked=masked) for line in lines]


__all__ = [
    "AlertArgs",
    "AlertSchema",
    "BankCorrectionSchema",
    "BatchDetailSchema",
    "BatchListArgs",
    "BatchListSchema",
    "DownloadArgs",
    "FileSchema",
    "ImportAcceptedSchema",
    "ImportListSchema",
    "ImportSchema",
    "LineSchema",
    "ReasonSchema",
    "ResolveSchema",
    "ReviewSchema",
    "UploadSchema",
    "present_batch",
    "present_file",
    "present_line",
    "present_lines",
]
