"""Payment settings, read from ``ECASE_PAYMENT_<NAME>`` (then ``ECASE_<NAME>``) via shared.config.

The KTB Company ID, the debit account, the sender name and the service types are issued or
confirmed by Krungthai for the paying office; the KTB spec's PROPOSAL/UNVERIFIED items are
settings too (docs/decisions.md §17).  Without them the service runs on **placeholders** that
are fine for demos and tests only: every file made with them says so (``placeholder_config``, the
``X-Ecase-Placeholder-Config`` header, the warning in the log) so nobody uploads one to the bank.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from services.payment.ktb import MAX_RUNNING_NO, FileSettings
from services.payment.reports import ReportLimits, vocabulary_problems
from shared.config import env, env_bool, env_int
from shared.money import MAX_AMOUNT

log = logging.getLogger(__name__)
SERVICE = "payment"
BANGKOK = ZoneInfo("Asia/Bangkok")

#: Demo values, never valid at the bank (the debit account is all zeros).
PLACEHOLDERS = {
    "KTB_COMPANY_ID": "DEMO000000",
    "KTB_DEBIT_ACCOUNT": "0000000000",
    "KTB_SENDER_NAME": "E-CASE DEMO SENDER",
}
_OVERRIDE_NAMES = {
    "company_id": "KTB_COMPANY_ID",
    "debit_account": "KTB_DEBIT_ACCOUNT",
    "sender_name": "KTB_SENDER_NAME",
}
MB = 1024 * 1024


class SettingsError(ValueError):
    """A payment setting has a value the service cannot work with."""


def _decimal(name: str, default: str) -> Decimal:
    raw = env(name, default, service=SERVICE) or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SettingsError(f"ECASE_PAYMENT_{name} must be an amount like {default}") from None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise SettingsError(f"ECASE_PAYMENT_{name} must be a positive amount with at most 2 decimals")
    return value


def _codes(name: str) -> frozenset[str]:
    raw = env(name, "", service=SERVICE) or ""
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class PaymentSettings:
    """Everything payment reads from its environment."""

    file: FileSettings
    limits: ReportLimits
    effective_date_offset_days: int = 1
    file_name_pattern: str = "KTB_{kind}_B{batch_id}_F{file_id}_{date}.txt"
    placeholders: tuple[str, ...] = ()
    import_pause_ms: int = 0  # test-only fault (honoured with ECASE_ALLOW_FAULTS=1): see tasks.py
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uses_placeholders(self) -> bool:
        """True when a KTB identity setting is a demo placeholder."""
        return bool(self.placeholders)

    def today(self) -> dt.date:
        """Today in Bangkok (the bank's calendar)."""
        return dt.datetime.now(BANGKOK).date()

    def default_effective_date(self) -> dt.date:
        """Today (Asia/Bangkok) plus the configured offset, never in the past."""
        return self.today() + dt.timedelta(days=max(0, self.effective_date_offset_days))

    def file_name(self, *, group: str, batch_id: int, file_id: int, date: dt.date, ext: str) -> str:
        """The ASCII download name of a file (spec §2.1 PROPOSAL, configurable)."""
        kind = "DIRECT" if group == "ktb" else "STD"
        base = self.file_name_pattern.format(
            kind=kind, batch_id=batch_id, file_id=file_id, date=f"{date:%Y%m%d}"
        )
        stem = base.rsplit(".", 1)[0] if "." in base else base
        name = f"{stem}.{ext}"
        if self.uses_placeholders:
            name = f"PLACEHOLDER_{name}"
        return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name)


def load_settings(overrides: Mapping[str, Any] | None = None) -> PaymentSettings:
    """Read and check the settings; ``overrides`` (tests) replace single FileSettings/ReportLimits fields.

    :raises SettingsError: a value is malformed (the service refuses to start).
    """
    overridden = {_OVERRIDE_NAMES.get(key) for key in (overrides or {})}
    placeholders = tuple(
        name for name in PLACEHOLDERS if not env(name, None, service=SERVICE) and name not in overridden
    )
    file_settings = FileSettings(
        company_id=env("KTB_COMPANY_ID", PLACEHOLDERS["KTB_COMPANY_ID"], service=SERVICE) or "",
        debit_account=env("KTB_DEBIT_ACCOUNT", PLACEHOLDERS["KTB_DEBIT_ACCOUNT"], service=SERVICE) or "",
        sender_name=env("KTB_SENDER_NAME", PLACEHOLDERS["KTB_SENDER_NAME"], service=SERVICE) or "",
        service_type_direct=env("KTB_SERVICE_TYPE_DIRECT", "14", service=SERVICE) or "14",
        service_type_standard=env("KTB_SERVICE_TYPE_STANDARD", "59", service=SERVICE) or "59",
        standard_line_limit=_decimal("STANDARD_LINE_LIMIT", "2000000.00"),
        direct_line_limit=_decimal("DIRECT_LINE_LIMIT", str(MAX_AMOUNT)),
        max_lines_per_file=env_int("KTB_MAX_LINES_PER_FILE", MAX_RUNNING_NO, service=SERVICE),
        xlsx_number_row=env_bool("KTB_XLSX_NUMBER_ROW", True, service=SERVICE),
    )
    limits = ReportLimits(
        max_bytes=env_int("MAX_RESULT_BYTES", 20 * MB, service=SERVICE),
        xlsx_max_uncompressed=env_int("XLSX_MAX_UNCOMPRESSED_BYTES", 100 * MB, service=SERVICE),
        xlsx_max_entries=env_int("XLSX_MAX_ENTRIES", 1000, service=SERVICE),
        success_tokens=_codes("RESULT_SUCCESS_TOKENS"),
        failed_tokens=_codes("RESULT_FAILED_TOKENS"),
        reversal_tokens=_codes("RESULT_REVERSAL_TOKENS"),
        echo_success_codes=_codes("KTB_ECHO_SUCCESS_CODES"),
        echo_failed_codes=_codes("KTB_ECHO_FAILED_CODES"),
        echo_reversed_codes=_codes("KTB_ECHO_REVERSED_CODES"),
    )
    settings = PaymentSettings(
        file=file_settings,
        limits=limits,
        effective_date_offset_days=env_int("KTB_EFFECTIVE_DATE_OFFSET_DAYS", 1, service=SERVICE),
        file_name_pattern=env("KTB_FILE_NAME_PATTERN", PaymentSettings.file_name_pattern, service=SERVICE)
        or PaymentSettings.file_name_pattern,
        placeholders=placeholders,
        import_pause_ms=env_int("IMPORT_PAUSE_MS", 0, service=SERVICE)
        if env_bool("ALLOW_FAULTS", False)
        else 0,
    )
    if overrides:
        file_over = {k: v for k, v in overrides.items() if k in FileSettings.__dataclass_fields__}
        limit_over = {k: v for k, v in overrides.items() if k in ReportLimits.__dataclass_fields__}
        top_over = {k: v for k, v in overrides.items() if k in PaymentSettings.__dataclass_fields__}
        settings = replace(
            settings,
            file=replace(settings.file, **file_over),
            limits=replace(settings.limits, **limit_over),
            **top_over,
        )
    problems = settings.file.problems() + vocabulary_problems(settings.limits)
    if settings.effective_date_offset_days < 0:
        problems.append("KTB_EFFECTIVE_DATE_OFFSET_DAYS must not be negative")
    if problems:
        raise SettingsError("invalid payment settings: " + "; ".join(problems))
    if settings.uses_placeholders:
        log.warning(
            "payment runs on placeholder KTB settings (%s): files are for tests and demos only",
            ", ".join(settings.placeholders),
        )
    return settings
