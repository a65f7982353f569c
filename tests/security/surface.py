"""The API surface of a live E-Case, read from its OpenAPI documents, and the bodies to call it with.

``operations(client)`` lists every operation of the gateway's own document and of each stage
service's document (as served through the gateway).  ``BODIES`` holds, for every operation that
takes a body, a *valid* body for the target district's objects, so a refusal cannot come from input
validation before the district check: the same body succeeds for the owner (the audit test drives
each mutation with it).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared import thai
from tests.security.conftest import PDF, Client, World, today

DOCUMENTS = ("gateway", "intake", "approval", "payment", "reporting")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
#: GET operations that change state (payment's group download makes and records a file).
MUTATING_GETS = {("GET", "/api/payment/batches/{batch_id}/files/{group}.{fmt}")}


@dataclass(frozen=True)
class Operation:
    document: str
    method: str
    path: str
    path_params: tuple[tuple[str, tuple[str, ...]], ...]  # name, enum values (empty: free)
    query_params: tuple[str, ...]
    has_body: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    @property
    def mutating(self) -> bool:
        return self.method != "GET" or self.key in MUTATING_GETS

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def operations(client: Client) -> list[Operation]:
    """Every operation of every OpenAPI document (the gateway's own and the four services')."""
    out: list[Operation] = []
    for doc in DOCUMENTS:
        spec = client.get(f"/api/{doc}/openapi.json")
        for path, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method not in HTTP_METHODS:
                    continue
                params = [*shared, *op.get("parameters", [])]
                path_params = tuple(
                    (p["name"], tuple(p.get("schema", {}).get("enum", ())))
                    for p in params
                    if p["in"] == "path"
                )
                query = tuple(p["name"] for p in params if p["in"] == "query")
                out.append(Operation(doc, method.upper(), path, path_params, query, "requestBody" in op))
    return out


def fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def expand(op: Operation, choices: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of path-parameter values (``choices`` for free ones, the enum otherwise)."""
    names = [name for name, _ in op.path_params]
    pools = [list(enum) if enum else choices[name] for name, enum in op.path_params]
    for combo in itertools.product(*pools):
        yield dict(zip(names, combo, strict=True))


# --- valid bodies, per operation -------------------------------------------------------------------
Body = Callable[[World, str], dict[str, Any]]  # (world, district) -> requests kwargs


def _visit(_w: World, _d: str) -> dict[str, Any]:
    return {"json": {"visited_on": today().isoformat(), "findings": "เยี่ยมบ้านซ้ำ พบผู้รับอยู่บ้าน"}}


def _bank(w: World, d: str) -> dict[str, Any]:
    line = w.ids[d]["lines"]["failed"]
    return {
        "json": {
            "bank_code": line["bank_code"],
            "account_name": line["account_name"],
            "account_no": w.ids[d]["spare_account"],
        }
    }


def _result(w: World, d: str) -> dict[str, Any]:
    from tests.payment.factories import result_csv

    line = w.ids[d]["lines"]["failed"]
    row = {k: line[k] for k in ("ref2", "bank_code", "account_no", "amount")}
    return {"files": {"file": ("result-again.csv", result_csv([{**row, "status": "FAILED"}]), "text/csv")}}


BODIES: dict[tuple[str, str], Body] = {
    ("PATCH", "/api/intake/cases/{case_id}"): lambda w, d: {"json": {"phone": "0899999999"}},
    ("POST", "/api/intake/cases/{case_id}/check-amendment"): lambda w, d: {
        "json": {"welfare_type_code": "MEDICAL", "amount": "1000.00"}
    },
    ("POST", "/api/intake/cases/{case_id}/documents"): lambda w, d: {
        "data": {"kind": "related"},
        "files": {"file": ("related.pdf", PDF + b"% again\n", "application/pdf")},
    },
    ("POST", "/api/intake/cases/{case_id}/home-visit"): _visit,
    ("PATCH", "/api/intake/welfare-types/{code}"): lambda w, d: {"json": {"active": True}},
    ("PATCH", "/api/intake/programmes/{code}"): lambda w, d: {"json": {"active": True}},
    ("POST", "/api/approval/cases/{case_id}/disqualify"): lambda w, d: {"json": {"reason": "ขาดคุณสมบัติ"}},
    ("PATCH", "/api/approval/agenda/{case_id}"): lambda w, d: {"json": {"amount": "1250.00"}},
    ("POST", "/api/approval/batches"): lambda w, d: {"json": {"meeting_id": w.ids[d]["meeting"]}},
    ("POST", "/api/payment/files/{file_id}/cancel"): lambda w, d: {"json": {"reason": "ไฟล์ผิด ยกเลิก"}},
    ("PATCH", "/api/payment/lines/{line_id}/bank"): _bank,
    ("POST", "/api/payment/lines/{line_id}/close-failed"): lambda w, d: {"json": {"reason": "ผู้รับเสียชีวิต"}},
    ("POST", "/api/payment/lines/{line_id}/resolve"): lambda w, d: {
        "json": {"decision": "failed", "reason": "ธนาคารยืนยันว่าโอนไม่สำเร็จ"}
    },
    ("POST", "/api/payment/batches/{batch_id}/results"): _result,
    ("PUT", "/api/reporting/budgets/{fiscal_year}/{district_code}"): lambda w, d: {
        "json": {"amount": "1500000.00"}
    },
    ("PUT", "/api/reporting/templates/{doc}"): lambda w, d: {
        "json": {"district_code": d, "title": "รายงานทดสอบ"}
    },
    ("POST", "/api/intake/welfare-card/participants/{national_id}/developments"): lambda w, d: {
        "json": {
            "project": w.ids[d]["wc_project"],
            "result": "not_completed",
            "recorded_on": today().isoformat(),
        }
    },
    ("POST", "/api/intake/welfare-card/participants/{national_id}/follow-ups"): lambda w, d: {
        "json": {"round": "2019-06", "progress": "no_progress", "recorded_on": today().isoformat()}
    },
    ("PATCH", "/api/intake/welfare-card/registration-places/{place_id}"): lambda w, d: {
        "json": {"address": "ชั้น 2 สำนักงานเขต"}
    },
    ("POST", "/api/intake/welfare-card/registration-places"): lambda w, d: {
        "json": {"area_code": d, "name": "จุดลงทะเบียนเพิ่ม"}
    },
    ("POST", "/api/intake/welfare-card/intents"): lambda w, d: {
        "json": {
            "national_id": w.participants[d][1]["national_id"],
            "first_name": w.participants[d][1]["first_name"],
            "last_name": w.participants[d][1]["last_name"],
            "registered_on": today().isoformat(),
            "place_id": w.ids[d]["place"],
        }
    },
    ("PATCH", "/api/admin/users/{username}"): lambda w, d: {"json": {"full_name": "ชื่อใหม่ ทดสอบ"}},
    ("POST", "/api/admin/users/{username}/password"): lambda w, d: {
        "json": {"password": "another-pass-2566"}
    },
}


def body_for(op: Operation, world: World, district: str) -> dict[str, Any]:
    if op.key in BODIES:
        return BODIES[op.key](world, district)
    if op.has_body:
        raise AssertionError(f"no valid body for {op}: add one to tests/security/surface.py BODIES")
    return {}


def fiscal_year() -> int:
    """Today's Thai fiscal year (B.E.)."""
    return thai.fiscal_year(today())


def choices(world: World, district: str, op: Operation) -> dict[str, list[Any]]:
    """Values of ``district``'s objects for each free path parameter of ``op``."""
    ids = world.ids[district]
    batch = [ids["payout_batch"]] if op.document == "payment" else [ids["approval_batch"]]
    return {
        "case_id": list(ids["cases"].values()),
        "batch_id": batch,
        "file_id": list(ids["files"]),
        "line_id": [line["id"] for line in ids["lines"].values()],
        "import_id": [ids["wc_import"]] if op.document == "intake" else [ids["import"]],
        "place_id": [ids["place"]],
        "alert_id": [ids["alert"]],
        "job_id": {
            "gateway": [ids["approval_job"], ids["import_job"]],
            "approval": [ids["approval_job"]],
            "payment": [ids["import_job"]],
        }.get(op.document, []),
        "district_code": [district],
        "fiscal_year": [fiscal_year()],
        "national_id": (
            [p["national_id"] for p in world.participants[district][:2]]
            if "/welfare-card/" in op.path
            else sorted(p["national_id"] for p in world.people[district])
        ),
        "username": [f"officer.{district}"],
        "code": ["COVID19_CAREER"] if "programmes" in op.path else ["MEDICAL"],
        "kind": ["related", "financial"],
    }
