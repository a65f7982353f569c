"""The stage events of E-Case: payload schemas (one per event type and version) and routes.

Producers own their events: intake (case.*, cases.*, welfare_card.*), approval (case.placed_on_agenda,
case.amended, case.deferred, case.restored, case.disqualified, batch.*), payment (payout.*,
batch.settled).  Imported by ``shared.events`` so every process knows every contract.

Personal data travels only where the receiver needs it: no event carries a national ID; bank
details travel in ``cases.locked`` / ``batch.approved`` (payment pays them, reporting prints
the bank forms) and in ``case.updated`` / ``payout.bank_details_corrected`` when they change.
"""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from shared.welfare_card import AGENCY_CODES, GROUP_CODES, PROGRESS_CODES, PROJECT_KINDS, RESULT_CODES

Money = fields.Decimal  # always used with places=2, as_string=True

CASE_TYPES = ("disabled", "general")  # เคสผู้พิการ / เคสประชาชนทั่วไป
CASE_STATUSES = (
    "registered",
    "on_agenda",
    "deferred",
    "disqualified",
    "approved",
    "paying",
    "paid",
    "payment_failed",
    "reversed",
)


def _money(**kw: object) -> fields.Decimal:
    return fields.Decimal(places=2, as_string=True, validate=validate.Range(min=0, min_inclusive=False), **kw)


class BankSnapshot(Schema):
    """Where a payee is paid (KTB spec §6–7 rules are checked by the producer)."""

    bank_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{3}$"))
    branch_code = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[0-9]{4}$"))
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    account_no = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6,15}$"))


class CaseSnapshot(Schema):
    """What the other stages know of a case (no national ID)."""

    case_id = fields.String(required=True)
    case_no = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    district_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}$"))
    title = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    case_type = fields.String(required=True, validate=validate.OneOf(CASE_TYPES))
    welfare_type_code = fields.String(required=True)
    welfare_type_name = fields.String(required=True)
    regulation_ref = fields.String(load_default=None, allow_none=True)
    amount = _money(required=True)
    registered_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)


class LockedCaseSnapshot(CaseSnapshot):
    """A case's final snapshot at lock time, with what payment needs to pay it."""

    bank = fields.Nested(BankSnapshot, required=True)
    phone = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)


# --- intake ----------------------------------------------------------------------------------
class CaseRegisteredV1(CaseSnapshot):
    """case.registered: a district recorded a case; it goes on the district's agenda."""


class CaseUpdatedV1(CaseSnapshot):
    """case.updated: an officer edited a case; ``changed`` names the fields; ``bank`` when it changed."""

    changed = fields.List(fields.String(), required=True)
    bank = fields.Nested(BankSnapshot, load_default=None, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))


class CasesLockedV1(Schema):
    """cases.locked: intake locked every case of a batch and sends their final snapshots."""

    batch_id = fields.String(required=True)
    district_code = fields.String(required=True)
    cases = fields.List(fields.Nested(LockedCaseSnapshot), required=True)


class LockRefusal(Schema):
    """Why one case could not be locked."""

    case_id = fields.String(required=True)
    case_no = fields.String(load_default=None, allow_none=True)
    reason = fields.String(required=True)  # Thai, shown to the head


class CasesLockRefusedV1(Schema):
    """cases.lock_refused: nothing was locked; the cases and reasons that prevented it."""

    batch_id = fields.String(required=True)
    district_code = fields.String(required=True)
    refusals = fields.List(fields.Nested(LockRefusal), required=True)


# --- approval --------------------------------------------------------------------------------
class CaseRef(Schema):
    """A case, its district and when something happened to it."""

    case_id = fields.String(required=True)
    district_code = fields.String(required=True)
    at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    by = fields.String(required=True)


class CasePlacedOnAgendaV1(CaseRef):
    """case.placed_on_agenda: the case waits for the committee."""


class CaseDeferredV1(CaseRef):
    """case.deferred: taken off the agenda for now (นำออกจากที่ประชุมชั่วคราว)."""


class CaseRestoredV1(CaseRef):
    """case.restored: back on the agenda."""


class CaseDisqualifiedV1(CaseRef):
    """case.disqualified: not qualified (บันทึกขาดคุณสมบัติ), final."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class CaseAmendedV1(CaseRef):
    """case.amended: the committee changed the welfare type and/or amount."""

    welfare_type_code = fields.String(required=True)
    amount = _money(required=True)


class LockItem(Schema):
    """A case approval wants locked, with the values approval holds for it."""

    case_id = fields.String(required=True)
    welfare_type_code = fields.String(required=True)
    amount = _money(required=True)


class BatchLockRequestedV1(Schema):
    """batch.lock_requested: approval asks intake to lock the cases of a new batch."""

    batch_id = fields.String(required=True)
    district_code = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    items = fields.List(fields.Nested(LockItem), required=True, validate=validate.Length(min=1))


class BatchApprovedV1(Schema):
    """batch.approved: the approval batch is final; payment builds its payout batch from it."""

    batch_id = fields.String(required=True)
    district_code = fields.String(required=True)
    fiscal_year = fields.Integer(required=True)
    number = fields.Integer(required=True)
    title = fields.String(required=True)
    meeting_date = fields.Date(required=True)
    approved_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    approved_by = fields.String(required=True)
    total_amount = _money(required=True)
    cases = fields.List(fields.Nested(LockedCaseSnapshot), required=True)


class BatchFailedV1(Schema):
    """batch.failed: a batch could not be approved (nothing stays locked)."""

    batch_id = fields.String(required=True)
    district_code = fields.String(required=True)
    reason = fields.String(required=True)


# --- payment ---------------------------------------------------------------------------------
class PayoutPaidV1(Schema):
    """payout.paid: the bank reported the transfer to this case's payee as successful."""

    case_id = fields.String(required=True)
    district_code = fields.String(required=True)
    approval_batch_id = fields.String(required=True)
    amount = _money(required=True)
    paid_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    ref2 = fields.String(required=True)


class PayoutFailedV1(Schema):
    """payout.failed: a transfer failed (``final`` when finance closed it: the case is payment_failed)."""

    case_id = fields.String(required=True)
    district_code = fields.String(required=True)
    approval_batch_id = fields.String(required=True)
    reason = fields.String(required=True)
    final = fields.Boolean(required=True)
    at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)


class PayoutReversedV1(Schema):
    """payout.reversed: the bank reversed a transfer reported paid (the money came back, reliability P10).

    The case is no longer paid: payment waits for corrected bank details (then pays again with a
    new ``ref2``: ``payout.paid``) or for finance to close the payee (``payout.failed``, final).
    ``ref2`` names the reversed transfer; ``reason`` / ``reason_code`` and ``value_date`` are what
    the bank's report said.  No account number: the receivers do not need it.
    """

    case_id = fields.String(required=True)
    district_code = fields.String(required=True)
    approval_batch_id = fields.String(required=True)
    amount = _money(required=True)
    ref2 = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    reason_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    value_date = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)


class PayoutBankDetailsCorrectedV1(Schema):
    """payout.bank_details_corrected: finance corrected a payee's bank details; intake follows."""

    case_id = fields.String(required=True)
    district_code = fields.String(required=True)
    bank = fields.Nested(BankSnapshot, required=True)
    by = fields.String(required=True)
    at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)


class BatchSettledV1(Schema):
    """batch.settled: every line is paid or closed (บันทึกการจ่ายสำเร็จทั้งหมด)."""

    approval_batch_id = fields.String(required=True)
    payout_batch_id = fields.String(required=True)
    district_code = fields.String(required=True)
    settled_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    settled_by = fields.String(required=True)
    paid_count = fields.Integer(required=True)
    paid_total = fields.Decimal(places=2, as_string=True, required=True)
    closed_count = fields.Integer(required=True)


class PaymentResultImportRequestedV1(Schema):
    """payment.result_import_requested: payment's own request to its worker to import an uploaded
    bank result report (internal to payment; sent through the outbox so an upload is never lost)."""

    import_id = fields.Integer(required=True)
    batch_id = fields.Integer(required=True)
    district_code = fields.String(required=True)


# --- intake: the state welfare card measure (docs/welfare_card.md) ------------------------------
# No national ID travels: a participant is named by intake's opaque ``participant_id``.
_PROVINCE = validate.Regexp(r"^[0-9]{2}$")
_AREA = validate.Regexp(r"^[0-9]{4}$")


class WelfareCardCount(Schema):
    """How many participants one (area, agency, group) has: the change an import made and the total after."""

    province_code = fields.String(required=True, validate=_PROVINCE)
    area_code = fields.String(required=True, validate=_AREA)
    agency = fields.String(required=True, validate=validate.OneOf(AGENCY_CODES))
    group = fields.String(required=True, validate=validate.OneOf(GROUP_CODES))
    delta = fields.Integer(required=True)
    total = fields.Integer(required=True, validate=validate.Range(min=0))


class WelfareCardParticipantsChangedV1(Schema):
    """welfare_card.participants_changed: an import of the participants list was applied.

    ``counts`` names only the (area, agency, group) keys whose number changed; ``total`` is the
    number after this import, so a consumer may simply set it.  Sent only when the import added or
    changed someone (re-importing the same file sends nothing).
    """

    import_id = fields.Integer(required=True)
    applied_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    applied_by = fields.String(required=True)
    province_code = fields.String(load_default=None, allow_none=True, validate=_PROVINCE)
    agency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AGENCY_CODES))
    lines = fields.Integer(required=True, validate=validate.Range(min=0))
    added = fields.Integer(required=True, validate=validate.Range(min=0))
    updated = fields.Integer(required=True, validate=validate.Range(min=0))
    unchanged = fields.Integer(required=True, validate=validate.Range(min=0))
    counts = fields.List(fields.Nested(WelfareCardCount), required=True)
    #: The development phase's recording deadline in force (configuration): missing results are
    #: late after it.
    development_record_by = fields.Date(load_default=None, allow_none=True)


class WelfareCardParticipantRef(Schema):
    """A participant as the summaries know them: opaque id, area, agency and group."""

    participant_id = fields.String(required=True)
    province_code = fields.String(required=True, validate=_PROVINCE)
    area_code = fields.String(required=True, validate=_AREA)
    agency = fields.String(required=True, validate=validate.OneOf(AGENCY_CODES))
    group = fields.String(required=True, validate=validate.OneOf(GROUP_CODES))


class WelfareCardDevelopmentRecordedV1(WelfareCardParticipantRef):
    """welfare_card.development_recorded: a project's result for one participant was recorded.

    One record per (participant, project): a correction sends the same ``development_id`` with a
    higher ``revision`` (keep the highest).  ``late`` when recorded after ``record_by``.
    """

    development_id = fields.Integer(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    project_id = fields.Integer(required=True)
    project_name = fields.String(required=True)
    project_kind = fields.String(required=True, validate=validate.OneOf(tuple(PROJECT_KINDS)))
    project_agency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AGENCY_CODES))
    project_province_code = fields.String(load_default=None, allow_none=True, validate=_PROVINCE)
    result = fields.String(required=True, validate=validate.OneOf(RESULT_CODES))
    recorded_on = fields.Date(required=True)
    recorded_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    recorded_by_role = fields.String(required=True)
    record_by = fields.Date(load_default=None, allow_none=True)
    late = fields.Boolean(required=True)


class WelfareCardFollowUpRecordedV1(WelfareCardParticipantRef):
    """welfare_card.follow_up_recorded: a district team recorded a participant's progress for a round.

    One record per (participant, round): a correction sends the same ``follow_up_id`` with a higher
    ``revision``.
    """

    follow_up_id = fields.Integer(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    round = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}-[0-9]{2}$"))
    progress = fields.String(required=True, validate=validate.OneOf(PROGRESS_CODES))
    recorded_on = fields.Date(required=True)
    recorded_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    record_by = fields.Date(load_default=None, allow_none=True)
    late = fields.Boolean(required=True)


class WelfareCardIntentRegisteredV1(Schema):
    """welfare_card.intent_registered: a district recorded a citizen's wish to join (แบบย่อ)."""

    intent_id = fields.Integer(required=True)
    province_code = fields.String(required=True, validate=_PROVINCE)
    area_code = fields.String(required=True, validate=_AREA)
    agency = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(AGENCY_CODES))
    place_id = fields.Integer(load_default=None, allow_none=True)
    registered_on = fields.Date(required=True)
    registered_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)


class WelfareCardImportRequestedV1(Schema):
    """welfare_card.import_requested: intake's own request to its worker to apply an uploaded list."""

    import_id = fields.Integer(required=True)


#: event type -> (version, schema, subscriber queues)
STAGE_EVENTS: dict[str, tuple[int, type[Schema], tuple[str, ...]]] = {
    "case.registered": (1, CaseRegisteredV1, ("approval", "reporting")),
    "case.updated": (1, CaseUpdatedV1, ("approval", "reporting", "payment")),
    "cases.locked": (1, CasesLockedV1, ("approval",)),
    "cases.lock_refused": (1, CasesLockRefusedV1, ("approval",)),
    "case.placed_on_agenda": (1, CasePlacedOnAgendaV1, ("intake", "reporting")),
    "case.deferred": (1, CaseDeferredV1, ("intake", "reporting")),
    "case.restored": (1, CaseRestoredV1, ("intake", "reporting")),
    "case.disqualified": (1, CaseDisqualifiedV1, ("intake", "reporting")),
    "case.amended": (1, CaseAmendedV1, ("intake", "reporting")),
    "batch.lock_requested": (1, BatchLockRequestedV1, ("intake",)),
    "batch.approved": (1, BatchApprovedV1, ("payment", "reporting", "intake")),
    "batch.failed": (1, BatchFailedV1, ("reporting",)),
    "payout.paid": (1, PayoutPaidV1, ("intake", "reporting")),
    "payout.failed": (1, PayoutFailedV1, ("intake", "reporting")),
    "payout.reversed": (1, PayoutReversedV1, ("intake", "reporting")),
    "payout.bank_details_corrected": (1, PayoutBankDetailsCorrectedV1, ("intake", "reporting")),
    "batch.settled": (1, BatchSettledV1, ("intake", "reporting", "approval")),
    "payment.result_import_requested": (1, PaymentResultImportRequestedV1, ("payment",)),
    "welfare_card.participants_changed": (1, WelfareCardParticipantsChangedV1, ("reporting",)),
    "welfare_card.development_recorded": (1, WelfareCardDevelopmentRecordedV1, ("reporting",)),
    "welfare_card.follow_up_recorded": (1, WelfareCardFollowUpRecordedV1, ("reporting",)),
    "welfare_card.intent_registered": (1, WelfareCardIntentRegisteredV1, ("reporting",)),
    "welfare_card.import_requested": (1, WelfareCardImportRequestedV1, ("intake",)),
}
