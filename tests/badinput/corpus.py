"""The bad-input corpus (reliability.md S4, S6, P12): malformed requests and files, as data.

Each :class:`Entry` is one HTTP request to the gateway of a live system with a real token: who
sends it, the method and path (``{case_id}`` and the like are filled from the seeded world),
the body (JSON, raw bytes with a content type, or a multipart upload), the statuses allowed
and, where the answer must name it, the error code and the field.  Every entry must be refused
with 4xx in the CONTRACT's error shape with a Thai message, and the whole corpus must leave
every database as it found it (tests/badinput/test_corpus.py).

``ASYNC_UPLOADS`` are result reports that pass the upload checks (type, size, container) and
are refused by the payment worker while it parses them: the request answers 202 and the import
ends ``rejected`` with Thai per-line errors (the test checks that nothing else changed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.badinput import files as f
from tests.intake.support import case_body, national_id

MISSING: Any = object()
MB = 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One malformed request and what it must get back."""

    name: str
    user: str | None
    method: str
    path: str
    json: Any = MISSING
    raw: bytes | None = None
    content_type: str | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: tuple[int, ...] = (400,)
    code: str | None = None
    field: str | None = None
    #: A server in front of Flask (gunicorn) answers before the application: no JSON body.
    plain: bool = False


OFFICER, HEAD, FINANCE = "officer.1008", "head.1008", "finance.1008"
ADMIN, OPERATOR, OTHER_OFFICER = "central.admin", "operator", "officer.1001"
VALID_NID = "1101700001237"
BAD_CHECK_NID = "1101700001238"


def case(**overrides: Any) -> dict[str, Any]:
    """A valid case body with fields replaced (``None`` values are dropped, to test missing fields)."""
    body = case_body(
        **{"national_id": national_id(), **{k: v for k, v in overrides.items() if v is not MISSING}}
    )
    return {k: v for k, v in body.items() if overrides.get(k, 0) is not MISSING}


def drop(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def bank(**overrides: Any) -> dict[str, Any]:
    return {"bank_code": "014", "account_name": "นายทดสอบ ใจดี", "account_no": "9876543210", **overrides}


def truncated(body: Any) -> bytes:
    text = json.dumps(body, ensure_ascii=False).encode()
    return text[: max(1, len(text) // 2)]


def _json_endpoint_basics(user: str, method: str, path: str, valid: Any, tag: str) -> list[Entry]:
    """The shapes every JSON body endpoint must refuse: truncated, wrong type, wrong content type."""
    return [
        Entry(
            f"{tag}: truncated JSON",
            user,
            method,
            path,
            raw=truncated(valid),
            content_type="application/json",
        ),
        Entry(f"{tag}: JSON array body", user, method, path, json=[valid]),
        Entry(f"{tag}: JSON string body", user, method, path, json="x"),
        Entry(f"{tag}: JSON null body", user, method, path, raw=b"null", content_type="application/json"),
        Entry(
            f"{tag}: JSON sent as text/plain",
            user,
            method,
            path,
            raw=json.dumps(valid).encode(),
            content_type="text/plain",
            status=(400, 415),
        ),
        Entry(
            f"{tag}: body in latin-1, not UTF-8",
            user,
            method,
            path,
            raw=b'{"x": "\xe9\xe8"}',
            content_type="application/json",
        ),
        Entry(
            f"{tag}: unknown extra field",
            user,
            method,
            path,
            json={**valid, "is_admin": True},
            field="is_admin",
        )
        if isinstance(valid, dict)
        else None,
    ]


def _gateway() -> list[Entry]:
    login = {"username": "officer.1008", "password": "x"}
    out = _json_endpoint_basics(None, "POST", "/api/auth/token", login, "login")
    out += [
        Entry(
            "login: username is a number",
            None,
            "POST",
            "/api/auth/token",
            json={"username": 5, "password": "x"},
            field="username",
        ),
        Entry(
            "login: password missing",
            None,
            "POST",
            "/api/auth/token",
            json={"username": "officer.1008"},
            field="password",
        ),
        Entry(
            "login: username of 81 characters",
            None,
            "POST",
            "/api/auth/token",
            json={"username": "u" * 81, "password": "x"},
            field="username",
        ),
        Entry(
            "login: password of 257 characters",
            None,
            "POST",
            "/api/auth/token",
            json={"username": "a", "password": "p" * 257},
            field="password",
        ),
        Entry(
            "login: empty username",
            None,
            "POST",
            "/api/auth/token",
            json={"username": "", "password": "x"},
            field="username",
        ),
        Entry(
            "login: JSON nested 2000 levels deep",
            None,
            "POST",
            "/api/auth/token",
            raw=b"[" * 2000 + b"]" * 2000,
            content_type="application/json",
        ),
        Entry(
            "login: body over MAX_CONTENT_LENGTH",
            None,
            "POST",
            "/api/auth/token",
            raw=b"{" + b" " * (26 * MB) + b"}",
            content_type="application/json",
            status=(413,),
        ),
        Entry("me: no token", None, "GET", "/api/auth/me", status=(401,), code="missing_token"),
        Entry(
            "me: token that is not a JWT",
            None,
            "GET",
            "/api/auth/me",
            headers={"Authorization": "Bearer not.a.jwt"},
            status=(401,),
            code="invalid_token",
        ),
        Entry(
            "me: Basic instead of Bearer",
            None,
            "GET",
            "/api/auth/me",
            headers={"Authorization": "Basic b2ZmaWNlcjp4"},
            status=(401,),
        ),
        Entry(
            "me: forged token (alg none)",
            None,
            "GET",
            "/api/auth/me",
            headers={
                "Authorization": "Bearer eyJhbGciOiJub25lIn0."
                "eyJzdWIiOiJjZW50cmFsLmFkbWluIiwicm9sZSI6ImNlbnRyYWxfYWRtaW4ifQ."
            },
            status=(401,),
        ),
        Entry("jobs: id naming no service", OFFICER, "GET", "/api/jobs/nosuch-0123", status=(404,)),
        Entry("jobs: id with path tricks", OFFICER, "GET", "/api/jobs/..%2F..%2Fetc%2Fpasswd", status=(404,)),
        Entry("jobs: id with NUL", OFFICER, "GET", "/api/jobs/intake-%00", status=(404,)),
        Entry(
            "dead letter replay: malformed id",
            OPERATOR,
            "POST",
            "/api/ops/dead-letters/intake-abc/replay",
            status=(404,),
        ),
        Entry(
            "dead letter replay: unknown service",
            OPERATOR,
            "POST",
            "/api/ops/dead-letters/nosuch-1/replay",
            status=(404,),
        ),
        Entry("admin users: page 0", ADMIN, "GET", "/api/admin/users?page=0", field="page"),
        Entry(
            "admin users: per_page 100000", ADMIN, "GET", "/api/admin/users?per_page=100000", field="per_page"
        ),
        Entry("admin users: unknown role filter", ADMIN, "GET", "/api/admin/users?role=root", field="role"),
        Entry("admin users: active=maybe", ADMIN, "GET", "/api/admin/users?active=maybe", field="active"),
        Entry("admin users: q with NUL", ADMIN, "GET", "/api/admin/users?q=a%00b", field="q"),
        Entry("admin users: q of 81 characters", ADMIN, "GET", "/api/admin/users?q=" + "a" * 81, field="q"),
    ]
    user = {
        "username": "new.user",
        "full_name": "ผู้ใช้ใหม่",
        "role": "officer",
        "district_code": "1008",
        "password": "longenough1",
    }
    out += _json_endpoint_basics(ADMIN, "POST", "/api/admin/users", user, "create user")
    out += [
        Entry(
            "create user: username with spaces",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "username": "a b c"},
            field="username",
        ),
        Entry(
            "create user: username with ../",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "username": "../etc"},
            field="username",
        ),
        Entry(
            "create user: unknown role",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "role": "superuser"},
            field="role",
        ),
        Entry(
            "create user: district of 3 digits",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "district_code": "108"},
            field="district_code",
        ),
        Entry(
            "create user: password of 7 characters",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "password": "short12"},
            field="password",
        ),
        Entry(
            "create user: full name with NUL",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "full_name": "ก\x00ข"},
            field="full_name",
        ),
        Entry(
            "create user: role is a list",
            ADMIN,
            "POST",
            "/api/admin/users",
            json={**user, "role": ["officer"]},
            field="role",
        ),
        Entry(
            "create user: officer without district",
            ADMIN,
            "POST",
            "/api/admin/users",
            json=drop(user, "district_code"),
            status=(400, 422),
            field="district_code",
        ),
        Entry(
            "patch user: active is a string",
            ADMIN,
            "PATCH",
            "/api/admin/users/officer.1001",
            json={"active": "yes please"},
            field="active",
        ),
        Entry(
            "patch user: unknown field",
            ADMIN,
            "PATCH",
            "/api/admin/users/officer.1001",
            json={"password_hash": "x"},
            field="password_hash",
        ),
        Entry(
            "patch user: username with NUL in the path",
            ADMIN,
            "PATCH",
            "/api/admin/users/officer%00.1001",
            json={"full_name": "ก"},
            status=(400, 404),
        ),
        Entry(
            "reset password: missing",
            ADMIN,
            "POST",
            "/api/admin/users/officer.1001/password",
            json={},
            field="password",
        ),
        Entry(
            "reset password: 129 characters",
            ADMIN,
            "POST",
            "/api/admin/users/officer.1001/password",
            json={"password": "p" * 129},
            field="password",
        ),
        Entry(
            "admin users: officer is refused",
            OFFICER,
            "GET",
            "/api/admin/users",
            status=(403,),
            code="wrong_role",
        ),
    ]
    return out


def _intake() -> list[Entry]:
    p = "/api/intake/cases"
    out = _json_endpoint_basics(OFFICER, "POST", p, case(), "create case")
    out += [
        # national IDs (P12)
        Entry(
            "case: national ID check digit wrong",
            OFFICER,
            "POST",
            p,
            json=case(national_id=BAD_CHECK_NID),
            field="national_id",
        ),
        Entry(
            "case: national ID of 12 digits",
            OFFICER,
            "POST",
            p,
            json=case(national_id=VALID_NID[:12]),
            field="national_id",
        ),
        Entry(
            "case: national ID of 14 digits",
            OFFICER,
            "POST",
            p,
            json=case(national_id=VALID_NID + "0"),
            field="national_id",
        ),
        Entry(
            "case: national ID with dashes",
            OFFICER,
            "POST",
            p,
            json=case(national_id="1-1017-00001-23-7"),
            field="national_id",
        ),
        Entry(
            "case: national ID in Thai digits",
            OFFICER,
            "POST",
            p,
            json=case(national_id="๑๑๐๑๗๐๐๐๐๑๒๓๗"),
            field="national_id",
        ),
        Entry(
            "case: national ID in full-width digits",
            OFFICER,
            "POST",
            p,
            json=case(national_id="１１０１７００００１２３７"),
            field="national_id",
        ),
        Entry(
            "case: national ID as a JSON number",
            OFFICER,
            "POST",
            p,
            json=case(national_id=1101700001237),
            field="national_id",
        ),
        Entry(
            "case: national ID starting with 0",
            OFFICER,
            "POST",
            p,
            json=case(national_id="0101700001231"),
            field="national_id",
        ),
        Entry(
            "case: national ID with a BOM",
            OFFICER,
            "POST",
            p,
            json=case(national_id="\ufeff" + VALID_NID),
            field="national_id",
        ),
        Entry(
            "case: national ID missing",
            OFFICER,
            "POST",
            p,
            json=case(national_id=MISSING),
            field="national_id",
        ),
        # amounts
        Entry(
            "case: amount with a thousands comma",
            OFFICER,
            "POST",
            p,
            json=case(amount="3,000.00"),
            field="amount",
        ),
        Entry(
            "case: amount with three decimals",
            OFFICER,
            "POST",
            p,
            json=case(amount="3000.005"),
            field="amount",
        ),
        Entry("case: negative amount", OFFICER, "POST", p, json=case(amount="-3000.00"), field="amount"),
        Entry("case: amount as a JSON float", OFFICER, "POST", p, json=case(amount=3000.5), field="amount"),
        Entry(
            "case: amount in exponent notation", OFFICER, "POST", p, json=case(amount="3e3"), field="amount"
        ),
        Entry("case: amount zero", OFFICER, "POST", p, json=case(amount="0.00"), field="amount"),
        Entry("case: amount NaN", OFFICER, "POST", p, json=case(amount="NaN"), field="amount"),
        Entry("case: amount Infinity", OFFICER, "POST", p, json=case(amount="Infinity"), field="amount"),
        Entry("case: amount with a baht sign", OFFICER, "POST", p, json=case(amount="฿3000"), field="amount"),
        Entry("case: amount in Thai digits", OFFICER, "POST", p, json=case(amount="๓๐๐๐"), field="amount"),
        Entry(
            "case: amount of 16 integer digits",
            OFFICER,
            "POST",
            p,
            json=case(amount="1234567890123456.00"),
            field="amount",
        ),
        Entry("case: amount true", OFFICER, "POST", p, json=case(amount=True), field="amount"),
        # dates
        Entry(
            "case: birth date in the future",
            OFFICER,
            "POST",
            p,
            json=case(birth_date="2999-01-01"),
            status=(400, 422),
            field="birth_date",
        ),
        Entry(
            "case: birth date 30 February",
            OFFICER,
            "POST",
            p,
            json=case(birth_date="2000-02-30"),
            field="birth_date",
        ),
        Entry(
            "case: birth date in B.E. (2513-05-01)",
            OFFICER,
            "POST",
            p,
            json=case(birth_date="2513-05-01"),
            status=(400, 422),
            field="birth_date",
        ),
        Entry(
            "case: birth date year 0",
            OFFICER,
            "POST",
            p,
            json=case(birth_date="0000-01-01"),
            field="birth_date",
        ),
        Entry(
            "case: birth date 150 years ago",
            OFFICER,
            "POST",
            p,
            json=case(birth_date="1870-01-01"),
            status=(400, 422),
            field="birth_date",
        ),
        Entry(
            "case: birth date dd/mm/yyyy",
            OFFICER,
            "POST",
            p,
            json=case(birth_date="01/05/2513"),
            field="birth_date",
        ),
        Entry(
            "case: birth date as a number",
            OFFICER,
            "POST",
            p,
            json=case(birth_date=19700501),
            field="birth_date",
        ),
        # other fields
        Entry(
            "case: disabled is a string", OFFICER, "POST", p, json=case(disabled="maybe"), field="disabled"
        ),
        Entry("case: sex outside the list", OFFICER, "POST", p, json=case(sex="x"), field="sex"),
        Entry("case: first name empty", OFFICER, "POST", p, json=case(first_name="   "), field="first_name"),
        Entry(
            "case: first name with NUL",
            OFFICER,
            "POST",
            p,
            json=case(first_name="สม\x00ศรี"),
            field="first_name",
        ),
        Entry(
            "case: first name with a tab",
            OFFICER,
            "POST",
            p,
            json=case(first_name="\t=1+1"),
            field="first_name",
        ),
        Entry(
            "case: last name of 101 characters",
            OFFICER,
            "POST",
            p,
            json=case(last_name="ก" * 101),
            field="last_name",
        ),
        Entry("case: title is an object", OFFICER, "POST", p, json=case(title={"x": 1}), field="title"),
        Entry(
            "case: hardship of 5001 characters",
            OFFICER,
            "POST",
            p,
            json=case(hardship="ก" * 5001),
            field="hardship",
        ),
        Entry(
            "case: house id of 10 digits",
            OFFICER,
            "POST",
            p,
            json=case(house_id="1234567890"),
            field="house_id",
        ),
        Entry("case: phone with dashes", OFFICER, "POST", p, json=case(phone="081-234-5678"), field="phone"),
        Entry(
            "case: email without @", OFFICER, "POST", p, json=case(email="somsri.example.com"), field="email"
        ),
        Entry(
            "case: unknown welfare type",
            OFFICER,
            "POST",
            p,
            json=case(welfare_type_code="NOPE"),
            status=(400, 422),
            field="welfare_type_code",
        ),
        Entry(
            "case: welfare type with NUL",
            OFFICER,
            "POST",
            p,
            json=case(welfare_type_code="MED\x00"),
            status=(400, 422),
            field="welfare_type_code",
        ),
        Entry(
            "case: unknown programme",
            OFFICER,
            "POST",
            p,
            json=case(programme_code="NOPE"),
            status=(400, 422),
            field="programme_code",
        ),
        Entry("case: bank missing", OFFICER, "POST", p, json=case(bank=MISSING), field="bank"),
        Entry("case: bank is a string", OFFICER, "POST", p, json=case(bank="006"), field="bank"),
        Entry(
            "case: unknown bank code",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(bank_code="999")),
            status=(400, 422),
            field="bank.bank_code",
        ),
        Entry(
            "case: bank code with NUL",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(bank_code="0\x0014")),
            status=(400, 422),
            field="bank.bank_code",
        ),
        Entry(
            "case: account number with letters",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(account_no="12345ABCDE")),
            status=(400, 422),
            field="bank.account_no",
        ),
        Entry(
            "case: account number of 41 characters",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(account_no="1" * 41)),
            field="bank.account_no",
        ),
        Entry(
            "case: account number in Thai digits",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(account_no="๙๘๗๖๕๔๓๒๑๐")),
            status=(400, 422),
            field="bank.account_no",
        ),
        Entry(
            "case: account name with NUL",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(account_name="ก\x00")),
            field="bank.account_name",
        ),
        Entry(
            "case: BAAC without branch",
            OFFICER,
            "POST",
            p,
            json=case(bank=bank(bank_code="034", account_no="020123456789")),
            status=(400, 422),
            field="bank.branch_code",
        ),
        Entry("case: every field missing", OFFICER, "POST", p, json={}, field="national_id"),
        Entry(
            "case: nested 2000 levels deep",
            OFFICER,
            "POST",
            p,
            raw=b'{"bank":' * 2000 + b"1" + b"}" * 2000,
            content_type="application/json",
        ),
        Entry(
            "case: body over MAX_CONTENT_LENGTH",
            OFFICER,
            "POST",
            p,
            raw=b'{"hardship": "' + b"a" * (11 * MB) + b'"}',
            content_type="application/json",
            status=(413,),
        ),
        Entry(
            "case: form-encoded body",
            OFFICER,
            "POST",
            p,
            raw=b"national_id=1101700001237",
            content_type="application/x-www-form-urlencoded",
            status=(400, 415),
        ),
        Entry(
            "case: Idempotency-Key that is not a UUID",
            OFFICER,
            "POST",
            p,
            json=case(amount="x"),
            headers={"Idempotency-Key": "../../etc"},
            status=(400,),
        ),
        Entry(
            "case: Idempotency-Key of 300 characters",
            OFFICER,
            "POST",
            p,
            json=case(amount="x"),
            headers={"Idempotency-Key": "a" * 300},
            status=(400,),
        ),
        Entry(
            "case: finance may not record", FINANCE, "POST", p, json=case(), status=(403,), code="wrong_role"
        ),
        Entry("case: no token", None, "POST", p, json=case(), status=(401,)),
        # lists and reads
        Entry("cases: page=abc", OFFICER, "GET", p + "?page=abc", field="page"),
        Entry("cases: page of 20 digits", OFFICER, "GET", p + "?page=99999999999999999999", field="page"),
        Entry("cases: per_page=-1", OFFICER, "GET", p + "?per_page=-1", field="per_page"),
        Entry("cases: fiscal_year=25x7", OFFICER, "GET", p + "?fiscal_year=25x7", field="fiscal_year"),
        Entry("cases: q with NUL", OFFICER, "GET", p + "?q=a%00b", field="q"),
        Entry(
            "cases: national_id filter with a wrong check digit",
            OFFICER,
            "GET",
            p + "?national_id=" + BAD_CHECK_NID,
            field="national_id",
        ),
        Entry("cases: status outside the list", OFFICER, "GET", p + "?status=hacked", field="status"),
        Entry(
            "cases: URL over the server's line limit",
            OFFICER,
            "GET",
            p + "?q=" + "a" * 9000,
            status=(414,),
            plain=True,
        ),
        Entry("case: id is not a UUID", OFFICER, "GET", p + "/not-a-uuid", status=(404,)),
        Entry("case: id of another district", OFFICER, "GET", p + "/{other_district_case_id}", status=(404,)),
        Entry("case: id with NUL", OFFICER, "GET", p + "/{case_id}%00", status=(404,)),
        Entry(
            "history: check digit wrong",
            OFFICER,
            "GET",
            "/api/intake/citizens/" + BAD_CHECK_NID + "/history",
            field="national_id",
        ),
        Entry(
            "history: Thai digits",
            OFFICER,
            "GET",
            "/api/intake/citizens/%E0%B9%91%E0%B9%92%E0%B9%93/history",
            field="national_id",
        ),
        Entry(
            "history: SQL in the id",
            OFFICER,
            "GET",
            "/api/intake/citizens/1'%20OR%20'1'='1/history",
            field="national_id",
        ),
        Entry(
            "history: amount with a comma",
            OFFICER,
            "GET",
            "/api/intake/citizens/" + VALID_NID + "/history?amount=1,000",
            field="amount",
        ),
        Entry(
            "history: house id with letters",
            OFFICER,
            "GET",
            "/api/intake/citizens/" + VALID_NID + "/history?house_id=abc",
            field="house_id",
        ),
        # edits of the open case
        Entry(
            "patch case: national ID may not change",
            OFFICER,
            "PATCH",
            p + "/{case_id}",
            json={"national_id": VALID_NID},
            status=(422,),
            code="national_id_not_editable",
        ),
        Entry(
            "patch case: amount with three decimals",
            OFFICER,
            "PATCH",
            p + "/{case_id}",
            json={"amount": "1.001"},
            field="amount",
        ),
        Entry(
            "patch case: birth date not a date",
            OFFICER,
            "PATCH",
            p + "/{case_id}",
            json={"birth_date": "yesterday"},
            field="birth_date",
        ),
        Entry(
            "patch case: bank without account",
            OFFICER,
            "PATCH",
            p + "/{case_id}",
            json={"bank": {"bank_code": "006"}},
            field="bank.account_no",
        ),
        Entry(
            "patch case: unknown field",
            OFFICER,
            "PATCH",
            p + "/{case_id}",
            json={"status": "approved"},
            field="status",
        ),
        Entry("patch case: body is a list", OFFICER, "PATCH", p + "/{case_id}", json=[{"amount": "1.00"}]),
        Entry(
            "patch case: truncated JSON",
            OFFICER,
            "PATCH",
            p + "/{case_id}",
            raw=b'{"amount": "1',
            content_type="application/json",
        ),
        Entry(
            "check amendment: amount negative",
            HEAD,
            "POST",
            p + "/{case_id}/check-amendment",
            json={"welfare_type_code": "MEDICAL", "amount": "-1"},
            field="amount",
        ),
        Entry(
            "check amendment: welfare type missing",
            HEAD,
            "POST",
            p + "/{case_id}/check-amendment",
            json={"amount": "1.00"},
            field="welfare_type_code",
        ),
        Entry(
            "home visit: date in the future",
            OFFICER,
            "POST",
            p + "/{case_id}/home-visit",
            json={"visited_on": "2999-01-01", "findings": "x"},
            status=(400, 422),
            field="visited_on",
        ),
        Entry(
            "home visit: date 2024-13-01",
            OFFICER,
            "POST",
            p + "/{case_id}/home-visit",
            json={"visited_on": "2024-13-01", "findings": "x"},
            field="visited_on",
        ),
        Entry(
            "home visit: findings empty",
            OFFICER,
            "POST",
            p + "/{case_id}/home-visit",
            json={"visited_on": "2024-01-01", "findings": " "},
            field="findings",
        ),
        Entry(
            "home visit: findings with NUL",
            OFFICER,
            "POST",
            p + "/{case_id}/home-visit",
            json={"visited_on": "2024-01-01", "findings": "\x00"},
            field="findings",
        ),
        Entry(
            "home visit: truncated JSON",
            OFFICER,
            "POST",
            p + "/{case_id}/home-visit",
            raw=b'{"visited_on": "20',
            content_type="application/json",
        ),
        Entry(
            "document: unknown kind", OFFICER, "GET", p + "/{case_id}/documents/passport", status=(400, 404)
        ),
        Entry(
            "document: sha256 not hex",
            OFFICER,
            "GET",
            p + "/{case_id}/documents/related?sha256=../../x",
            status=(400, 404),
        ),
        # catalogue (central office)
        Entry(
            "welfare type: code in lower case",
            ADMIN,
            "POST",
            "/api/intake/welfare-types",
            json={"code": "bad code", "name_th": "x"},
            field="code",
        ),
        Entry(
            "welfare type: ceiling with a comma",
            ADMIN,
            "POST",
            "/api/intake/welfare-types",
            json={"code": "NEWTYPE", "name_th": "ใหม่", "ceiling": "5,000"},
            field="ceiling",
        ),
        Entry(
            "welfare type: repeat limit 0",
            ADMIN,
            "POST",
            "/api/intake/welfare-types",
            json={"code": "NEWTYPE", "name_th": "ใหม่", "repeat_limit": 0},
            field="repeat_limit",
        ),
        Entry(
            "welfare type: unknown document kind",
            ADMIN,
            "POST",
            "/api/intake/welfare-types",
            json={"code": "NEWTYPE", "name_th": "ใหม่", "required_documents": ["passport"]},
            field="required_documents.0",
        ),
        Entry(
            "welfare type patch: ceiling float",
            ADMIN,
            "PATCH",
            "/api/intake/welfare-types/MEDICAL",
            json={"ceiling": 5000.5},
            field="ceiling",
        ),
        Entry(
            "welfare type patch: code with NUL in the path",
            ADMIN,
            "PATCH",
            "/api/intake/welfare-types/MED%00",
            json={"active": True},
            status=(400, 404),
        ),
        Entry(
            "programme: fiscal year 3000",
            ADMIN,
            "POST",
            "/api/intake/programmes",
            json={
                "code": "NEWPROG",
                "name_th": "ใหม่",
                "welfare_type_code": "MEDICAL",
                "excluded_welfare_type_code": "MEDICAL",
                "excluded_fiscal_year": 3000,
            },
            field="excluded_fiscal_year",
        ),
        Entry(
            "programme: rule code with spaces",
            ADMIN,
            "POST",
            "/api/intake/programmes",
            json={
                "code": "NEWPROG",
                "name_th": "ใหม่",
                "welfare_type_code": "MEDICAL",
                "excluded_welfare_type_code": "MEDICAL",
                "excluded_fiscal_year": 2567,
                "rule_code": "a b",
            },
            field="rule_code",
        ),
        Entry(
            "programme patch: unknown programme",
            ADMIN,
            "PATCH",
            "/api/intake/programmes/NOPE",
            json={"active": False},
            status=(404,),
        ),
        Entry(
            "welfare type: officer is refused",
            OFFICER,
            "POST",
            "/api/intake/welfare-types",
            json={"code": "NEWTYPE", "name_th": "ใหม่"},
            status=(403,),
        ),
        # operations
        Entry(
            "probe: count 0",
            OPERATOR,
            "POST",
            "/api/intake/ops/probe",
            json={"key": "k", "queue": "intake", "count": 0},
            field="count",
        ),
        Entry(
            "probe: unknown queue",
            OPERATOR,
            "POST",
            "/api/intake/ops/probe",
            json={"key": "k", "queue": "nowhere"},
            field="queue",
        ),
        Entry(
            "probe: key of 121 characters",
            OPERATOR,
            "POST",
            "/api/intake/ops/probe",
            json={"key": "k" * 121, "queue": "intake"},
            field="key",
        ),
        Entry(
            "probe receipt: key with NUL", OPERATOR, "GET", "/api/intake/ops/probes/a%00b", status=(400, 404)
        ),
        Entry(
            "dead letter replay: id not a number",
            OPERATOR,
            "POST",
            "/api/intake/ops/dead-letters/abc/replay",
            status=(404,),
        ),
        Entry(
            "dead letter replay: id of 20 digits",
            OPERATOR,
            "POST",
            "/api/intake/ops/dead-letters/99999999999999999999/replay",
            status=(404,),
        ),
    ]
    # uploads of documents (S6)
    docs = p + "/{case_id}/documents"

    def doc(
        name: str,
        filename: str,
        content: bytes,
        status: tuple[int, ...],
        code: str | None,
        kind: str = "related",
        mime: str = "application/pdf",
    ) -> Entry:
        return Entry(
            f"document: {name}",
            OFFICER,
            "POST",
            docs,
            files={"file": (filename, content, mime)},
            data={"kind": kind},
            status=status,
            code=code,
            field="file" if code else None,
        )

    out += [
        doc("an executable named .pdf", "scan.pdf", b"MZ\x90\x00\x03\x00\x00\x00", (415,), "not_pdf"),
        doc(
            "an HTML page named .pdf",
            "scan.pdf",
            b"<html><script>alert(1)</script></html>",
            (415,),
            "not_pdf",
        ),
        doc(
            "a JPEG/HTML polyglot",
            "scan.pdf",
            b"\xff\xd8\xff\xe0<html><script>alert(1)</script>",
            (415,),
            "not_pdf",
        ),
        doc("a zip named .pdf", "scan.pdf", f.zip_not_xlsx(), (415,), "not_pdf"),
        doc("the EICAR test string", "eicar.pdf", f.EICAR, (415,), "not_pdf"),
        doc("a truncated PDF (no %%EOF)", "scan.pdf", f.PDF[:40], (400,), "truncated_pdf"),
        doc("an empty file", "scan.pdf", b"", (400,), "empty_file"),
        doc(
            "over 10 MB",
            "scan.pdf",
            b"%PDF-1.4\n" + b"0" * (10 * MB + 10) + b"\n%%EOF\n",
            (413,),
            "file_too_large",
        ),
        doc("a PDF with a ../ name and .exe", "../../evil.exe", b"MZ", (415,), "not_pdf"),
        doc("kind outside the list", "scan.pdf", f.PDF, (400,), None, kind="passport"),
        doc("kind with NUL", "scan.pdf", f.PDF, (400,), None, kind="related\x00"),
        Entry("document: no file part", OFFICER, "POST", docs, data={"kind": "related"}, field="file"),
        Entry(
            "document: JSON instead of multipart",
            OFFICER,
            "POST",
            docs,
            json={"kind": "related", "file": "JVBERi0="},
            field="kind",
        ),
        Entry(
            "document: case of another district",
            OFFICER,
            "POST",
            p + "/{other_district_case_id}/documents",
            files={"file": ("a.pdf", f.PDF, "application/pdf")},
            data={"kind": "related"},
            status=(404,),
        ),
    ]
    return out


def _approval() -> list[Entry]:
    a = "/api/approval"
    meeting = {"meeting_date": "2024-01-10", "number": "1/2567", "attendees": ["ประธาน"], "notes": ""}
    out = _json_endpoint_basics(HEAD, "POST", a + "/meetings", meeting, "meeting")
    out += [
        Entry(
            "meeting: date 2024-02-30",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "meeting_date": "2024-02-30"},
            field="meeting_date",
        ),
        Entry(
            "meeting: no attendees",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "attendees": []},
            field="attendees",
        ),
        Entry(
            "meeting: attendees is a string",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "attendees": "ประธาน"},
            field="attendees",
        ),
        Entry(
            "meeting: attendee with NUL",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "attendees": ["\x00"]},
            field="attendees.0",
        ),
        Entry(
            "meeting: 101 attendees",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "attendees": ["ก"] * 101},
            field="attendees",
        ),
        Entry(
            "meeting: notes of 10001 characters",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "notes": "ก" * 10001},
            field="notes",
        ),
        Entry(
            "meeting: number of 41 characters",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "number": "1" * 41},
            field="number",
        ),
        Entry(
            "meeting: date far in the future",
            HEAD,
            "POST",
            a + "/meetings",
            json={**meeting, "meeting_date": "9999-12-31"},
            status=(400, 422),
            field="meeting_date",
        ),
        Entry("meetings: fiscal_year=abc", HEAD, "GET", a + "/meetings?fiscal_year=abc", field="fiscal_year"),
        Entry(
            "close agenda: meeting date not a date",
            HEAD,
            "POST",
            a + "/batches",
            json={"meeting_date": "tomorrow"},
            field="meeting_date",
        ),
        Entry(
            "close agenda: meeting date 9999-12-31",
            HEAD,
            "POST",
            a + "/batches",
            json={"meeting_date": "9999-12-31"},
            field="meeting_date",
        ),
        Entry(
            "close agenda: meeting id of 37 characters",
            HEAD,
            "POST",
            a + "/batches",
            json={"meeting_id": "x" * 37},
            field="meeting_id",
        ),
        Entry(
            "close agenda: unknown meeting",
            HEAD,
            "POST",
            a + "/batches",
            json={"meeting_id": "00000000-0000-0000-0000-000000000000"},
            status=(404, 422),
            code="meeting_not_found",
        ),
        Entry(
            "close agenda: truncated JSON",
            HEAD,
            "POST",
            a + "/batches",
            raw=b'{"meeting_date": "2024-',
            content_type="application/json",
        ),
        Entry(
            "close agenda: officer is refused",
            OFFICER,
            "POST",
            a + "/batches",
            json={"meeting_date": "2024-01-10"},
            status=(403,),
        ),
        Entry("batches: fiscal_year 1999", HEAD, "GET", a + "/batches?fiscal_year=1999", field="fiscal_year"),
        Entry("batches: per_page=0", HEAD, "GET", a + "/batches?per_page=0", field="per_page"),
        Entry("batch: unknown id", HEAD, "GET", a + "/batches/not-a-batch", status=(404,)),
        Entry(
            "agenda: central office without district",
            ADMIN,
            "GET",
            a + "/agenda",
            status=(400,),
            code="district_required",
        ),
        Entry(
            "agenda: district code with letters",
            ADMIN,
            "GET",
            a + "/agenda?district_code=10a8",
            field="district_code",
        ),
        Entry(
            "deferred: district code with NUL",
            ADMIN,
            "GET",
            a + "/deferred?district_code=10%0008",
            field="district_code",
        ),
        Entry(
            "disqualify: reason missing",
            HEAD,
            "POST",
            a + "/cases/{case_id}/disqualify",
            json={},
            field="reason",
        ),
        Entry(
            "disqualify: reason is a number",
            HEAD,
            "POST",
            a + "/cases/{case_id}/disqualify",
            json={"reason": 5},
            field="reason",
        ),
        Entry(
            "disqualify: reason empty",
            HEAD,
            "POST",
            a + "/cases/{case_id}/disqualify",
            json={"reason": ""},
            field="reason",
        ),
        Entry(
            "disqualify: reason with NUL",
            HEAD,
            "POST",
            a + "/cases/{case_id}/disqualify",
            json={"reason": "ไม่\x00ผ่าน"},
            field="reason",
        ),
        Entry(
            "disqualify: truncated JSON",
            HEAD,
            "POST",
            a + "/cases/{case_id}/disqualify",
            raw=b'{"reason": "',
            content_type="application/json",
        ),
        Entry(
            "disqualify: unknown case",
            HEAD,
            "POST",
            a + "/cases/00000000-0000-0000-0000-000000000000/disqualify",
            json={"reason": "x"},
            status=(404,),
        ),
        Entry(
            "amend: amount with a comma",
            HEAD,
            "PATCH",
            a + "/agenda/{case_id}",
            json={"amount": "2,000.00"},
            field="amount",
        ),
        Entry(
            "amend: amount as a float",
            HEAD,
            "PATCH",
            a + "/agenda/{case_id}",
            json={"amount": 2000.0},
            field="amount",
        ),
        Entry(
            "amend: welfare type empty",
            HEAD,
            "PATCH",
            a + "/agenda/{case_id}",
            json={"welfare_type_code": ""},
            field="welfare_type_code",
        ),
        Entry("amend: body is a list", HEAD, "PATCH", a + "/agenda/{case_id}", json=[]),
        Entry(
            "defer: case of another district",
            HEAD,
            "POST",
            a + "/agenda/{other_district_case_id}/defer",
            status=(404,),
        ),
        Entry("defer: case id with NUL", HEAD, "POST", a + "/agenda/%00/defer", status=(404,)),
        Entry(
            "restore: case not deferred", HEAD, "POST", a + "/deferred/{case_id}/restore", status=(404, 409)
        ),
    ]
    return out


def _payment() -> list[Entry]:
    b = "/api/payment/batches/{payout_batch_id}"
    line = "/api/payment/lines/{line_id}"
    correction = bank()
    out = _json_endpoint_basics(FINANCE, "PATCH", line + "/bank", correction, "bank correction")
    out += [
        Entry(
            "bank correction: account with letters",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(account_no="98765ABCDE"),
            status=(400, 422),
            field="account_no",
        ),
        Entry(
            "bank correction: bank code of 4 digits",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(bank_code="0140"),
            field="bank_code",
        ),
        Entry(
            "bank correction: unknown bank",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(bank_code="999"),
            status=(400, 422),
            field="bank_code",
        ),
        Entry(
            "bank correction: bank code with NUL",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(bank_code="0\x004"),
            status=(400, 422),
            field="bank_code",
        ),
        Entry(
            "bank correction: account name with NUL",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(account_name="ก\x00ข"),
            status=(400, 422),
            field="account_name",
        ),
        Entry(
            "bank correction: account name not cp874",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(account_name="名前 ก"),
            status=(400, 422),
            field="account_name",
        ),
        Entry(
            "bank correction: account name missing",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=drop(correction, "account_name"),
            field="account_name",
        ),
        Entry(
            "bank correction: branch of 5 digits",
            FINANCE,
            "PATCH",
            line + "/bank",
            json=bank(branch_code="12345"),
            field="branch_code",
        ),
        Entry(
            "bank correction: line of 20 digits",
            FINANCE,
            "PATCH",
            "/api/payment/lines/99999999999999999999/bank",
            json=correction,
            status=(404,),
        ),
        Entry(
            "bank correction: officer is refused",
            OFFICER,
            "PATCH",
            line + "/bank",
            json=correction,
            status=(403,),
        ),
        Entry(
            "close failed: reason missing", FINANCE, "POST", line + "/close-failed", json={}, field="reason"
        ),
        Entry(
            "close failed: reason of 1001 characters",
            FINANCE,
            "POST",
            line + "/close-failed",
            json={"reason": "ก" * 1001},
            field="reason",
        ),
        Entry(
            "close failed: reason with NUL",
            FINANCE,
            "POST",
            line + "/close-failed",
            json={"reason": "\x00"},
            status=(400, 409),
            field="reason",
        ),
        Entry(
            "close failed: truncated JSON",
            FINANCE,
            "POST",
            line + "/close-failed",
            raw='{"reason": "ก'.encode(),
            content_type="application/json",
        ),
        Entry(
            "resolve: decision outside the list",
            FINANCE,
            "POST",
            line + "/resolve",
            json={"decision": "maybe", "reason": "x"},
            field="decision",
        ),
        Entry(
            "resolve: decision is a bool",
            FINANCE,
            "POST",
            line + "/resolve",
            json={"decision": True, "reason": "x"},
            field="decision",
        ),
        Entry(
            "cancel file: reason empty",
            FINANCE,
            "POST",
            "/api/payment/files/{file_id}/cancel",
            json={"reason": ""},
            field="reason",
        ),
        Entry(
            "cancel file: reason is a list",
            FINANCE,
            "POST",
            "/api/payment/files/{file_id}/cancel",
            json={"reason": ["x"]},
            field="reason",
        ),
        Entry(
            "cancel file: file of 20 digits",
            FINANCE,
            "POST",
            "/api/payment/files/99999999999999999999/cancel",
            json={"reason": "x"},
            status=(404,),
        ),
        Entry(
            "file download: effective date 2024-02-30",
            FINANCE,
            "GET",
            b + "/files/ktb.txt?effective_date=2024-02-30",
            field="effective_date",
        ),
        Entry(
            "file download: effective date in the past",
            FINANCE,
            "GET",
            b + "/files/ktb.txt?effective_date=2020-01-01",
            status=(422,),
            code="effective_date_in_past",
        ),
        Entry(
            "file download: effective date in B.E.",
            FINANCE,
            "GET",
            b + "/files/ktb.txt?effective_date=01/01/2568",
            field="effective_date",
        ),
        Entry("file download: unknown group", FINANCE, "GET", b + "/files/scb.txt", status=(404,)),
        Entry("file download: unknown format", FINANCE, "GET", b + "/files/ktb.exe", status=(404,)),
        Entry(
            "file download: path tricks", FINANCE, "GET", b + "/files/..%2F..%2Fetc%2Fpasswd", status=(404,)
        ),
        Entry(
            "file again: unknown format", FINANCE, "GET", "/api/payment/files/{file_id}.pdf", status=(404,)
        ),
        Entry(
            "file download: Idempotency-Key not a UUID",
            FINANCE,
            "GET",
            b + "/files/ktb.txt?effective_date=2020-01-01",
            headers={"Idempotency-Key": "not-a-uuid"},
            status=(400,),
        ),
        Entry(
            "batches: status outside the list",
            FINANCE,
            "GET",
            "/api/payment/batches?status=paid",
            field="status",
        ),
        Entry(
            "batches: district code of 5 digits",
            ADMIN,
            "GET",
            "/api/payment/batches?district_code=10080",
            field="district_code",
        ),
        Entry("batch: id not a number", FINANCE, "GET", "/api/payment/batches/abc", status=(404,)),
        Entry(
            "batch: id of 20 digits",
            FINANCE,
            "GET",
            "/api/payment/batches/99999999999999999999",
            status=(404,),
        ),
        Entry("batch: id of another district", "finance.1001", "GET", b, status=(404,)),
        Entry("alerts: open=perhaps", FINANCE, "GET", "/api/payment/alerts?open=perhaps", field="open"),
        Entry("alerts: batch_id=abc", FINANCE, "GET", "/api/payment/alerts?batch_id=abc", field="batch_id"),
        Entry(
            "alerts: batch_id of 20 digits",
            FINANCE,
            "GET",
            "/api/payment/alerts?batch_id=99999999999999999999",
            field="batch_id",
        ),
        Entry(
            "acknowledge: alert of 20 digits",
            FINANCE,
            "POST",
            "/api/payment/alerts/99999999999999999999/acknowledge",
            status=(404,),
        ),
        Entry(
            "result import: id of 20 digits",
            FINANCE,
            "GET",
            "/api/payment/result-imports/99999999999999999999",
            status=(404,),
        ),
    ]
    # result uploads refused before anything is stored (S6)
    up = b + "/results"

    def upload(
        name: str,
        filename: str,
        content: bytes,
        status: tuple[int, ...],
        code: str | None,
        mime: str = "text/csv",
    ) -> Entry:
        return Entry(
            f"result upload: {name}",
            FINANCE,
            "POST",
            up,
            files={"file": (filename, content, mime)},
            status=status,
            code=code,
        )

    rows = f.result_rows([["REF1", "014", "1234567891", "1001.00", "Success"]])
    out += [
        upload("empty file", "r.csv", b"", (400,), "empty_file"),
        upload("over 20 MB", "r.csv", b"a" * (20 * MB + 1), (413,), "too_large"),
        upload("over MAX_CONTENT_LENGTH", "r.csv", b"a" * (22 * MB), (413,), None),
        upload("an .exe", "r.exe", b"MZ\x90\x00", (415,), "unsupported_file"),
        upload("a PDF named .csv", "r.csv", f.PDF, (415,), "unsupported_file"),
        upload("an executable named .csv", "r.csv", b"MZ\x90\x00", (415,), "unsupported_file"),
        upload("an ELF named .txt", "r.txt", b"\x7fELF\x02\x01", (415,), "unsupported_file"),
        upload(
            "an old .xls named .xlsx",
            "r.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            (415,),
            "unsupported_file",
        ),
        upload("a PNG named .csv", "r.csv", b"\x89PNG\r\n\x1a\n", (415,), "unsupported_file"),
        upload("CSV in UTF-16", "r.csv", f.csv_bytes(rows, encoding="utf-16"), (415,), "unsupported_file"),
        upload(
            "bytes neither UTF-8 nor cp874",
            "r.csv",
            b"a,b\r\n\x81\x82\x83,\xfc\xfd\r\n",
            (415,),
            "unsupported_file",
        ),
        upload(
            "CSV mixing UTF-8 and cp874",
            "r.csv",
            "เลขที่อ้างอิง,สถานะ\r\n".encode() + "ผิด,สำเร็จ\r\n".encode("cp874"),
            (415,),
            "unsupported_file",
        ),
        upload("CSV with NUL bytes", "r.csv", b"a,b\r\n1,\x00\r\n", (415,), "unsupported_file"),
        upload("text named .xlsx", "r.xlsx", f.csv_bytes(rows), (415,), "unsupported_file"),
        upload("a workbook named .csv", "r.csv", f.xlsx_bytes(rows), (415,), "unsupported_file"),
        upload("a zip that is not a workbook", "r.xlsx", f.zip_not_xlsx(), (415,), "unsupported_file"),
        upload("a truncated workbook", "r.xlsx", f.truncated_zip(), (415,), "unsupported_file"),
        upload("zip bomb by compression ratio", "r.xlsx", f.xlsx_ratio_bomb(), (413,), "zip_bomb"),
        upload("zip bomb: central directory claims 4 GB", "r.xlsx", f.xlsx_lying_sizes(), (413,), "zip_bomb"),
        upload("workbook of 1,200 parts", "r.xlsx", f.xlsx_many_entries(), (415,), "unsupported_file"),
        upload(
            "workbook with a ../ part",
            "r.xlsx",
            f.xlsx_with_entry("../../evil.xml"),
            (415,),
            "unsupported_file",
        ),
        upload(
            "workbook with an absolute part",
            "r.xlsx",
            f.xlsx_with_entry("/etc/cron.d/x"),
            (415,),
            "unsupported_file",
        ),
        upload(
            "workbook with a drive-letter part",
            "r.xlsx",
            f.xlsx_with_entry("C:/evil.xml"),
            (415,),
            "unsupported_file",
        ),
        upload(
            "workbook with a symlink part",
            "r.xlsx",
            f.xlsx_with_entry("xl/link.xml", symlink=True),
            (415,),
            "unsupported_file",
        ),
        upload(
            "workbook without [Content_Types].xml",
            "r.xlsx",
            f.xlsx_without("[Content_Types].xml"),
            (415,),
            "unsupported_file",
        ),
        upload(
            "file name ../../etc/cron.d/x",
            "../../etc/cron.d/x",
            f.csv_bytes(rows),
            (415,),
            "unsupported_file",
        ),
        upload("file name /etc/passwd", "/etc/passwd", f.csv_bytes(rows), (415,), "unsupported_file"),
        upload("file name with NUL before .csv", "r.exe\x00.csv", b"MZ", (415,), "unsupported_file"),
        upload("file name without extension", "result", f.csv_bytes(rows), (415,), "unsupported_file"),
        Entry("result upload: no file part", FINANCE, "POST", up, data={"x": "y"}, field="file"),
        Entry("result upload: JSON instead of a file", FINANCE, "POST", up, json={"file": "x"}, field="file"),
        Entry(
            "result upload: officer is refused",
            OFFICER,
            "POST",
            up,
            files={"file": ("r.csv", f.csv_bytes(rows), "text/csv")},
            status=(403,),
        ),
        Entry(
            "result upload: batch of another district",
            "finance.1001",
            "POST",
            up,
            files={"file": ("r.csv", f.csv_bytes(rows), "text/csv")},
            status=(404,),
        ),
        Entry(
            "result upload: batch id not a number",
            FINANCE,
            "POST",
            "/api/payment/batches/abc/results",
            files={"file": ("r.csv", f.csv_bytes(rows), "text/csv")},
            status=(404,),
        ),
    ]
    return out


def _reporting() -> list[Entry]:
    r = "/api/reporting"
    out = _json_endpoint_basics(ADMIN, "PUT", r + "/budgets/2568/1008", {"amount": "1000000.00"}, "budget")
    out += [
        Entry(
            "budget: amount with a comma",
            ADMIN,
            "PUT",
            r + "/budgets/2568/1008",
            json={"amount": "1,000,000.00"},
            field="amount",
        ),
        Entry(
            "budget: amount with three decimals",
            ADMIN,
            "PUT",
            r + "/budgets/2568/1008",
            json={"amount": "1000.001"},
            field="amount",
        ),
        Entry(
            "budget: negative amount",
            ADMIN,
            "PUT",
            r + "/budgets/2568/1008",
            json={"amount": "-1.00"},
            field="amount",
        ),
        Entry(
            "budget: amount as a float",
            ADMIN,
            "PUT",
            r + "/budgets/2568/1008",
            json={"amount": 1000.1},
            field="amount",
        ),
        Entry("budget: amount missing", ADMIN, "PUT", r + "/budgets/2568/1008", json={}, field="amount"),
        Entry(
            "budget: fiscal year 3000",
            ADMIN,
            "PUT",
            r + "/budgets/3000/1008",
            json={"amount": "1.00"},
            status=(400, 404),
            field=None,
        ),
        Entry(
            "budget: unknown district",
            ADMIN,
            "PUT",
            r + "/budgets/2568/9999",
            json={"amount": "1.00"},
            status=(400, 404, 422),
            field=None,
        ),
        Entry(
            "budget: district with letters",
            ADMIN,
            "PUT",
            r + "/budgets/2568/10a8",
            json={"amount": "1.00"},
            status=(400, 404),
            field=None,
        ),
        Entry(
            "budget: head is refused",
            HEAD,
            "PUT",
            r + "/budgets/2568/1008",
            json={"amount": "1.00"},
            status=(403,),
        ),
        Entry("budgets: fiscal_year=abc", ADMIN, "GET", r + "/budgets?fiscal_year=abc", field="fiscal_year"),
        Entry(
            "summary: fiscal_year 99999",
            FINANCE,
            "GET",
            r + "/summary?fiscal_year=99999",
            field="fiscal_year",
        ),
        Entry(
            "summary: district code with NUL",
            ADMIN,
            "GET",
            r + "/summary?district_code=%00",
            field="district_code",
        ),
        Entry(
            "summary.xlsx: fiscal_year=abc",
            FINANCE,
            "GET",
            r + "/summary.xlsx?fiscal_year=abc",
            field="fiscal_year",
        ),
        Entry("report batches: page=0", FINANCE, "GET", r + "/batches?page=0", field="page"),
        Entry(
            "template: unknown document", HEAD, "PUT", r + "/templates/nosuchdoc", json={}, status=(400, 404)
        ),
        Entry(
            "template: truncated JSON",
            HEAD,
            "PUT",
            r + "/templates/approval-report",
            raw=b'{"title": "',
            content_type="application/json",
            status=(400, 404),
        ),
        Entry(
            "template: district with NUL",
            HEAD,
            "GET",
            r + "/templates/approval-report?district_code=%00",
            status=(400, 404),
        ),
        Entry(
            "document: unknown format",
            FINANCE,
            "GET",
            r + "/batches/{approval_batch_id}/approval-report.docx",
            status=(404,),
        ),
        Entry(
            "document: unknown group",
            FINANCE,
            "GET",
            r + "/batches/{approval_batch_id}/tk1-scb.pdf",
            status=(404,),
        ),
        Entry(
            "document: unknown batch",
            FINANCE,
            "GET",
            r + "/batches/00000000-0000-0000-0000-000000000000/approval-report.pdf",
            status=(404,),
        ),
        Entry(
            "document: batch id with NUL",
            FINANCE,
            "GET",
            r + "/batches/%00/approval-report.pdf",
            status=(404,),
        ),
        Entry(
            "agenda document: district of another office",
            OFFICER,
            "GET",
            r + "/districts/1001/agenda.pdf",
            status=(403, 404),
        ),
        Entry(
            "agenda document: district with letters",
            OFFICER,
            "GET",
            r + "/districts/abcd/agenda.xlsx",
            status=(400, 403, 404),
        ),
        Entry(
            "document: operator is refused",
            OPERATOR,
            "GET",
            r + "/batches/{approval_batch_id}/approval-report.pdf",
            status=(403,),
        ),
    ]
    return out


def build() -> list[Entry]:
    """The whole synchronous corpus."""
    entries = [e for e in _gateway() + _intake() + _approval() + _payment() + _reporting() if e is not None]
    names = [e.name for e in entries]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, duplicates
    return entries


# --- files refused while the worker parses them --------------------------------------------------------
@dataclass(frozen=True)
class AsyncUpload:
    """A result report that passes the upload checks and is rejected by the import itself."""

    name: str
    filename: str
    content: bytes
    code: str  # the rejection's error code


def async_uploads() -> list[AsyncUpload]:
    good = ["REF1", "014", "1234567891", "1001.00", "Success"]

    def rows(*cells: list[object]) -> list[list[object]]:
        return f.result_rows(list(cells))

    return [
        AsyncUpload(
            "malformed XML inside the workbook", "r.xlsx", f.xlsx_truncated_sheet(), "unsupported_file"
        ),
        AsyncUpload("a sheet that is not XML", "r.xlsx", f.xlsx_not_xml_sheet(), "unsupported_file"),
        AsyncUpload(
            "billion laughs inside the workbook", "r.xlsx", f.xlsx_billion_laughs(), "unsupported_file"
        ),
        AsyncUpload(
            "external entity (XXE) inside the workbook",
            "r.xlsx",
            f.xlsx_external_entity(),
            "unsupported_file",
        ),
        AsyncUpload(
            "amount with a thousands comma",
            "r.csv",
            f.csv_bytes(rows(["REF1", "014", "1234567891", '"1,001.00"', "Success"])),
            "invalid_lines",
        ),
        AsyncUpload(
            "amount with three decimals",
            "r.csv",
            f.csv_bytes(rows(["REF1", "014", "1234567891", "1001.005", "Success"])),
            "invalid_lines",
        ),
        AsyncUpload(
            "negative amount",
            "r.csv",
            f.csv_bytes(rows(["REF1", "014", "1234567891", "-1001.00", "Success"])),
            "invalid_lines",
        ),
        AsyncUpload(
            "amount in exponent notation",
            "r.csv",
            f.csv_bytes(rows(["REF1", "014", "1234567891", "1.001e3", "Success"])),
            "invalid_lines",
        ),
        AsyncUpload(
            "formula in the amount cell",
            "r.csv",
            f.csv_bytes(rows(["REF1", "014", "1234567891", "=1000+1", "Success"])),
            "invalid_lines",
        ),
        AsyncUpload(
            "cp874 report with Thai headers, amount with three decimals",
            "r.csv",
            f.csv_bytes(
                [
                    ["เลขที่อ้างอิง", "รหัสธนาคาร", "เลขที่บัญชี", "จำนวนเงิน", "สถานะ"],
                    ["REF1", "014", "1234567891", "1001.005", "สำเร็จ"],
                ],
                encoding="cp874",
            ),
            "invalid_lines",
        ),
        AsyncUpload("UTF-8 BOM and no header row", "r.csv", f.csv_bytes([good], bom=True), "no_header"),
        AsyncUpload(
            "unquoted comma shifts the columns",
            "r.csv",
            f.csv_bytes(rows(good)) + b"REF2,014,1234567892,1,002.00,Success\r\n",
            "invalid_lines",
        ),
        AsyncUpload("fixed-width echo cut in a record", "r.txt", f.fixed_width_truncated(), "invalid_lines"),
        AsyncUpload(
            "account number in Thai digits",
            "r.csv",
            f.csv_bytes(rows(["REF1", "014", "๑๒๓๔๕๖๗๘๙๑", "1001.00", "Success"])),
            "invalid_lines",
        ),
        AsyncUpload(
            "stated total does not add up",
            "r.csv",
            f.csv_bytes(rows(good, ["รวม", "", "", "9999.00", ""])),
            "totals_mismatch",
        ),
    ]
