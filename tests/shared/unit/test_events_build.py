"""events.build: the wire form is the contract's whole shape, however the payload was given."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shared import events, messaging  # messaging registers the stage events
from shared.contracts import CaseUpdatedV1

assert messaging.ROUTES

pytestmark = [pytest.mark.unit]

SNAPSHOT = {
    "case_id": "c-1",
    "case_no": "Case2569-1",
    "fiscal_year": 2569,
    "district_code": "1008",
    "title": "นาง",
    "first_name": "สมศรี",
    "last_name": "ใจดี",
    "case_type": "general",
    "welfare_type_code": "MEDICAL",
    "welfare_type_name": "ค่ารักษาพยาบาล",
    "amount": "3000.00",
    "registered_at": "2026-11-20T03:00:00+00:00",
    "changed": ["phone"],
    "status": "registered",
}


def test_a_plain_complete_payload_is_sent_as_given() -> None:
    payload = {**SNAPSHOT, "regulation_ref": None, "bank": None}
    body = events.build("case.updated", payload, producer="intake")["payload"]
    assert body == payload


def test_defaults_the_load_adds_are_on_the_wire() -> None:
    body = events.build("case.updated", dict(SNAPSHOT), producer="intake")["payload"]
    assert body["bank"] is None
    assert body["regulation_ref"] is None


def test_python_values_are_dumped_to_their_json_form() -> None:
    payload = {**SNAPSHOT, "amount": Decimal("3000"), "registered_at": "2026-11-20T10:00:00+07:00"}
    body = events.build("case.updated", payload, producer="intake")["payload"]
    assert body["amount"] == "3000.00"
    assert dt.datetime.fromisoformat(body["registered_at"]) == dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)
    assert CaseUpdatedV1().load(body)["amount"] == Decimal("3000.00")


def test_a_payload_that_breaks_the_contract_is_refused() -> None:
    with pytest.raises(Exception, match="district_code"):
        events.build("case.updated", {**SNAPSHOT, "district_code": "x"}, producer="intake")
