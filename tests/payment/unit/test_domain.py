"""Payment rules (§8.3): what one matched result line does to a transfer and its payee."""

from __future__ import annotations

import pytest

from services.payment import domain
from services.payment.domain import Decision, LineState, Outcome

pytestmark = [pytest.mark.unit]


def decide(
    status: str,
    outcome: str = "pending",
    state: str = "sent",
    *,
    current: bool = True,
    mismatch: str | None = None,
) -> Decision:
    return domain.decide(
        status=status, file_line_outcome=outcome, line_state=state, is_current=current, mismatch=mismatch
    )


@pytest.mark.parametrize(
    ("args", "outcome", "line_state", "transfer"),
    [
        (("SUCCESS",), Outcome.APPLIED, LineState.PAID, "paid"),
        (("FAILED",), Outcome.APPLIED, LineState.FAILED, "failed"),
        (("UNKNOWN",), Outcome.REVIEW, LineState.REVIEW, "review"),
        (("SUCCESS", "review", "review"), Outcome.APPLIED, LineState.PAID, "paid"),
        (("SUCCESS", "paid", "paid"), Outcome.DUPLICATE, None, None),
        (("FAILED", "failed", "failed"), Outcome.DUPLICATE, None, None),
        (("UNKNOWN", "paid", "paid"), Outcome.DUPLICATE, None, None),
        (("FAILED", "paid", "paid"), Outcome.CONTRADICTION, None, None),
        (("SUCCESS", "failed", "pending"), Outcome.CONTRADICTION, None, None),
        (("SUCCESS", "cancelled", "pending"), Outcome.CONTRADICTION, None, None),
        (("FAILED", "cancelled", "pending"), Outcome.DUPLICATE, None, None),
        # reversals (reliability P10)
        (("REVERSED", "paid", "paid"), Outcome.REVERSED, LineState.REVERSED, "reversed"),
        (("REVERSED", "reversed", "reversed"), Outcome.DUPLICATE, None, None),
        (("REVERSED", "pending", "sent"), Outcome.INVALID_REVERSAL, None, None),
        (("REVERSED", "review", "review"), Outcome.INVALID_REVERSAL, None, None),
        (("REVERSED", "failed", "failed"), Outcome.INVALID_REVERSAL, None, None),
        (("REVERSED", "cancelled", "pending"), Outcome.INVALID_REVERSAL, None, None),
        (("SUCCESS", "reversed", "reversed"), Outcome.DUPLICATE, None, None),
        (("UNKNOWN", "reversed", "reversed"), Outcome.DUPLICATE, None, None),
        (("FAILED", "reversed", "reversed"), Outcome.CONTRADICTION, None, None),
    ],
)
def test_decisions(
    args: tuple[str, ...], outcome: Outcome, line_state: str | None, transfer: str | None
) -> None:
    got = decide(*args)
    assert (got.outcome, got.line_state, got.file_line_outcome) == (outcome, line_state, transfer)
    alerted = {Outcome.CONTRADICTION, Outcome.REVERSED, Outcome.INVALID_REVERSAL}
    assert (got.alert is not None) == (outcome in alerted)


def test_a_reversal_that_does_not_match_what_was_paid_changes_nothing() -> None:
    got = decide("REVERSED", "paid", "paid", mismatch="จำนวนเงินไม่ตรง")
    assert (got.outcome, got.line_state, got.file_line_outcome) == (Outcome.CONTRADICTION, None, None)
    assert got.alert


def test_every_state_has_exactly_one_bucket() -> None:
    assert {domain.bucket_of(state) for state in LineState} == set(domain.BUCKETS)
    counts = {state.value: {"count": 1, "amount": 10} for state in LineState}
    totals = domain.buckets(counts)
    assert sum(b["count"] for b in totals.values()) == len(LineState)
    assert sum(b["amount"] for b in totals.values()) == 10 * len(LineState)
    assert totals["pending"]["count"] == 2  # pending and sent
    assert totals["failed"]["count"] == 2  # failed and closed_failed
    assert totals["exceptions_open"]["count"] == 1  # review


def test_a_mismatch_is_review_never_paid() -> None:
    got = decide("SUCCESS", mismatch="จำนวนเงินไม่ตรง")
    assert (got.outcome, got.line_state) == (Outcome.REVIEW, LineState.REVIEW)


def test_success_for_a_payee_already_paid_elsewhere_is_a_contradiction() -> None:
    got = decide("SUCCESS", "pending", "paid", current=False)
    assert got.outcome is Outcome.CONTRADICTION
    assert got.line_state is None  # nothing about the payee changes
    assert got.alert


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("correct_bank", {"pending", "failed", "reversed"}),
        ("close_failed", {"pending", "failed", "reversed"}),
        ("resolve_review", {"review"}),
        ("send", {"pending", "failed"}),
    ],
)
def test_transitions(action: str, allowed: set[str]) -> None:
    for state in LineState:
        if state.value in allowed:
            domain.check_transition(action, state.value)
        else:
            with pytest.raises(domain.InvalidTransition) as caught:
                domain.check_transition(action, state.value)
            assert caught.value.message


@pytest.mark.parametrize(
    ("reported", "sent", "same"),
    [
        ("20012345678", ("020012345678", "20012345678"), True),  # BAAC: 12 digits vs the 11-digit field
        ("1112223334", ("1112223334", "01112223334"), True),
        ("0001112223334", ("1112223334",), True),
        ("1112223335", ("1112223334", "01112223334"), False),
        ("", ("1112223334",), False),
    ],
)
def test_accounts_compare_on_the_last_ten_digits(reported: str, sent: tuple[str, ...], same: bool) -> None:
    assert domain.accounts_match(reported, *sent) is same
