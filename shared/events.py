"""Event contracts: the envelope and one versioned marshmallow schema per event type.

Strict out, tolerant in: a producer loads its payload through the schema with
``unknown=RAISE`` (a typo fails in the producer's tests) and publishes the dump; a consumer
loads with ``unknown=EXCLUDE`` and reads only what it needs.  A breaking change gets a new
version; consumers keep loading older versions they still receive.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from shared.db import utcnow


class EnvelopeSchema(Schema):
    """What every message carries around its payload."""

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Length(min=3, max=80))
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    producer = fields.String(required=True)
    payload = fields.Dict(required=True)


@dataclass(frozen=True)
class Event:
    """An event as a consumer sees it: envelope fields plus the loaded payload."""

    event_id: str
    event_type: str
    version: int
    occurred_at: dt.datetime
    producer: str
    payload: dict[str, Any]


Money = fields.Decimal(places=2, as_string=True)


# --- payload schemas -------------------------------------------------------------------------
class ProbeV1(Schema):
    """ops.probe: a keyed, effect-free event for health checks, tests and benchmarks.

    The consumer records the key once.  ``fault`` makes the consumer misbehave on purpose and
    is honoured only when the process runs with ``ECASE_ALLOW_FAULTS=1`` (tests, chaos runs).
    """

    key = fields.String(required=True, validate=validate.Length(min=1, max=120))
    sent_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    fault = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(["raise", "exit", "sleep"])
    )
    sleep_ms = fields.Integer(load_default=0, validate=validate.Range(min=0, max=60_000))
    fail_times = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100))


#: (event_type, version) -> payload schema class.  Producers own their event types.
SCHEMAS: dict[tuple[str, int], type[Schema]] = {
    ("ops.probe", 1): ProbeV1,
}

#: The version a producer writes today.
CURRENT_VERSION: dict[str, int] = {"ops.probe": 1}


def register(event_type: str, version: int, schema: type[Schema], *, current: bool = True) -> None:
    """Add a payload schema (used by modules that define the stage events)."""
    SCHEMAS[(event_type, version)] = schema
    if current:
        CURRENT_VERSION[event_type] = max(version, CURRENT_VERSION.get(event_type, 0))


def build(
    event_type: str, payload: dict[str, Any], *, producer: str, version: int | None = None
) -> dict[str, Any]:
    """Validate a payload strictly and wrap it in an envelope ready to serialise as JSON."""
    version = version or CURRENT_VERSION[event_type]
    schema = _strict((event_type, version), SCHEMAS[(event_type, version)])
    loaded = schema.load(payload)
    # A payload that is already plain JSON and passed the strict load is its own wire form: the
    # dump would only rebuild it (it costs as much as the load for a batch of 2,000 cases).
    body = payload if _is_json_native(payload) and _same_keys(loaded, payload) else schema.dump(loaded)
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "version": version,
        "occurred_at": utcnow().isoformat(),
        "producer": producer,
        "payload": body,
    }


def _is_json_native(value: Any) -> bool:
    """True when ``value`` holds only what JSON holds (str, int, bool, None, lists, string-keyed dicts)."""
    if value is None or isinstance(value, str | int):  # bool is an int
        return True
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_native(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_json_native(v) for v in value)
    return False


def _same_keys(loaded: Any, payload: Any) -> bool:
    """True when the load added no field (``load_default``) at any depth: the wire form is complete."""
    if isinstance(loaded, dict):
        return (
            isinstance(payload, dict)
            and loaded.keys() == payload.keys()
            and all(_same_keys(v, payload[k]) for k, v in loaded.items())
        )
    if isinstance(loaded, list):
        if not isinstance(payload, list) or len(payload) != len(loaded):
            return False
        return all(_same_keys(a, b) for a, b in zip(loaded, payload, strict=True))
    return True


_TOLERANT: dict[Any, Schema] = {}
_STRICT: dict[Any, Schema] = {}


def _strict(key: Any, cls: type[Schema]) -> Schema:
    """One reusable strict schema instance per class (``unknown`` only affects loading)."""
    schema = _STRICT.get(key)
    if schema is None:
        schema = _STRICT[key] = cls(unknown=RAISE)
    return schema


def _tolerant(key: Any, cls: type[Schema]) -> Schema:
    """One reusable tolerant schema instance per class (building schemas is the costly part)."""
    schema = _TOLERANT.get(key)
    if schema is None:
        schema = _TOLERANT[key] = cls(unknown=EXCLUDE)
    return schema


def parse(message: dict[str, Any]) -> Event:
    """Load an envelope and its payload tolerantly (unknown fields are ignored)."""
    env = _tolerant("envelope", EnvelopeSchema).load(message)
    key = (env["event_type"], env["version"])
    if key not in SCHEMAS:
        raise ValidationError(f"unknown event {key[0]} v{key[1]}", field_name="event_type")
    payload = _tolerant(key, SCHEMAS[key]).load(env["payload"])
    return Event(
        event_id=str(env["event_id"]),
        event_type=env["event_type"],
        version=env["version"],
        occurred_at=env["occurred_at"],
        producer=env["producer"],
        payload=payload,
    )
