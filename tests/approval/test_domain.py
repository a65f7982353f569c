"""Approval's pure rules: decisions by status, batch numbering and titles, refusal messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.approval import domain
from services.approval.domain import AgendaStatus as S

pytestmark = pytest.mark.unit


def test_title_follows_the_manual() -> None:
    # Manual §5: "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่1-ปีงบประมาณ2566", with the district.
    assert (
        domain.batch_title("1008", 1, 2566)
        == "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขตป้อมปราบศัตรูพ่าย ครั้งที่1-ปีงบประมาณ2566"
    )
    assert domain.batch_title("1001", 12, 2567).endswith("เขตพระนคร ครั้งที่12-ปีงบประมาณ2567")


def test_batch_belongs_to_the_fiscal_year_of_its_meeting() -> None:
    assert domain.batch_fiscal_year(dt.date(2022, 9, 30)) == 2565
    assert domain.batch_fiscal_year(dt.date(2022, 10, 1)) == 2566
    assert domain.batch_fiscal_year(dt.date(2023, 9, 30)) == 2566


def test_next_number_is_one_more_than_the_highest() -> None:
    assert domain.next_batch_number([]) == 1
    assert domain.next_batch_number([1, 2, None]) == 3
    assert domain.next_batch_number([3, 1]) == 4


@pytest.mark.parametrize(
    ("check", "allowed"),
    [
        (domain.check_can_defer, {(S.ON_AGENDA, None)}),
        (domain.check_can_restore, {(S.DEFERRED, None)}),
        (domain.check_can_disqualify, {(S.ON_AGENDA, None), (S.DEFERRED, None)}),
        (domain.check_can_amend, {(S.ON_AGENDA, None), (S.DEFERRED, None)}),
    ],
    ids=["defer", "restore", "disqualify", "amend"],
)
def test_decisions_are_allowed_only_from_their_states(check: object, allowed: set[tuple[str, None]]) -> None:
    states = [
        (S.ON_AGENDA, None),
        (S.ON_AGENDA, "batch-being-locked"),
        (S.DEFERRED, None),
        (S.DISQUALIFIED, None),
        (S.IN_BATCH, "batch-approved"),
    ]
    for status, batch_id in states:
        if (status, batch_id) in allowed:
            check(status, batch_id)  # type: ignore[operator]
        else:
            with pytest.raises(domain.Conflict) as err:
                check(status, batch_id)  # type: ignore[operator]
            assert err.value.status == 409
            assert err.value.message  # Thai, for the person


def test_a_case_being_locked_says_so() -> None:
    with pytest.raises(domain.Conflict) as err:
        domain.check_can_defer(S.ON_AGENDA, "b1")
    assert err.value.code == "case_locking"
    assert "ระหว่างการจัดทำรายการอนุมัติ" in err.value.message


def test_reason_is_required_and_trimmed() -> None:
    assert domain.clean_reason("  ขาดเอกสาร  ") == "ขาดเอกสาร"
    for bad in (None, "", "   "):
        with pytest.raises(domain.DomainError) as err:
            domain.clean_reason(bad)
        assert (err.value.status, err.value.field) == (400, "reason")
    with pytest.raises(domain.DomainError):
        domain.clean_reason("ก" * 1001)


def test_total_is_exact() -> None:
    assert domain.total_of([Decimal("0.10")] * 3) == Decimal("0.30")
    assert domain.total_of([]) == Decimal("0.00")


def test_refusal_message_names_each_case_and_reason() -> None:
    message = domain.refusal_message(
        [
            {"case_id": "a", "case_no": "Case2566-2", "reason": "เคสถูกแก้ไขจำนวนเงิน"},
            {"case_id": "b", "case_no": None, "reason": "เคสถูกถอน"},
        ]
    )
    assert "Case2566-2: เคสถูกแก้ไขจำนวนเงิน" in message
    assert "b: เคสถูกถอน" in message
    assert "2 เคส" in message
