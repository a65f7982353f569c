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
