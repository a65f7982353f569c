"""Builders shared by payment's tests: approval batches as events, tokens, result reports."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal
from typing import Any

from shared import auth, events

_numbers = itertools.count(1)

#: The payees of the KTB spec's test vectors (§10.1), as approval sends them.
SPEC_PAYEES = (
    {
        "bank_code": "006",
        "branch_code": None,
        "account_no": "9876543210",
        "name": "นางสมศรี ใจดี",
        "amount": "600.00",
    },
    {
        "bank_code": "004",
        "branch_code": None,
        "account_no": "1112223334",
        "name": "นายสมชาย รักไทย",
        "amount": "1000.00",
        "phone": "0812345678",
    },
    {
        "bank_code": "034",
        "branch_code": "1234",
        "account_no": "020012345678",
        "name": "MR JOHN SMITH",
        "amount": "800.50",
    },
)


def case(
    *,
    district: str = "1008",
    bank_code: str = "004",
    branch_code: str | None = None,
    account_no: str | None = None,
    name: str = "นายทดสอบ ระบบ",
    amount: str = "3000.00",
    phone: str | None = None,
    email: str | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """A locked case snapshot (LockedCaseSnapshot) with its bank details."""
    n = next(_numbers)
    return {
        "case_id": case_id or str(uuid.uuid4()),
        "case_no": f"Case2569-{n}",
        "fiscal_year": 2569,
        "district_code": district,
        "title": "นาย",
        "first_name": f"ทดสอบ{n}",
        "last_name": "ระบบ",
        "case_type": "general",
        "welfare_type_code": "CAREER",
        "welfare_type_name": "ทุนประกอบอาชีพ",
        "regulation_ref": "บัญชีที่ 1 ลำดับที่ 3",
        "amount": amount,
        "registered_at": "2026-01-05T03:00:00+00:00",
        "bank": {
            "bank_code": bank_code,
            "branch_code": branch_code,
            "account_name": name,
            "account_no": account_no or f"{1000000000 + n:010d}",
        },
        "phone": phone,
        "email": email,
    }


def spec_cases(district: str = "1008") -> list[dict[str, Any]]:
    """The three payees of §10 (P1 KTB, P2 KBANK, P3 BAAC)."""
    return [
        case(
            district=district,
            bank_code=p["bank_code"],
            branch_code=p["branch_code"],
            account_no=p["account_no"],
            name=p["name"],
            amount=p["amount"],
            phone=p.get("phone"),
        )
        for p in SPEC_PAYEES
    ]


def batch_approved(
    cases: list[dict[str, Any]], *, district: str = "1008", batch_id: str | None = None
) -> dict[str, Any]:
    """A batch.approved envelope (as approval publishes it)."""
    total = sum((Decimal(c["amount"]) for c in cases), Decimal("0"))
    return events.build(
        "batch.approved",
        {
            "batch_id": batch_id or str(uuid.uuid4()),
            "district_code": district,
            "fiscal_year": 2569,
            "number": next(_numbers),
            "title": "รายการอนุมัติให้ความช่วยเหลือสำนักงานเขต ครั้งที่1-ปีงบประมาณ2569",
            "meeting_date": "2026-01-10",
            "approved_at": dt.datetime(2026, 1, 10, 3, 0, tzinfo=dt.UTC).isoformat(),
            "approved_by": f"head.{district}",
            "total_amount": f"{total:.2f}",
            "cases": cases,
        },
        producer="approval",
    )


def case_updated(
    case_: dict[str, Any], bank: dict[str, Any], *, occurred_at: dt.datetime | None = None
) -> dict[str, Any]:
    """A case.updated envelope carrying new bank details."""
    snapshot = {k: v for k, v in case_.items() if k not in ("bank", "phone", "email")}
    envelope = events.build(
        "case.updated",
        {**snapshot, "changed": ["bank"], "bank": bank, "status": "approved"},
        producer="intake",
    )
    if occurred_at is not None:
        envelope["occurred_at"] = occurred_at.isoformat()
    return envelope


def token(secret: str, role: str = "finance", district: str | None = "1008") -> dict[str, str]:
    """An Authorization header for a role."""
    value = auth.issue_token(username=f"{role}.{district}", role=role, district_code=district, secret=secret)[
        0
    ]
    return {"Authorization": f"Bearer {value}"}


def result_csv(rows: list[dict[str, str]]) -> bytes:
    """A normalised result CSV (spec §8.2 shape 3)."""
    columns = [
        "batch_id",
        "ref2",
        "running_no",
        "bank_code",
        "account_no",
        "receiver_name",
        "amount",
        "status",
        "reason_code",
        "reason_text",
        "value_date",
        "bank_txn_ref",
    ]
    lines = [",".join(columns)]
    for row in rows:
        lines.append(",".join(row.get(c, "") for c in columns))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
