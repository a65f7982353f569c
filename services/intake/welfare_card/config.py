"""Settings of the welfare card measure: deadlines per phase, follow-up rounds, import limits.

Defaults are seed 002's (development done by 30 Jun 2562 and recorded by 15 Jul 2562; the June
2562 follow-up round).  A deployment overrides them with ``ECASE_INTAKE_WELFARE_CARD`` (JSON, read
by Flask's ``from_prefixed_env``) or the app's ``WELFARE_CARD`` config, e.g.::

    {"phases": {"development": {"due": "2020-06-30", "record_by": "2020-07-15"}},
     "rounds": {"2020-06": {"name_th": "รอบเดือนมิถุนายน 2563", "due": "2020-06-30",
                            "record_by": "2020-07-15"}},
     "max_import_bytes": 268435456}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask, current_app

from shared.welfare_card import DEFAULT_PHASES, DEFAULT_ROUNDS, Phase, Round

DEFAULT_MAX_IMPORT_BYTES = 256 * 1024 * 1024
#: Rejected lines kept and shown per import (the count is always exact).
MAX_LISTED_ERRORS = 1000
EXTENSION_KEY = "welfare_card_settings"


@dataclass(frozen=True)
class WelfareCardSettings:
    """What the measure's rules read from configuration."""

    phases: dict[str, Phase] = field(default_factory=lambda: {p.code: p for p in DEFAULT_PHASES})
    rounds: dict[str, Round] = field(default_factory=lambda: {r.code: r for r in DEFAULT_ROUNDS})
    max_import_bytes: int = DEFAULT_MAX_IMPORT_BYTES
    #: Uncompressed size an xlsx may reach (zip bombs).
    max_xlsx_unpacked_bytes: int = 2 * 1024 * 1024 * 1024

    @property
    def development(self) -> Phase:
        """The development phase (its ``record_by`` makes a result late)."""
        return self.phases["development"]


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"welfare card setting {what}: not an ISO date: {value!r}") from None


def load_settings(raw: Mapping[str, Any] | None) -> WelfareCardSettings:
    """Defaults overridden by a mapping (see the module docstring).

    :raises ValueError: a date that is not ISO, or an unknown phase.
    """
    settings = WelfareCardSettings()
    if not raw:
        return settings
    phases = dict(settings.phases)
    for code, values in (raw.get("phases") or {}).items():
        if code not in phases:
            raise ValueError(f"unknown welfare card phase {code!r}")
        current = phases[code]
        phases[code] = replace(
            current,
            name_th=values.get("name_th", current.name_th),
            due=_date(values.get("due", current.due), f"{code}.due"),
            record_by=(
                _date(values["record_by"], f"{code}.record_by")
                if values.get("record_by")
                else current.record_by
            ),
        )
    rounds = dict(settings.rounds)
    for code, values in (raw.get("rounds") or {}).items():
        rounds[code] = Round(
            code=code,
            name_th=str(values.get("name_th") or code),
            due=_date(values["due"], f"{code}.due"),
            record_by=_date(values["record_by"], f"{code}.record_by"),
        )
    return replace(
        settings,
        phases=phases,
        rounds=rounds,
        max_import_bytes=int(raw.get("max_import_bytes") or settings.max_import_bytes),
    )


def init_settings(app: Flask) -> WelfareCardSettings:
    """Read the settings once per app and keep them in ``app.extensions``."""
    settings = load_settings(app.config.get("WELFARE_CARD"))
    app.extensions[EXTENSION_KEY] = settings
    return settings


def settings() -> WelfareCardSettings:
    """The running app's settings."""
    found = current_app.extensions.get(EXTENSION_KEY)
    return found if isinstance(found, WelfareCardSettings) else init_settings(current_app)
