"""Intake's pure rules: ceilings, repeat limits, programmes, statuses, numbers, dates, PDFs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.intake import domain
from services.intake.domain import CatalogueEntry, PriorCase, ProgrammeRule, RuleBroken
from shared.errors import ValidationError

pytestmark = [pytest.mark.unit]
AT = dt.datetime(2023, 1, 10, 3, tzinfo=dt.UTC)
MEDICAL = CatalogueEntry("MEDICAL", "ค่ารักษาพยาบาล", Decimal("5000.00"), "per_person_fy", None, True)
CAREER = CatalogueEntry("CAREER", "ทุนประกอบอาชีพ", Decimal("5000.00"), "per_family_fy", None, True)
FUNERAL = CatalogueEntry("FUNERAL", "ค่าจัดการศพ", Decimal("3000.00"), "per_case", 1, True)
COVID = ProgrammeRule(
    "COVID19_CAREER", "โครงการโควิด", "CAREER", "programme_covid19_career_prior_fund", "CAREER", 2564, True
)


def prior(
    n: int,
    amount: str,
    *,
    code: str = "MEDICAL",
    fy: int = 2566,
    status: str = "registered",
    house: str | None = None,
) -> PriorCase:
    return PriorCase(f"id-{n}", f"Case{fy}-{n}", fy, "1008", code, Decimal(amount), status, AT, house)


class TestCeilings:
    def test_per_case_ceiling(self) -> None:
        domain.check_entitlement(
            FUNERAL, amount=Decimal("3000.00"), fy=2566, person_cases=[], family_cases=None, house_id=None
        )
        with pytest.raises(RuleBroken) as err:
            domain.check_entitlement(
                FUNERAL, amount=Decimal("3000.01"), fy=2566, person_cases=[], family_cases=None, house_id=None
            )
        assert err.value.code == "ceiling_per_case"

    def test_per_person_counts_only_same_type_same_year_counted_statuses(self) -> None:
        cases = [
            prior(1, "2000.00"),
            prior(2, "1000.00", status="approved"),
            prior(3, "5000.00", status="disqualified"),
            prior(4, "5000.00", status="payment_failed"),
            prior(5, "5000.00", fy=2565),
            prior(6, "5000.00", code="CAREER"),
        ]
        domain.check_entitlement(
            MEDICAL, amount=Decimal("2000.00"), fy=2566, person_cases=cases, family_cases=None, house_id=None
        )
        with pytest.raises(RuleBroken) as err:
            domain.check_entitlement(
                MEDICAL,
                amount=Decimal("2000.01"),
                fy=2566,
                person_cases=cases,
                family_cases=None,
                house_id=None,
            )
        assert err.value.code == "ceiling_per_person_fy"
        assert "3,000.00" in err.value.message
        assert "Case2566-1" in err.value.message

    def test_excluding_the_case_itself(self) -> None:
        cases = [prior(1, "4000.00")]
        domain.check_entitlement(
            MEDICAL,
            amount=Decimal("5000.00"),
            fy=2566,
            person_cases=cases,
            family_cases=None,
            house_id=None,
            exclude_case_id="id-1",
        )

    def test_per_family_counts_the_house_and_the_person(self) -> None:
        family = [
            prior(10, "2000.00", code="CAREER", house="h"),
            prior(11, "1000.00", code="CAREER", status="paid", house="h"),
        ]
        own = [prior(12, "1000.00", code="CAREER", house="other")]
        domain.check_entitlement(
            CAREER, amount=Decimal("1000.00"), fy=2566, person_cases=own, family_cases=family, house_id="h"
        )
        with pytest.raises(RuleBroken) as err:
            domain.check_entitlement(
                CAREER,
                amount=Decimal("1000.01"),
                fy=2566,
                person_cases=own,
                family_cases=family,
                house_id="h",
            )
        assert err.value.code == "ceiling_per_family_fy"

    def test_per_family_needs_a_house(self) -> None:
        with pytest.raises(ValidationError) as err:
            domain.check_entitlement(
                CAREER, amount=Decimal("1.00"), fy=2566, person_cases=[], family_cases=None, house_id=None
            )
        assert err.value.field == "house_id"

    def test_repeat_limit(self) -> None:
        with pytest.raises(RuleBroken) as err:
            domain.check_entitlement(
                FUNERAL,
                amount=Decimal("1.00"),
                fy=2566,
                person_cases=[prior(1, "1.00", code="FUNERAL")],
                family_cases=None,
                house_id=None,
            )
        assert err.value.code == "repeat_limit"

    def test_inactive_type(self) -> None:
        off = CatalogueEntry("X", "ปิด", None, "per_case", None, False)
        with pytest.raises(RuleBroken, match="ปิดการใช้งาน"):
            domain.check_entitlement(
                off, amount=Decimal("1.00"), fy=2566, person_cases=[], family_cases=None, house_id=None
            )

    def test_no_ceiling(self) -> None:
        open_ended = CatalogueEntry("X", "ไม่จำกัด", None, "per_person_fy", None, True)
        domain.check_entitlement(
            open_ended,
            amount=Decimal("99999.00"),
            fy=2566,
            person_cases=[prior(1, "1.00", code="X")],
            family_cases=None,
            house_id=None,
        )


class TestProgramme:
    def test_refuses_a_career_fund_granted_in_2564(self) -> None:
        with pytest.raises(RuleBroken) as err:
            domain.check_programme(
                COVID,
                welfare_type_code="CAREER",
                person_cases=[prior(1, "5000.00", code="CAREER", fy=2564, status="paid")],
            )
        assert err.value.code == "programme_covid19_career_prior_fund"

    @pytest.mark.parametrize(
        ("fy", "status"), [(2563, "paid"), (2565, "paid"), (2564, "disqualified"), (2564, "registered")]
    )
    def test_accepts_other_years_and_ungranted_cases(self, fy: int, status: str) -> None:
        domain.check_programme(
            COVID,
            welfare_type_code="CAREER",
            person_cases=[prior(1, "5000.00", code="CAREER", fy=fy, status=status)],
        )

    def test_only_for_its_type(self) -> None:
        with pytest.raises(RuleBroken) as err:
            domain.check_programme(COVID, welfare_type_code="MEDICAL", person_cases=[])
        assert err.value.code == "programme_not_applicable"


class TestStatuses:
    @pytest.mark.parametrize(
        ("current", "kind", "expected"),
        [
            ("registered", "placed_on_agenda", "on_agenda"),
            ("on_agenda", "deferred", "deferred"),
            ("deferred", "restored", "on_agenda"),
            ("deferred", "disqualified", "disqualified"),
            ("on_agenda", "approved", "approved"),
            ("approved", "transfer_failed", "paying"),
            ("paying", "paid", "paid"),
            ("paying", "payment_failed", "payment_failed"),
            ("paid", "placed_on_agenda", None),
            ("disqualified", "restored", None),
            ("registered", "paid", None),
            ("approved", "disqualified", None),
            ("paid", "reversed", "reversed"),
            ("paying", "reversed", "reversed"),  # a success and its reversal in one bank report
            ("reversed", "paid", "paid"),
            ("reversed", "transfer_failed", "paying"),
            ("reversed", "payment_failed", "payment_failed"),
            ("reversed", "placed_on_agenda", None),
            ("payment_failed", "reversed", None),
            ("registered", "reversed", None),
        ],
    )
    def test_transitions(self, current: str, kind: str, expected: str | None) -> None:
        assert domain.next_status(current, kind) == expected

    def test_a_payout_event_older_than_the_latest_applied_one_is_stale(self) -> None:
        t = dt.datetime(2026, 1, 20, 3, tzinfo=dt.UTC)
        earlier = t - dt.timedelta(seconds=1)
        assert domain.payout_is_stale("paid", earlier, t)  # the paid that a reversal undid
        assert domain.payout_is_stale("reversed", earlier, t)  # a reversal older than the new payment
        assert not domain.payout_is_stale("paid", t, t)
        assert not domain.payout_is_stale("paid", earlier, None)
        assert not domain.payout_is_stale("approved", earlier, t)  # only payment's own events

    def test_a_reversed_case_is_open_counted_and_not_final(self) -> None:
        assert "reversed" in domain.STATUSES
        assert domain.STATUS_TH["reversed"] == "ธนาคารตีกลับการโอน รอแก้ไขข้อมูลบัญชี"
        assert "reversed" in domain.COUNTED_STATUSES & domain.OPEN_STATUSES & domain.GRANTED_STATUSES
        assert "reversed" not in domain.FINAL_STATUSES  # the officer may correct the bank details

    def test_locked_cases_change_only_bank_phone_email(self) -> None:
        assert domain.locked_change_refusal(["bank", "phone", "email"]) is None
        message = domain.locked_change_refusal(["amount", "phone"])
        assert message is not None
        assert "จำนวนเงิน" in message
        assert "หมายเลขโทรศัพท์ และอีเมล" in message


class TestDatesAndNumbers:
    def test_case_number(self) -> None:
        assert domain.case_number(2566, 2) == "Case2566-2"
        assert domain.parse_case_number("Case2566-2") == (2566, 2)
        assert domain.parse_case_number("Case2566") is None

    def test_fiscal_year_uses_the_bangkok_date(self) -> None:
        # 30 Sep 2023 17:30 UTC is already 1 Oct 2023 in Bangkok: fiscal 2567.
        assert domain.fiscal_year_of(dt.datetime(2023, 9, 30, 17, 30, tzinfo=dt.UTC)) == 2567
        assert domain.fiscal_year_of(dt.datetime(2023, 9, 30, 16, 59, tzinfo=dt.UTC)) == 2566

    def test_age_on_the_recording_date(self) -> None:
        assert domain.age_at_recording(dt.date(2015, 10, 2), dt.date(2022, 10, 11)) == 7
        with pytest.raises(ValidationError, match="อนาคต"):
            domain.age_at_recording(dt.date(2030, 1, 1), dt.date(2022, 10, 11))
        with pytest.raises(ValidationError, match="130"):
            domain.age_at_recording(dt.date(1800, 1, 1), dt.date(2022, 10, 11))

    def test_case_type(self) -> None:
        assert (domain.case_type_for(True), domain.case_type_for(False)) == ("disabled", "general")


class TestPdf:
    def test_accepts_a_pdf(self) -> None:
        domain.check_pdf(b"%PDF-1.7\n...\n%%EOF\r\n", max_bytes=100)

    @pytest.mark.parametrize(
        ("content", "exc", "status"),
        [
            (b"GIF89a", domain.UnsupportedDocument, 415),
            (b"%PDF-1.7\n...", domain.DocumentRejected, 400),
            (b"", domain.DocumentRejected, 400),
            (b"%PDF-" + b"x" * 200 + b"%%EOF", domain.DocumentTooLarge, 413),
        ],
    )
    def test_refusals(self, content: bytes, exc: type[domain.DocumentRejected], status: int) -> None:
        with pytest.raises(exc) as err:
            domain.check_pdf(content, max_bytes=100)
        assert err.value.status == status


class TestWarnings:
    def test_open_cases_grants_and_ceilings(self) -> None:
        cases = [
            prior(1, "4000.00", status="approved"),
            prior(2, "100.00", fy=2565, status="paid", code="CAREER"),
        ]
        warnings = domain.history_warnings(
            cases,
            fy=2566,
            district_names={"1008": "ป้อมปราบศัตรูพ่าย"},
            type_names={"MEDICAL": "ค่ารักษา"},
            entry=MEDICAL,
            amount=Decimal("2000.00"),
        )
        codes = [w.code for w in warnings]
        assert codes == ["open_case", "already_granted_this_fy", "ceiling_per_person_fy"]
        assert "ป้อมปราบศัตรูพ่าย" in warnings[0].message

    def test_programme_warning(self) -> None:
        cases = [prior(1, "5000.00", code="CAREER", fy=2564, status="paid")]
        warnings = domain.history_warnings(
            cases,
            fy=2566,
            district_names={},
            type_names={},
            entry=CAREER,
            house_id="h",
            family_cases=[],
            programmes=[COVID],
        )
        assert [w.code for w in warnings] == ["programme_covid19_career_prior_fund"]


def test_masking_for_the_audit_log() -> None:
    assert domain.masked_value("first_name", "สมศรี") == "***"
    assert domain.masked_value("amount", Decimal("10")) == "10.00"
    assert domain.masked_value(
        "bank", {"bank_code": "006", "account_no": "1234567890", "account_name": "ก"}
    ) == {
        "bank_code": "006",
        "account_no": "xxxxxx7890",
        "account_name": "***",
    }
    assert domain.mask_account("123") == "123"
