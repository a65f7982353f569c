"""Unit tests for shared.banks: bank table, account validation and KTB §7 normalisation."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.banks import (
    BAAC_CODE,
    BANKS,
    GHB_CODE,
    GSB_CODE,
    KTB_CODE,
    Bank,
    clean_account_no,
    get_bank,
    ktb_receiving_fields,
    payable_banks,
    validate_bank_details,
)
from shared.errors import ValidationError

pytestmark = pytest.mark.unit

REALISTIC_PAYEE_BANKS = {
    "002", "004", "006", "011", "014", "022", "024", "025", "030",
    "033", "034", "066", "067", "069", "071", "073", "098",
}  # fmt: skip


def test_table_shape() -> None:
    codes = [bank.code for bank in BANKS]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)
    for bank in BANKS:
        assert len(bank.code) == 3
        assert bank.code.isascii()
        assert bank.name_th.startswith("ธนาคาร")
        assert bank.account_lengths
        assert all(n in (10, 12, 14, 15) for n in bank.account_lengths)


def test_constants() -> None:
    assert (KTB_CODE, BAAC_CODE, GSB_CODE, GHB_CODE) == ("006", "034", "030", "033")
    ktb = get_bank(KTB_CODE)
    assert ktb is not None
    assert ktb.short_name == "KTB"
    assert ktb.name_th == "ธนาคารกรุงไทย"


def test_bank_is_frozen() -> None:
    bank = get_bank("002")
    assert bank is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        bank.active = False  # type: ignore[misc]


def test_payable_banks_are_the_realistic_set() -> None:
    assert {bank.code for bank in payable_banks()} == REALISTIC_PAYEE_BANKS
    assert all(isinstance(bank, Bank) and bank.payable for bank in payable_banks())


@pytest.mark.parametrize("code", ["001", "005", "015", "065"])
def test_defunct_and_central_bank_are_inactive(code: str) -> None:
    bank = get_bank(code)
    assert bank is not None
    assert not bank.active
    assert not bank.payable


def test_unverified_thai_names_are_flagged() -> None:
    assert {bank.code for bank in BANKS if not bank.name_verified} == {"009", "023", "029", "079", "080"}


def test_account_lengths() -> None:
    expected = {
        "034": (12,),
        "030": (12, 15),
        "033": (12, 15),
        "067": (14,),
        "069": (10, 14),
        "066": (10, 12),
        "031": (12,),
        "006": (10,),
        "002": (10,),
    }
    for code, lengths in expected.items():
        bank = get_bank(code)
        assert bank is not None
        assert bank.account_lengths == lengths, code


def test_only_baac_requires_branch() -> None:
    assert [bank.code for bank in BANKS if bank.branch_code_required] == [BAAC_CODE]


def test_get_bank_unknown() -> None:
    assert get_bank("999") is None
    assert get_bank("6") is None
    assert get_bank(6) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("987-6-54321-0", "9876543210"), ("987 6 54321 0", "9876543210"), ("987.6.54321.0", "9876543210")],
)
def test_clean_account_no(raw: str, clean: str) -> None:
    assert clean_account_no(raw) == clean


@pytest.mark.parametrize(
    "raw", ["๙๘๗๖๕๔๓๒๑๐", "９８７６５４３２１０", "987/654321", "98765432l0", "", " - ", "+9876543210"]
)
def test_clean_account_no_rejects(raw: str) -> None:
    with pytest.raises(ValidationError) as exc:
        clean_account_no(raw)
    assert exc.value.field == "account_no"
    assert "เลขที่บัญชี" in exc.value.message


def test_validate_bank_details_ok() -> None:
    assert validate_bank_details("006", None, "987-6-54321-0") == ("006", None, "9876543210")
    assert validate_bank_details("004", "", "111-2-22333-4") == ("004", None, "1112223334")
    assert validate_bank_details("034", "1234", "020012345678") == ("034", "1234", "020012345678")
    assert validate_bank_details("030", None, "0200 1234 5678") == ("030", None, "020012345678")
    assert validate_bank_details("069", None, "1234567890") == ("069", None, "1234567890")
    assert validate_bank_details("069", None, "12345678901234") == ("069", None, "12345678901234")
    # Active but not in the retail list: still accepted (spec §9 requires "active" only).
    assert validate_bank_details("017", None, "1234567890") == ("017", None, "1234567890")


@pytest.mark.parametrize(
    ("bank", "code"),
    [
        ("999", "unknown_bank"),
        ("005", "inactive_bank"),
        ("001", "inactive_bank"),
        ("065", "inactive_bank"),
        ("6", "invalid_bank_code"),
        ("๐๐๖", "invalid_bank_code"),
        (" 006", "invalid_bank_code"),
    ],
)
def test_validate_bank_details_rejects_bank(bank: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_bank_details(bank, None, "9876543210")
    assert exc.value.field == "bank_code"
    assert exc.value.code == code
    assert "ธนาคาร" in exc.value.message


@pytest.mark.parametrize("branch", [None, "", "0000"])
def test_baac_requires_branch(branch: str | None) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_bank_details(BAAC_CODE, branch, "020012345678")
    assert exc.value.field == "branch_code"
    assert exc.value.message == "ธ.ก.ส. ต้องระบุรหัสสาขา"


@pytest.mark.parametrize("branch", ["123", "12345", "12a4", "๑๒๓๔", " 1234"])
def test_branch_must_be_4_ascii_digits(branch: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_bank_details("006", branch, "9876543210")
    assert exc.value.field == "branch_code"
    assert exc.value.message == "รหัสสาขาต้องเป็นตัวเลขอารบิก 4 หลัก"


@pytest.mark.parametrize(
    ("bank", "account", "allowed"),
    [
        ("006", "123456789", "10"),
        ("006", "12345678901", "10"),
        ("034", "1234567890", "12"),
        ("030", "1234567890", "12 หรือ 15"),
        ("067", "1234567890", "14"),
        ("069", "123456789012", "10 หรือ 14"),
    ],
)
def test_account_length_per_bank(bank: str, account: str, allowed: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_bank_details(bank, "1234", account)
    assert exc.value.field == "account_no"
    assert exc.value.code == "invalid_account_length"
    assert f"ต้องมี {allowed} หลัก" in exc.value.message
    assert f"(ที่กรอกมี {len(account)} หลัก)" in exc.value.message


@pytest.mark.parametrize(
    ("bank", "branch", "account", "expected"),
    [
        # Spec §10 test vectors.
        ("034", "1234", "020012345678", ("1234", "20012345678")),  # P3 BAAC
        ("006", None, "987-6-54321-0", ("0000", "09876543210")),  # P1 KTB
        ("004", None, "111-2-22333-4", ("0000", "01112223334")),  # P2 KBANK
        # §7 rules.
        ("006", "0123", "9876543210", ("0123", "09876543210")),
        ("031", None, "123456789012", ("0000", "23456789012")),  # HSBC: drop first digit
        ("067", None, "12345678901234", ("0000", "05678901234")),  # TISCO: drop first 4, pad
        ("069", None, "12345678901234", ("0000", "05678901234")),  # KKP 14
        ("069", None, "1234567890", ("0000", "01234567890")),  # KKP 10
        ("066", None, "123456789012", ("0000", "03456789012")),  # IBANK 12: drop first 2, pad
        ("066", None, "1234567890", ("0000", "01234567890")),  # IBANK 10
        ("030", None, "123456789012", ("9991", "23456789012")),  # GSB 12: 999 + d1
        ("033", None, "923456789012", ("9999", "23456789012")),  # GHB 12
        ("030", "5555", "123456789012", ("9991", "23456789012")),  # GSB: derived branch wins
        ("030", None, "123456789012345", ("1234", "56789012345")),  # GSB 15: first 4 / last 11
        ("033", None, "123456789012345", ("1234", "56789012345")),  # GHB 15
    ],
)
def test_ktb_receiving_fields(bank: str, branch: str | None, account: str, expected: tuple[str, str]) -> None:
    assert ktb_receiving_fields(bank, branch, account) == expected


def test_ktb_receiving_fields_validates_first() -> None:
    with pytest.raises(ValidationError) as exc:
        ktb_receiving_fields(BAAC_CODE, None, "020012345678")
    assert exc.value.field == "branch_code"
    with pytest.raises(ValidationError) as exc:
        ktb_receiving_fields("006", None, "98765432101234")
    assert exc.value.field == "account_no"
    with pytest.raises(ValidationError) as exc:
        ktb_receiving_fields("015", None, "9876543210")
    assert exc.value.field == "bank_code"


@given(
    st.sampled_from(sorted(REALISTIC_PAYEE_BANKS)),
    st.sampled_from([None, "0001", "1234"]),
    st.text(alphabet="0123456789", min_size=8, max_size=16),
)
def test_ktb_fields_are_fixed_width_ascii_digits(bank: str, branch: str | None, account: str) -> None:
    error_field: str | None = None
    try:
        branch_field, account_field = ktb_receiving_fields(bank, branch, account)
    except ValidationError as exc:
        error_field = exc.field or "?"
    if error_field is not None:
        assert error_field in ("branch_code", "account_no")
        return
    assert len(branch_field) == 4
    assert len(account_field) == 11
    assert (branch_field + account_field).isascii()
    assert (branch_field + account_field).isdigit()
