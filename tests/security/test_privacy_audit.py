"""Audit and privacy (reliability.md D1–D3, S9) on the same live system as the isolation sweep.

* Every state change has an audit row: each mutating endpoint is driven once, as the user whose
  job it is, on district 1001's data; before and after each call (and the events it sets off) the
  audit rows and the business tables of every service are compared.  The service called must have
  written the expected action, and every service whose own data changed must have audit rows for
  it.
* The hash chain verifies in every service database; a row edited as the database superuser with
  the append-only trigger bypassed is found at its ``seq``; a plain UPDATE is refused.
* National IDs and account numbers are masked in every JSON answer of every GET endpoint, for every
  role, except the documented full-record views.
* A scanner reads every message body the services sent (``outbox_messages`` and ``dead_letters``)
  and every process log of the run, and reports each full national ID or account number of the
  data the tests created (Thai and full-width digits and dashed forms included).  National IDs may
  appear in no message; account numbers only in the events whose contract carries bank details.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from shared.audit import verify_chain
from shared.config import SERVICES
from shared.testing.system import wait_for
from shared.thai import find_thai_ids
from tests.payment.factories import result_csv
from tests.security.conftest import (
    ARTIFACTS,
    PDF,
    STAGES,
    Client,
    Live,
    World,
    case_body,
    national_id,
    today,
)
from tests.security.surface import choices, expand, fill, fiscal_year, operations

pytestmark = [pytest.mark.e2e]
D = "1001"  # the audit walk changes this district's data

#: Platform tables (messaging, jobs, sessions): not business changes.  Reporting's read models
#: (projections rebuilt from other services' events, audited where they happen) neither: below.
NOT_BUSINESS = frozenset(
    {
        "alembic_version",
        "audit_log",
        "audit_chain_head",
        "outbox_messages",
        "processed_messages",
        "message_attempts",
        "dead_letters",
        "jobs",
        "worker_heartbeats",
        "probe_receipts",
        "idempotency_keys",
        "web_sessions",
        "case_counters",
    }
)
#: Reporting's own data (entered by people); its other ``rpt_*`` tables are read models.
REPORTING_OWN = frozenset({"rpt_budgets", "rpt_templates"})
#: Bookkeeping columns: approval's ``snapshot_at`` orders late deliveries of ``case.updated``; an
#: edit that changes nothing approval shows (a phone number) moves only that and ``updated_at``.
IGNORED_COLUMNS = {"agenda_items": ("snapshot_at", "updated_at")}
#: Events whose contract carries bank details (shared/contracts.py): account numbers may travel.
BANK_EVENTS = frozenset({"cases.locked", "batch.approved", "payout.bank_details_corrected"})


def business(table: str) -> bool:
    """Whether a table holds a service's own business data (not a read model)."""
    return not table.startswith("rpt_") or table in REPORTING_OWN


# --- audit rows ----------------------------------------------------------------------------------
@dataclass
class Walk:
    live: Live
    steps: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def actions_since(self, service: str, seq: int) -> list[str]:
        with self.live.system.sessions(service)() as s:
            return list(
                s.scalars(
                    text("SELECT action FROM audit_log WHERE seq > :seq ORDER BY seq"), {"seq": seq}
                ).all()
            )

    def heads(self) -> dict[str, int]:
        out = {}
        for svc in SERVICES:
            with self.live.system.sessions(svc)() as s:
                out[svc] = int(s.scalar(text("SELECT coalesce(max(seq), 0) FROM audit_log")) or 0)
        return out

    def step(
        self,
        name: str,
        client: Client,
        method: str,
        path: str,
        expect: dict[str, set[str]],
        status: int | tuple[int, ...] = (200, 201, 202),
        **kwargs: Any,
    ) -> requests.Response:
        """One call and everything it sets off; ``expect``: service -> actions one of which it must write."""
        heads = self.heads()
        before = self.live.digest(NOT_BUSINESS, IGNORED_COLUMNS)
        r = client.call(method, path, **kwargs)
        statuses = (status,) if isinstance(status, int) else status
        assert r.status_code in statuses, f"{name}: {method} {path} -> {r.status_code} {r.text[:400]}"
        if r.status_code == 202 and "job_id" in (body := r.json()):
            job = _wait_job(client, body["job_id"])
            assert job["status"] == "done", (name, job)
        self.live.quiesce()
        after = self.live.digest(NOT_BUSINESS, IGNORED_COLUMNS)
        changed = sorted({svc for (svc, t), d in after.items() if before.get((svc, t)) != d and business(t)})
        written = {svc: self.actions_since(svc, seq) for svc, seq in heads.items()}
        for svc in changed:
            if not written[svc]:
                tables = sorted(
                    t for (s, t), d in after.items() if s == svc and before.get((s, t)) != d and business(t)
                )
                self.problems.append(f"{name}: {svc} changed {tables} without an audit row")
        for svc, actions in expect.items():
            if not actions & set(written[svc]):
                self.problems.append(f"{name}: {svc} wrote {written[svc]}, expected one of {sorted(actions)}")
        self.steps.append(
            {
                "step": name,
                "call": f"{method} {path}",
                "changed": changed,
                "audit": {s: a for s, a in written.items() if a},
            }
        )
        return r


def _wait_job(client: Client, job_id: str) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (j := client.get(f"/api/jobs/{job_id}"))["status"] in ("done", "failed") and j,
            timeout=120,
            interval=0.3,
            what=f"job {job_id}",
        )
    )


def _case_body(world: World) -> dict[str, Any]:
    b = case_body(random.Random(99), D, 0, "006")
    b["first_name"] = "นครใหม่"
    b["bank"]["account_name"] = "นครใหม่ ทดสอบสิทธิ์"
    world.people[D].append(b)  # the scanner looks for this person's data too
    return b


def test_every_state_change_has_an_audit_row(live: Live, world: World) -> None:
    live.quiesce()
    walk = Walk(live)
    ids = world.ids[D]
    officer, head, finance = (live.client(f"{r}.{D}") for r in ("officer", "head", "finance"))
    central, operator = live.client("central.admin"), live.client("operator")

    # intake: a case, its edits, documents, home visit; reads of the full record are audited too.
    new = walk.step(
        "record a case",
        officer,
        "POST",
        "/api/intake/cases",
        {"intake": {"case.record"}},
        201,
        json=_case_body(world),
    ).json()
    case = new["id"]
    walk.step(
        "edit a case",
        officer,
        "PATCH",
        f"/api/intake/cases/{case}",
        {"intake": {"case.update"}},
        json={"phone": "0899999998"},
    )
    walk.step(
        "upload a document",
        officer,
        "POST",
        f"/api/intake/cases/{case}/documents",
        {"intake": {"document.upload", "document.replace"}},
        201,
        data={"kind": "related"},
        files={"file": ("related.pdf", PDF, "application/pdf")},
    )
    walk.step(
        "record a home visit",
        officer,
        "POST",
        f"/api/intake/cases/{case}/home-visit",
        {"intake": {"home_visit.record"}},
        201,
        json={"visited_on": today().isoformat(), "findings": "อยู่บ้านเช่า"},
    )
    walk.step("read the full record", officer, "GET", f"/api/intake/cases/{case}", {"intake": {"case.read"}})
    walk.step(
        "download a document",
        officer,
        "GET",
        f"/api/intake/cases/{case}/documents/related",
        {"intake": {"document.download"}},
    )
    walk.step(
        "check an amendment (changes nothing)",
        officer,
        "POST",
        f"/api/intake/cases/{case}/check-amendment",
        {},
        json={"welfare_type_code": "MEDICAL", "amount": "1000.00"},
    )
    code = f"SEC{uuid.uuid4().hex[:6].upper()}"
    walk.step(
        "add a welfare type",
        central,
        "POST",
        "/api/intake/welfare-types",
        {"intake": {"welfare_type.create"}},
        201,
        json={"code": code, "name_th": "ประเภททดสอบ", "ceiling": "5000.00", "ceiling_scope": "per_case"},
    )
    walk.step(
        "change a welfare type",
        central,
        "PATCH",
        f"/api/intake/welfare-types/{code}",
        {"intake": {"welfare_type.update"}},
        json={"ceiling": "6000.00"},
    )
    walk.step(
        "add a programme",
        central,
        "POST",
        "/api/intake/programmes",
        {"intake": {"programme.create"}},
        201,
        json={
            "code": f"P{code}",
            "name_th": "โครงการทดสอบ",
            "welfare_type_code": code,
            "excluded_welfare_type_code": "CAREER",
            "excluded_fiscal_year": 2564,
        },
    )
    walk.step(
        "change a programme",
        central,
        "PATCH",
        f"/api/intake/programmes/P{code}",
        {"intake": {"programme.update"}},
        json={"active": False},
    )

    # approval: the committee's decisions, a meeting and the closing saga.
    wait_for(
        lambda: any(i["case_id"] == case for i in head.get("/api/approval/agenda")["items"]),
        timeout=60,
        interval=0.3,
        what="the new case on the agenda",
    )
    walk.step("defer", officer, "POST", f"/api/approval/agenda/{case}/defer", {"approval": {"case.defer"}})
    walk.step(
        "restore", officer, "POST", f"/api/approval/deferred/{case}/restore", {"approval": {"case.restore"}}
    )
    walk.step(
        "amend",
        officer,
        "PATCH",
        f"/api/approval/agenda/{case}",
        {"approval": {"case.amend"}},
        json={"amount": "1050.00"},
    )
    walk.step(
        "not qualified",
        officer,
        "POST",
        f"/api/approval/cases/{ids['cases']['agenda']}/disqualify",
        {"approval": {"case.disqualify"}},
        json={"reason": "มีรายได้เกินเกณฑ์"},
    )
    meeting = walk.step(
        "record a meeting",
        head,
        "POST",
        "/api/approval/meetings",
        {"approval": {"meeting.record"}},
        201,
        json={"meeting_date": today().isoformat(), "number": "2/2570", "attendees": ["ประธานกรรมการ"]},
    ).json()
    walk.step(
        "close the agenda",
        head,
        "POST",
        "/api/approval/batches",
        {
            "approval": {"batch.close", "batch.approve"},
            "intake": {"case.lock"},
            "payment": {"payout_batch.open"},
        },
        202,
        json={"meeting_id": meeting["id"]},
    )

    # payment, on the first payout batch: correct, file, cancel, file again, mismatch, decide, close.
    batch, line = ids["payout_batch"], ids["lines"]["failed"]
    walk.step(
        "correct bank details",
        finance,
        "PATCH",
        f"/api/payment/lines/{line['id']}/bank",
        {"payment": {"payout_line.correct_bank"}, "intake": {"case.bank_details_corrected"}},
        json={
            "bank_code": line["bank_code"],
            "account_name": line["account_name"],
            "account_no": ids["spare_account"],
        },
    )
    walk.step(
        "make a file",
        finance,
        "GET",
        f"/api/payment/batches/{batch}/files/other.txt",
        {"payment": {"payment_file.create"}},
        params={"effective_date": today().isoformat()},
    )
    made = finance.get(f"/api/payment/batches/{batch}/files")
    newest = max(f["id"] for f in made)
    walk.step(
        "cancel the file",
        finance,
        "POST",
        f"/api/payment/files/{newest}/cancel",
        {"payment": {"payment_file.cancel"}},
        json={"reason": "ทำไฟล์ผิด"},
    )
    walk.step(
        "make the file again",
        finance,
        "GET",
        f"/api/payment/batches/{batch}/files/other.xlsx",
        {"payment": {"payment_file.create"}},
        params={"effective_date": today().isoformat()},
    )
    newest = max(f["id"] for f in finance.get(f"/api/payment/batches/{batch}/files"))
    walk.step(
        "download it again",
        finance,
        "GET",
        f"/api/payment/files/{newest}.xlsx",
        {"payment": {"payment_file.download"}},
    )
    sent = next(x for x in finance.get(f"/api/payment/batches/{batch}")["lines"] if x["id"] == line["id"])
    mismatch = result_csv(
        [
            {
                "ref2": sent["ref2"],
                "bank_code": sent["bank_code"],
                "account_no": sent["account_no"],
                "amount": str(Decimal(sent["amount"]) + 1),
                "status": "SUCCESS",
            }
        ]
    )
    walk.step(
        "upload a result",
        finance,
        "POST",
        f"/api/payment/batches/{batch}/results",
        {"payment": {"result_import.upload"}},
        202,
        files={"file": ("mismatch.csv", mismatch, "text/csv")},
    )
    walk.step(
        "resolve the review",
        finance,
        "POST",
        f"/api/payment/lines/{line['id']}/resolve",
        {"payment": {"payout_line.resolve_review"}},
        json={"decision": "failed", "reason": "ยอดไม่ตรง"},
    )
    walk.step(
        "close as failed",
        finance,
        "POST",
        f"/api/payment/lines/{line['id']}/close-failed",
        {"payment": {"payout_line.close_failed"}},
        json={"reason": "ติดต่อผู้รับไม่ได้"},
    )
    for alert in finance.get("/api/payment/alerts", params={"open": "true", "batch_id": batch}):
        walk.step(
            "acknowledge an alert",
            finance,
            "POST",
            f"/api/payment/alerts/{alert['id']}/acknowledge",
            {"payment": {"payment_alert.acknowledge"}},
        )
    walk.step(
        "settle",
        finance,
        "POST",
        f"/api/payment/batches/{batch}/settle",
        {"payment": {"payout_batch.settle"}, "approval": {"batch.settle"}},
    )

    # reporting and the gateway.
    walk.step(
        "set a budget",
        central,
        "PUT",
        f"/api/reporting/budgets/{fiscal_year()}/{D}",
        {"reporting": {"budget.set"}},
        json={"amount": "2500000.00"},
    )
    walk.step(
        "adjust a template",
        head,
        "PUT",
        "/api/reporting/templates/tk1",
        {"reporting": {"template.set"}},
        json={"title": "แบบ ทค.1 ทดสอบ"},
    )
    user = f"sec.{uuid.uuid4().hex[:6]}"
    walk.step(
        "create a user",
        central,
        "POST",
        "/api/admin/users",
        {"gateway": {"user.create"}},
        201,
        json={
            "username": user,
            "full_name": "ผู้ใช้ ทดสอบ",
            "role": "officer",
            "district_code": D,
            "password": "secret-pass-2566",
        },
    )
    walk.step(
        "change a user",
        central,
        "PATCH",
        f"/api/admin/users/{user}",
        {"gateway": {"user.update"}},
        json={"full_name": "ผู้ใช้ ทดสอบสอง"},
    )
    walk.step(
        "reset a password",
        central,
        "POST",
        f"/api/admin/users/{user}/password",
        {"gateway": {"user.password_reset"}},
        json={"password": "another-pass-2566"},
    )
    walk.step(
        "log in",
        central,
        "POST",
        "/api/auth/token",
        {"gateway": {"auth.login"}},
        json={"username": user, "password": "another-pass-2566"},
    )

    # operations: a probe that fails every time ends in dead letters; its replay is audited.
    key = f"sec-{uuid.uuid4().hex[:8]}"
    walk.step(
        "send a failing probe",
        operator,
        "POST",
        "/api/intake/ops/probe",
        {},
        202,
        json={"key": key, "queue": "approval", "fault": "raise"},
    )
    parked = wait_for(
        lambda: [d for d in operator.get("/api/ops/dead-letters")["items"] if d["status"] == "parked"],
        timeout=60,
        interval=0.3,
        what="the probe in dead letters",
    )
    # the welfare card measure: a list, a project, a place, a result, a follow-up, an intent.
    person = {"national_id": national_id(random.Random(98)), "first_name": "นครบัตรใหม่", "last_name": "ทดสอบ"}
    newcomer = {
        "national_id": national_id(random.Random(97)),
        "first_name": "นครเจตนาใหม่",
        "last_name": "ทดสอบ",
    }
    world.participants[D] += [person, newcomer]  # the scanner looks for them too
    listed = "national_id,first_name,last_name,area_code,group\r\n" + ",".join(
        [person["national_id"], person["first_name"], person["last_name"], D, "2\r\n"]
    )
    walk.step(
        "import participants",
        central,
        "POST",
        "/api/intake/welfare-card/imports",
        {"intake": {"welfare_card.import_upload"}},
        202,
        data={"province_code": "10", "agency": "gsb"},
        files={"file": ("participants.csv", listed.encode(), "text/csv")},
    )
    project = walk.step(
        "add a project",
        central,
        "POST",
        "/api/intake/welfare-card/projects",
        {"intake": {"welfare_card.project_create"}},
        201,
        json={"name_th": "ส่งเสริมการออม", "kind": "agency", "agency": "gsb"},
    ).json()
    place = walk.step(
        "add a registration place",
        central,
        "POST",
        "/api/intake/welfare-card/registration-places",
        {"intake": {"welfare_card.place_add"}},
        201,
        json={"area_code": D, "name": "จุดลงทะเบียนชั่วคราว"},
    ).json()
    walk.step(
        "change a registration place",
        central,
        "PATCH",
        f"/api/intake/welfare-card/registration-places/{place['id']}",
        {"intake": {"welfare_card.place_update"}},
        json={"address": "หน้าสำนักงานเขต"},
    )
    walk.step(
        "record a development result",
        central,
        "POST",
        f"/api/intake/welfare-card/participants/{person['national_id']}/developments",
        {"intake": {"welfare_card.development_record"}},
        201,
        json={"project": project["id"], "result": "completed", "recorded_on": today().isoformat()},
    )
    walk.step(
        "record a follow-up",
        central,
        "POST",
        f"/api/intake/welfare-card/participants/{person['national_id']}/follow-ups",
        {"intake": {"welfare_card.follow_up_record"}},
        201,
        json={"round": "2019-06", "progress": "progressing", "recorded_on": today().isoformat()},
    )
    walk.step(
        "register an intent",
        officer,
        "POST",
        "/api/intake/welfare-card/intents",
        {"intake": {"welfare_card.intent_register"}},
        201,
        json={**newcomer, "registered_on": today().isoformat(), "place_id": place["id"]},
    )

    walk.step(
        "replay a dead letter",
        operator,
        "POST",
        f"/api/ops/dead-letters/{parked[0]['id']}/replay",
        {parked[0]["service"]: {"dead_letter.replay"}},
    )

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "audit-walk.json").write_text(json.dumps(walk.steps, indent=1, ensure_ascii=False))
    print(f"audit walk: {len(walk.steps)} state changes driven, {len(walk.problems)} without their audit row")
    assert not walk.problems, "\n".join(walk.problems)


# --- the hash chain -----------------------------------------------------------------------------
def test_hash_chain_verifies_and_a_tampered_row_is_found(live: Live, world: World) -> None:
    checked = {}
    for svc in SERVICES:
        with live.system.sessions(svc)() as s:
            report = verify_chain(s)
        assert report.ok, (svc, report)
        assert report.checked > 0, svc
        checked[svc] = report.checked
        engine = create_engine(live.system.database_url(svc))  # the superuser, as a DBA would be
        try:
            with engine.begin() as c:
                seq, actor = c.execute(
                    text(
                        "SELECT seq, actor FROM audit_log ORDER BY seq"
                        " OFFSET (SELECT count(*) / 2 FROM audit_log) LIMIT 1"
                    )
                ).one()
            with pytest.raises(Exception, match="append-only"), engine.begin() as c:
                c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = :seq"), {"seq": seq})
            with engine.begin() as c:  # bypass the trigger: only a superuser can
                c.execute(text("SET LOCAL session_replication_role = replica"))
                c.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = :seq"), {"seq": seq})
            with live.system.sessions(svc)() as s:
                tampered = verify_chain(s)
            assert not tampered.ok, svc
            assert tampered.broken_at_seq == seq, (svc, seq, tampered)
        finally:
            with engine.begin() as c:
                c.execute(text("SET LOCAL session_replication_role = replica"))
                c.execute(text("UPDATE audit_log SET actor = :a WHERE seq = :seq"), {"a": actor, "seq": seq})
            engine.dispose()
        with live.system.sessions(svc)() as s:
            assert verify_chain(s).ok, svc
    print("audit chains verified:", checked)


# --- masking in answers --------------------------------------------------------------------------
#: Full-record views where the full values are documented: intake's case detail (audited read),
#: payment's batch detail and review list for the district's finance and head and the central
#: office (docs/api.md "Account numbers").
FULL_VIEWS = {
    ("GET", "/api/intake/cases/{case_id}"): {"officer", "head", "finance", "central_admin"},
    ("GET", "/api/payment/batches/{batch_id}"): {"finance", "head", "central_admin"},
    ("GET", "/api/payment/batches/{batch_id}/review"): {"finance", "head", "central_admin"},
    # The welfare card measure's participant record (not audited when read: see docs/reliability.md).
    ("GET", "/api/intake/welfare-card/participants/{national_id}"): {"officer", "head", "central_admin"},
}
FILE_PATH = re.compile(r"\.(\{fmt\}|xlsx|pdf|txt)$|/documents/\{kind\}$")
DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙０１２３４５６７８９", "01234567890123456789")
SEPARATED = re.compile(r"(?<=[0-9])[-\s](?=[0-9])")


def normalise(text_: str) -> str:
    """Thai and full-width digits as ASCII, and separators between digits removed."""
    return SEPARATED.sub("", text_.translate(DIGITS))


def find_values(text_: str, values: Iterable[str]) -> set[str]:
    """Which of ``values`` (national IDs, account numbers) appear in full in ``text_``."""
    flat = normalise(text_)
    return {v for v in values if re.search(rf"(?<![0-9]){v}(?![0-9])", flat)}


def test_the_scanner_finds_what_it_looks_for() -> None:
    nid = "1101700230705"
    assert find_values(f"id {nid}.", [nid]) == {nid}
    assert find_values("id 1-1017-00230-70-5", [nid]) == {nid}
    assert find_values("id ๑๑๐๑๗๐๐๒๓๐๗๐๕", [nid]) == {nid}
    assert find_values("id １１０１７００２３０７０５", [nid]) == {nid}
    assert find_values("id x-xxxx-xxxx3-07-05 and 11017002307050", [nid]) == set()


def test_national_ids_and_accounts_are_masked_in_answers(live: Live, world: World) -> None:
    secrets_ = world.national_ids() | world.accounts()
    callers = [f"{r}.1008" for r in ("officer", "head", "finance")] + ["central.admin", "operator"]
    calls: list[tuple[Any, Client, str]] = []
    for op in operations(live.client("central.admin")):
        if op.mutating or "/ops/probes/" in op.path or FILE_PATH.search(op.path):
            continue  # documents and files are not JSON answers
        free = [n for n, enum in op.path_params if not enum]
        values = choices(world, "1008", op)
        if any(not values.get(n) for n in free):
            continue
        for username in callers:
            for params in expand(op, values):
                calls.append((op, live.client(username), fill(op.path, params)))

    def send(item: tuple[Any, Client, str]) -> requests.Response:
        return item[1].probe("GET", item[2])

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, calls))
    scanned, full, findings = 0, 0, []
    for (op, client, path), r in zip(calls, answers, strict=True):
        if not r.ok or not r.headers.get("Content-Type", "").startswith("application/json"):
            continue
        scanned += 1
        shown = find_values(json.dumps(r.json(), ensure_ascii=False), secrets_)
        if shown and client.user["role"] in FULL_VIEWS.get(op.key, ()):
            full += 1
        elif shown:
            findings.append(f"{client.username} GET {path}: {len(shown)} full values")
    print(f"masking: {scanned} JSON answers scanned, {full} documented full views, {len(findings)} findings")
    assert full > 0, "the full views show the values: the scanner must see them (positive control)"
    assert not findings, "\n".join(findings)


# --- the broker and the logs ---------------------------------------------------------------------
def _allowed(event_type: str, body: dict[str, Any]) -> bool:
    if event_type in BANK_EVENTS:
        return True
    payload = body.get("payload") or {}
    return (
        event_type == "case.updated"
        and payload.get("bank") is not None
        and "bank" in payload.get("changed", [])
    )


def test_no_personal_data_in_messages_or_logs(live: Live, world: World) -> None:
    live.quiesce()
    nids, accounts = world.national_ids(), world.accounts()
    findings: list[str] = []
    messages = allowed = 0
    for svc in STAGES:
        with live.system.sessions(svc)() as s:
            rows = s.execute(
                text(
                    "SELECT 'outbox', event_type, body FROM outbox_messages"
                    " UNION ALL SELECT 'dead letter', event_type, body FROM dead_letters"
                )
            ).all()
        for where, event_type, body in rows:
            messages += 1
            payload = json.dumps(body, ensure_ascii=False)
            if found := find_values(payload, nids) | set(find_thai_ids(payload)):
                findings.append(f"{svc} {where} {event_type}: {len(found)} national IDs")
            if found := find_values(payload, accounts):
                if _allowed(event_type, body):
                    allowed += 1
                else:
                    findings.append(f"{svc} {where} {event_type}: {len(found)} account numbers")
    logs = sorted(live.system.logdir.glob("*.log"))
    log_bytes = 0
    for path in logs:
        content = path.read_text(errors="replace")
        log_bytes += len(content)
        if found := find_values(content, nids | accounts):
            findings.append(f"log {path.name}: {len(found)} national IDs or account numbers")
    summary = {
        "messages": messages,
        "bank_events_with_accounts": allowed,
        "logs": len(logs),
        "log_bytes": log_bytes,
        "findings": len(findings),
    }
    print("privacy scan:", json.dumps(summary))
    (ARTIFACTS / "privacy-scan.json").write_text(json.dumps({**summary, "details": findings}, indent=1))
    assert allowed > 0, "bank events carry account numbers: the scanner must see them (positive control)"
    assert len(logs) >= len(SERVICES), logs
    assert not findings, "\n".join(findings)
