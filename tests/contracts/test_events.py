"""Event contracts: strict out, tolerant in, versions, routing."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from shared import events, messaging
from shared.db import utcnow

pytestmark = [pytest.mark.unit]


def test_envelope_round_trip() -> None:
    sent = events.build("ops.probe", {"key": "k", "sent_at": utcnow().isoformat()}, producer="intake")
    assert set(sent) == {"event_id", "event_type", "version", "occurred_at", "producer", "payload"}
    got = events.parse(sent)
    assert (got.event_id, got.event_type, got.version, got.producer) == (
        sent["event_id"],
        "ops.probe",
        1,
        "intake",
    )
    assert got.payload["key"] == "k"


def test_producer_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        events.build("ops.probe", {"key": "k", "sent_at": utcnow().isoformat(), "typo": 1}, producer="intake")


def test_consumer_tolerates_unknown_fields() -> None:
    sent = events.build("ops.probe", {"key": "k", "sent_at": utcnow().isoformat()}, producer="intake")
    sent["payload"]["added_later"] = "x"
    sent["extra_envelope_field"] = 1
    assert events.parse(sent).payload["key"] == "k"


def test_unknown_event_version_is_refused() -> None:
    sent = events.build("ops.probe", {"key": "k", "sent_at": utcnow().isoformat()}, producer="intake")
    sent["version"] = 99
    with pytest.raises(ValidationError):
        events.parse(sent)


def test_every_routed_event_has_a_schema_and_known_queues() -> None:
    for event_type, queues in messaging.ROUTES.items():
        assert (event_type, events.CURRENT_VERSION[event_type]) in events.SCHEMAS
        assert set(queues) <= set(messaging.QUEUES)


def test_task_names_follow_the_convention() -> None:
    assert messaging.task_name("approval", "case.registered") == "approval.on_case_registered"


def _reversal(**extra: object) -> dict[str, object]:
    return {
        "case_id": "c-1",
        "district_code": "1008",
        "approval_batch_id": "b-1",
        "amount": "3000.00",
        "ref2": "WF2567-000001",
        "reason": "R03 บัญชีปิดหลังโอน",
        "reason_code": "R03",
        "value_date": "2026-01-20",
        "at": utcnow().isoformat(),
        **extra,
    }


def test_payout_reversed_round_trips_to_intake_and_reporting() -> None:
    sent = events.build("payout.reversed", _reversal(), producer="payment")
    assert sent["version"] == 1
    got = events.parse(sent)
    assert (got.payload["case_id"], str(got.payload["amount"]), got.payload["reason_code"]) == (
        "c-1",
        "3000.00",
        "R03",
    )
    assert messaging.ROUTES["payout.reversed"] == ("intake", "reporting")
    # the bank's code and date are optional
    bare = _reversal()
    del bare["reason_code"], bare["value_date"]
    assert (
        events.parse(events.build("payout.reversed", bare, producer="payment")).payload["value_date"] is None
    )


@pytest.mark.parametrize("personal", ["account_no", "national_id"])
def test_payout_reversed_carries_no_account_number_or_national_id(personal: str) -> None:
    with pytest.raises(ValidationError):
        events.build("payout.reversed", _reversal(**{personal: "1234567890"}), producer="payment")


def test_payout_reversed_consumers_tolerate_added_fields() -> None:
    sent = events.build("payout.reversed", _reversal(), producer="payment")
    sent["payload"]["added_later"] = "x"
    assert events.parse(sent).payload["ref2"] == "WF2567-000001"
