"""The welfare_card.* event contracts: strict out, tolerant in, no national IDs, routing."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from shared import events, messaging
from shared.db import utcnow

pytestmark = [pytest.mark.unit]

REF = {
    "participant_id": "5b0c8c1e-2f57-4e44-9f1b-0c5d6b0a4b11",
    "province_code": "24",
    "area_code": "2401",
    "agency": "cdd",
    "group": "not_developed",
}
EXAMPLES = {
    "welfare_card.participants_changed": {
        "import_id": 7,
        "applied_at": "2019-02-01T03:00:00+00:00",
        "applied_by": "central.admin",
        "province_code": "24",
        "agency": "cdd",
        "lines": 3,
        "added": 2,
        "updated": 1,
        "unchanged": 0,
        "counts": [
            {
                "province_code": "24",
                "area_code": "2401",
                "agency": "cdd",
                "group": "not_developed",
                "delta": 2,
                "total": 2,
            },
            {
                "province_code": "24",
                "area_code": "2402",
                "agency": "cdd",
                "group": "not_developed",
                "delta": -1,
                "total": 0,
            },
        ],
        "development_record_by": "2019-07-15",
    },
    "welfare_card.development_recorded": {
        **REF,
        "development_id": 31,
        "revision": 1,
        "project_id": 4,
        "project_name": "ฝึกอาชีพการทำขนม",
        "project_kind": "agency",
        "project_agency": "cdd",
        "project_province_code": None,
        "result": "completed",
        "recorded_on": "2019-06-20",
        "recorded_at": "2019-06-21T02:10:00+00:00",
        "recorded_by_role": "agency_recorder",
        "record_by": "2019-07-15",
        "late": False,
    },
    "welfare_card.follow_up_recorded": {
        **REF,
        "follow_up_id": 12,
        "revision": 2,
        "round": "2019-06",
        "progress": "progressing",
        "recorded_on": "2019-06-25",
        "recorded_at": "2019-06-25T04:00:00+00:00",
        "record_by": "2019-07-15",
        "late": False,
    },
    "welfare_card.intent_registered": {
        "intent_id": 3,
        "province_code": "10",
        "area_code": "1008",
        "agency": "gsb",
        "place_id": 2,
        "registered_on": "2019-03-04",
        "registered_at": "2019-03-04T03:00:00+00:00",
    },
    "welfare_card.import_requested": {"import_id": 7},
}


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_round_trip_and_tolerant_read(event_type: str) -> None:
    sent = events.build(event_type, dict(EXAMPLES[event_type]), producer="intake")
    assert sent["version"] == 1
    sent["payload"] = {**sent["payload"], "added_later": "x"}
    got = events.parse(sent)
    assert got.event_type == event_type
    assert "added_later" not in got.payload


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_producer_refuses_a_national_id(event_type: str) -> None:
    with pytest.raises(ValidationError):
        events.build(event_type, {**EXAMPLES[event_type], "national_id": "1101700203451"}, producer="intake")


def test_unknown_agency_and_bad_area_are_refused() -> None:
    body = EXAMPLES["welfare_card.development_recorded"]
    with pytest.raises(ValidationError):
        events.build("welfare_card.development_recorded", {**body, "agency": "xyz"}, producer="intake")
    with pytest.raises(ValidationError):
        events.build("welfare_card.development_recorded", {**body, "area_code": "24"}, producer="intake")


def test_routes() -> None:
    for name in ("participants_changed", "development_recorded", "follow_up_recorded", "intent_registered"):
        assert messaging.ROUTES[f"welfare_card.{name}"] == ("reporting",)
    assert messaging.ROUTES["welfare_card.import_requested"] == ("intake",)
    assert (
        messaging.task_name("reporting", "welfare_card.participants_changed")
        == "reporting.on_welfare_card_participants_changed"
    )


def test_built_now() -> None:
    body = {**EXAMPLES["welfare_card.intent_registered"], "registered_at": utcnow().isoformat()}
    assert (
        events.build("welfare_card.intent_registered", body, producer="intake")["payload"]["intent_id"] == 3
    )
