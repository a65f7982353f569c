"""The one synchronous call approval makes: intake checks a committee amendment against its rules.

The ceilings and programme rules live with the case in intake, so before the committee's new
welfare type or amount is saved, intake is asked (``POST /api/intake/cases/{id}/check-amendment``)
with the caller's own token.  Intake's 4xx answers are passed on with intake's message; intake
unreachable (or failing) is reported as unavailable, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests

from shared.config import env_float, service_url
from shared.money import money_str

#: One connection pool per process; tests mount adapters on it to reach an in-process intake.
HTTP = requests.Session()


class IntakeRefused(Exception):
    """Intake answered the check with an error meant for the caller (400/404/409/422...)."""

    def __init__(self, status: int, message: str, *, code: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.fields = fields or {}


class IntakeUnavailable(Exception):
    """Intake could not be reached or failed (the caller gets 503)."""


@dataclass(frozen=True)
class AmendmentCheck:
    """What intake confirmed: the welfare type (with its catalogue name) and the amount."""

    welfare_type_code: str
    welfare_type_name: str
    regulation_ref: str | None
    amount: Decimal


def _timeout() -> float:
    return env_float("INTAKE_TIMEOUT", 5.0, service="approval")


def _request(method: str, path: str, *, authorization: str | None, json: Any = None) -> requests.Response:
    headers = {"Accept": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    try:
        return HTTP.request(
            method, f"{service_url('intake')}{path}", json=json, headers=headers, timeout=_timeout()
        )
    except requests.RequestException as exc:
        raise IntakeUnavailable(f"{type(exc).__name__}") from exc


def _error(response: requests.Response) -> IntakeRefused | IntakeUnavailable:
    if response.status_code >= 500:
        return IntakeUnavailable(f"intake answered {response.status_code}")
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    return IntakeRefused(
        response.status_code,
        str(error.get("message") or "ระบบรับเรื่องไม่ยอมรับการแก้ไขนี้"),
        code=str(error.get("code") or "intake_refused"),
        fields={str(k): str(v) for k, v in (error.get("fields") or {}).items()},
    )


def _welfare_type(code: str, authorization: str | None) -> dict[str, Any]:
    response = _request("GET", "/api/intake/welfare-types", authorization=authorization)
    if response.status_code != 200:
        raise _error(response)
    for row in response.json():
        if row.get("code") == code:
            return dict(row)
    raise IntakeRefused(
        422,
        f"ไม่พบประเภทเงินสงเคราะห์รหัส {code}",
        code="unknown_welfare_type",
        fields={"welfare_type_code": code},
    )


def check_amendment(
    case_id: str, *, welfare_type_code: str, amount: Decimal, authorization: str | None
) -> AmendmentCheck:
    """Ask intake whether the case may get this welfare type and amount.

    :raises IntakeRefused: intake said no (its status and Thai message are kept).
    :raises IntakeUnavailable: intake did not answer, or failed.
    """
    response = _request(
        "POST",
        f"/api/intake/cases/{case_id}/check-amendment",
        authorization=authorization,
        json={"welfare_type_code": welfare_type_code, "amount": money_str(amount)},
    )
    if response.status_code != 200:
        raise _error(response)
    try:
        body = response.json() or {}
    except ValueError:
        body = {}
    nested = body.get("welfare_type") if isinstance(body.get("welfare_type"), dict) else {}
    name = body.get("welfare_type_name") or nested.get("name_th")
    if "regulation_ref" in body:
        ref = body.get("regulation_ref")
    elif "regulation_ref" in nested:
        ref = nested.get("regulation_ref")
    else:
        ref = None
        name = None  # ask the catalogue for both
    if not name:
        row = _welfare_type(welfare_type_code, authorization)
        name, ref = row.get("name_th") or welfare_type_code, row.get("regulation_ref")
    return AmendmentCheck(
        welfare_type_code=welfare_type_code, welfare_type_name=str(name), regulation_ref=ref, amount=amount
    )
