"""Property tests of the national-ID check (reliability P12, §6.3) at the two places input meets it.

``shared.thai.parse_national_id`` and intake's ``NationalIdField`` (what ``POST /cases`` and the
history look-up use).  tests/shared/unit/test_thai.py already covers arbitrary Unicode and
formatting round trips; this module pins down exactly which single-digit typos the mod-11 check
catches, with an independent reference computation, so nobody later treats it as stronger than
it is.
"""

from __future__ import annotations

import marshmallow
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.schemas import NationalIdField
from shared.errors import ValidationError
from shared.thai import national_id_check_digit, parse_national_id

pytestmark = [pytest.mark.unit]
DIGITS = "0123456789"


def residue(first12: str) -> int:
    """The reference: sum of digit x weight (13 down to 2), modulo 11 (not the code under test)."""
    return sum(int(d) * w for d, w in zip(first12, range(13, 1, -1), strict=True)) % 11


def reference_check_digit(first12: str) -> int:
    return (11 - residue(first12)) % 10


first12s = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from("12345678"),
    st.lists(st.sampled_from(DIGITS), min_size=11, max_size=11),
)
valid_ids = first12s.map(lambda f: f + str(reference_check_digit(f)))


def accepted(value: object) -> bool:
    try:
        parse_national_id(value)
    except ValidationError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(valid_ids)
def test_every_valid_id_is_accepted_by_the_parser_and_the_api_field(nid: str) -> None:
    assert national_id_check_digit(nid[:12]) == int(nid[12])
    assert parse_national_id(nid) == nid
    assert NationalIdField().deserialize(nid) == nid


@settings(max_examples=500, deadline=None)
@given(valid_ids, st.integers(min_value=0, max_value=12), st.sampled_from(DIGITS))
def test_a_single_digit_change_is_rejected_except_the_known_blind_spots(
    nid: str, position: int, digit: str
) -> None:
    """Rejected unless: digit 3 (weight 11 = 0 mod 11), or residues 0 and 10 (both give check digit 1).

    The check digit itself and a first digit of 0 or 9 are always caught.
    """
    if digit == nid[position]:
        return
    changed = nid[:position] + digit + nid[position + 1 :]
    if position == 12 or changed[0] in "09":
        blind = False
    else:
        blind = position == 2 or {residue(nid[:12]), residue(changed[:12])} == {0, 10}
    assert accepted(changed) is blind, (nid, changed)
    if not blind:
        with pytest.raises(marshmallow.ValidationError) as info:
            NationalIdField().deserialize(changed)
        assert "เลขประจำตัวประชาชน" in str(info.value.messages)


def test_the_blind_spots_are_a_small_share_of_all_single_digit_typos() -> None:
    """Measured over every ID with a fixed tail: digit 3 is blind, about 2 % of the other typos pass."""
    passed = total = 0
    for first in "12345678":
        nid12 = first + "10170000123"[:11]
        nid = nid12 + str(reference_check_digit(nid12))
        for position in (0, 1, *range(3, 12)):
            for digit in DIGITS:
                changed = nid[:position] + digit + nid[position + 1 :]
                if digit == nid[position] or changed[0] in "09":
                    continue
                total += 1
                passed += accepted(changed)
    assert 0 < passed / total < 0.05, (passed, total)


@given(
    valid_ids,
    st.integers(min_value=0, max_value=12),
    st.sampled_from(["๐", "๑", "๙", "０", "１", "９", "\u0661", "\ufeff", " ", "-"]),
)
def test_non_ascii_digits_and_separators_are_refused_with_the_field_named(
    nid: str, position: int, char: str
) -> None:
    """P12: Thai, full-width and Arabic-Indic digits, BOM, spaces and dashes never pass implicitly."""
    changed = nid[:position] + char + nid[position + 1 :]
    with pytest.raises(ValidationError) as info:
        parse_national_id(changed, field="national_id")
    assert info.value.field == "national_id"
    assert info.value.code in ("invalid_national_id", "invalid_national_id_checksum")
    with pytest.raises(marshmallow.ValidationError):
        NationalIdField().deserialize(changed)
