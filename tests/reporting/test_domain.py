"""Reporting's pure rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.reporting import domain

pytestmark = [pytest.mark.unit]
T = dt.datetime(2022, 10, 3, tzinfo=dt.UTC)
LATER = T + dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("current", "current_at", "new", "new_at", "expected"),
    [
        (None, None, "registered", T, True),
        ("registered", T, "on_agenda", T, True),
        ("on_agenda", LATER, "registered", T, False),  # a late registration never regresses
        ("on_agenda", T, "deferred", LATER, True),
        ("deferred", LATER, "on_agenda", T, False),  # same rank: the later event wins
        ("approved", T, "on_agenda", LATER, False),  # a stale intake status after approval
        ("approved", T, "paying", LATER, True),
        ("paid", LATER, "paying", T, False),  # a late failed attempt after the payment
        ("paying", T, "payment_failed", LATER, True),
        ("disqualified", T, "disqualified", LATER, False),
    ],
)
def test_status_may_change_follows_rank_then_time(
    current: str | None, current_at: dt.datetime | None, new: str, new_at: dt.datetime, expected: bool
) -> None:
    assert domain.status_may_change(current, current_at, new, new_at) is expected


def test_bangkok_date_is_the_office_day() -> None:
    assert domain.bangkok_date(dt.datetime(2022, 9, 30, 17, 30, tzinfo=dt.UTC)) == dt.date(2022, 10, 1)
    assert domain.bangkok_date(dt.datetime(2022, 9, 30, 16, 59, tzinfo=dt.UTC)) == dt.date(2022, 9, 30)


def _case(**kw: object) -> SimpleNamespace:
    base = {
        "fiscal_year": 2566,
        "district_code": "1008",
        "welfare_type_code": "CAREER",
        "registered_month": "2022-10",
        "registered_on": dt.date(2022, 10, 3),
        "status": "approved",
        "amount_requested": Decimal("5000.00"),
        "amount_approved": Decimal("4000.00"),
        "paid_amount": None,
    }
    return SimpleNamespace(**{**base, **kw})


def test_contribution_counts_a_case_once_per_dimension_with_its_figures() -> None:
    approved = domain.contribution(_case())
    assert approved is not None
    assert approved.keys == (
        (2566, "1008", "status", "approved"),
        (2566, "1008", "welfare_type", "CAREER"),
        (2566, "1008", "month", "2022-10"),
    )
    assert dict(zip(domain.MEASURES, approved.measures, strict=True)) == {
        "case_count": 1,
        "requested_satang": 500000,
        "approved_count": 1,
        "approved_satang": 400000,
        "paid_count": 0,
        "paid_satang": 0,
        "failed_count": 0,
        "failed_satang": 0,
    }
    paid = domain.contribution(_case(status="paid", paid_amount=Decimal("4000.00")))
    assert paid is not None
    assert paid.measures == (1, 500000, 1, 400000, 1, 400000, 0, 0)
    failed = domain.contribution(_case(status="payment_failed"))
    assert failed is not None
    assert failed.measures == (1, 500000, 1, 400000, 0, 0, 1, 400000)
    on_agenda = domain.contribution(_case(status="on_agenda", amount_approved=None))
    assert on_agenda is not None
    assert on_agenda.measures == (1, 500000, 0, 0, 0, 0, 0, 0)


def test_a_case_without_its_snapshot_counts_nowhere() -> None:
    assert domain.contribution(_case(fiscal_year=None)) is None
    assert domain.contribution(_case(status=None)) is None
    assert domain.intake_day(_case(registered_on=None)) is None


def test_share_percent() -> None:
    assert domain.share_percent(Decimal("250.00"), Decimal("1000.00")) == Decimal("25.00")
    assert domain.share_percent(Decimal("1.00"), Decimal("3.00")) == Decimal("33.33")
    assert domain.share_percent(Decimal("1.00"), None) is None
    assert domain.share_percent(Decimal("1.00"), Decimal("0")) is None


def test_template_override_replaces_only_the_keys_given() -> None:
    template = domain.effective_template("tk1", {"title": "แบบ ทค.๑", "unknown": "x", "footer_lines": None})
    assert template["title"] == "แบบ ทค.๑"
    assert "unknown" not in template
    assert template["footer_lines"] == []
    assert [s["label"] for s in template["signatures"]] == ["ผู้จัดทำ", "ผู้ตรวจสอบ", "ผู้อนุมัติ"]
    # the default itself is never changed by an override
    assert domain.DEFAULT_TEMPLATES["tk1"]["title"] == "แบบ ทค.1"


def test_fill_replaces_known_placeholders_only() -> None:
    values = {"district_name": "ป้อมปราบศัตรูพ่าย"}
    assert domain.fill("สำนักงานเขต{district_name} {other} {0.__class__}", values) == (
        "สำนักงานเขตป้อมปราบศัตรูพ่าย {other} {0.__class__}"
    )


def test_names_banks_and_masks() -> None:
    assert domain.full_name("เด็กชาย", "ทดสอบ1", "ทดสอบ1") == "เด็กชาย ทดสอบ1 ทดสอบ1"
    assert domain.full_name(None, "ก", " ") == "ก"
    assert domain.bank_group("006") == "ktb"
    assert domain.bank_group("004") == "other"
    assert domain.bank_group(None) == "other"
