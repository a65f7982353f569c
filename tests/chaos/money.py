"""The money path under faults: a payout batch whose every step is interrupted (P3, P5–P7, P11).

1. ``batch.approved`` arrives through the broker twice (a redelivery) and the payment worker's
   pool processes are SIGKILLed while it builds the batch.
2. Each bank group's file is made (``GET …/files/{group}.txt`` with an ``Idempotency-Key``)
   while a thread terminates every connection to payment's database every few tens of
   milliseconds; finance retries with the same key until a file comes back.
3. Four bank reports are imported, each interrupted while its first attempt holds the import's
   transaction open (``ECASE_PAYMENT_IMPORT_PAUSE_MS``): pool processes SIGKILLed; the worker's
   main process SIGKILLed and restarted; Redis restarted without persistence (the import's
   message is lost and payment's outbox sends it again); PostgreSQL connections terminated.
   The first report is then uploaded again (a duplicate), and the fourth repeats earlier lines
   with one contradiction.

Then: one payout line per case, no transfer paid twice, at most one ``payout.paid`` per case,
every line in the state its reports say, every import's counters adding up to its lines, and
the batch's reconciliation buckets adding up to its count and total.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests
from sqlalchemy import func, select, text

from services.payment.models import FileLine, PaymentAlert, PaymentFile, PayoutBatch, PayoutLine
from shared import messaging
from shared.models import MessageAttempt, OutboxMessage, ProcessedMessage
from shared.testing.system import System, wait_for
from tests.chaos.faults import Faults, terminate_backends
from tests.payment import factories

SERVICE, WORKER = "payment", "payment-worker"
IMPORT_CONSUMER = messaging.task_name(SERVICE, "payment.result_import_requested")
COUNTERS = (
    "applied",
    "reversed",
    "review",
    "duplicates",
    "contradictions",
    "invalid_reversals",
    "unknown",
    "ambiguous",
)
KTB_ENV = {
    "ECASE_PAYMENT_KTB_COMPANY_ID": "TESTCO0001",
    "ECASE_PAYMENT_KTB_DEBIT_ACCOUNT": "1234567890",
    "ECASE_PAYMENT_KTB_SENDER_NAME": "WELFARE FUND TEST",
}


@dataclass
class MoneyResult:
    cases: int
    batch_id: int = 0
    steps: list[dict[str, Any]] = field(default_factory=list)
    lines_per_case_max: int = 0
    paid_transfers_per_line_max: int = 0
    paid_events_per_case_max: int = 0
    paid_lines: int = 0
    paid_events: int = 0
    failed_lines: int = 0
    states_wrong: list[str] = field(default_factory=list)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    reconciliation_adds_up: bool = False
    imports_not_adding_up: list[dict[str, Any]] = field(default_factory=list)
    files_per_group: dict[str, int] = field(default_factory=dict)
    contradiction_alerts: int = 0
    http_500: int = 0
    total_seconds: float = 0.0

    def problems(self) -> list[str]:
        out = []
        if self.lines_per_case_max != 1:
            out.append(f"a case has {self.lines_per_case_max} payout lines")
        if self.paid_transfers_per_line_max > 1:
            out.append(f"a payee was paid {self.paid_transfers_per_line_max} times")
        if self.paid_events_per_case_max > 1:
            out.append(f"a case got {self.paid_events_per_case_max} payout.paid events")
        if self.paid_events != self.paid_lines:
            out.append(f"{self.paid_lines} paid lines but {self.paid_events} payout.paid events")
        if self.states_wrong:
            out.append(f"lines in the wrong state: {self.states_wrong[:5]}")
        if not self.reconciliation_adds_up:
            out.append(f"reconciliation does not add up: {self.reconciliation}")
        if self.imports_not_adding_up:
            out.append(f"import counters do not add up: {self.imports_not_adding_up}")
        if any(n != 1 for n in self.files_per_group.values()):
            out.append(f"files per bank group: {self.files_per_group}")
        if self.contradiction_alerts != 1:
            out.append(f"{self.contradiction_alerts} contradiction alerts (1 expected)")
        if self.http_500:
            out.append(f"{self.http_500} answers were HTTP 500")
        # A fault must have interrupted what it was aimed at, or the run proved nothing.  Making a
        # file is one short request racing the terminator: a request that slips between two
        # terminations is absorbed by the pool's pre-ping and simply succeeds, so the file step
        # counts as exercised when the fault landed in either bank group's file.
        file_steps = [step for step in self.steps if step["step"].startswith("make the ")]
        if file_steps and not any(step.get("landed", True) for step in file_steps):
            out.append(f"no file step was interrupted by its fault: {file_steps}")
        for step in self.steps:
            if step not in file_steps and not step.get("landed", True):
                out.append(f"the fault of step {step['step']!r} did not interrupt it: {step}")
        return out


class Finance:
    """Finance of district 1008 talking to payment's web process."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.http = requests.Session()
        self.http.headers.update(factories.token(system.env["ECASE_SECRET_KEY"]))
        self.statuses: list[int] = []

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        r = self.http.request(method, self.system.url(SERVICE, f"/api/{SERVICE}{path}"), timeout=60, **kwargs)
        self.statuses.append(r.status_code)
        return r

    def read(self, path: str) -> dict[str, Any]:
        """A GET outside the faults, asked again while the service answers 503 (a full database)."""

        def answer() -> tuple[requests.Response] | None:  # (a 404 Response is falsy)
            r = self.call("GET", path)
            return (r,) if r.status_code != 503 else None

        r = wait_for(answer, timeout=60, interval=0.5, what=f"GET {path} without 503")[0]
        r.raise_for_status()
        return dict(r.json())

    def import_done(self, import_id: int, timeout: float) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            r = self.call("GET", f"/result-imports/{import_id}")
            if r.status_code != 200:
                return None
            body = r.json()
            return body if body["status"] in ("done", "rejected") else None

        return wait_for(done, timeout=timeout, interval=0.5, what=f"import {import_id}")


def report(lines: list[dict[str, Any]], statuses: list[str]) -> bytes:
    return factories.result_csv(
        [
            {
                "ref2": line["ref2"],
                "bank_code": line["bank_code"],
                "account_no": line["account_no"],
                "amount": line["amount"],
                "status": status,
            }
            for line, status in zip(lines, statuses, strict=True)
        ]
    )


def _attempts(system: System, event_id: str) -> int:
    with system.sessions(SERVICE)() as s:
        row = s.get(MessageAttempt, (event_id, IMPORT_CONSUMER))
        return row.attempts if row else 0


def _acked(system: System, event_id: str) -> bool:
    with system.sessions(SERVICE)() as s:
        return bool(
            s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.event_id == event_id, OutboxMessage.acked_at.is_not(None))
            )
        )


def _duplicates(system: System, event_id: str) -> int:
    """Deliveries absorbed after the effect (a killed main process's orphan may still commit)."""
    with system.sessions(SERVICE)() as s:
        row = s.get(ProcessedMessage, (event_id, IMPORT_CONSUMER))
        return row.duplicates if row else 0


def _import_event(system: System, import_id: int) -> str | None:
    with system.sessions(SERVICE)() as s:
        for event_id, body in s.execute(
            select(OutboxMessage.event_id, OutboxMessage.body).where(
                OutboxMessage.event_type == "payment.result_import_requested"
            )
        ):
            if body["payload"]["import_id"] == import_id:
                return str(event_id)
    return None


class Terminator(threading.Thread):
    """Terminates every connection to one service's database every ``every`` seconds."""

    def __init__(self, system: System, service: str, every: float) -> None:
        super().__init__(name="chaos-pg-terminator", daemon=True)
        self.system, self.service, self.every = system, service, every
        self.stop = threading.Event()
        self.terminated = 0
        self.rounds = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.terminated += terminate_backends(self.system, self.service)
            self.rounds += 1
            self.stop.wait(self.every)


def make_file(system: System, finance: Finance, batch_id: int, group: str, log: Any) -> dict[str, Any]:
    """Download (make) a group's file while payment's connections keep being terminated.

    The terminations go on through the first two tries, which then fail (503); finance retries
    with the same Idempotency-Key.  A claim whose release was cut too answers 409 until the
    chaos profile's short lock timeout lets the retry take it over.
    """
    key = str(uuid.uuid4())
    terminator = Terminator(system, SERVICE, every=0.01)
    terminator.start()
    tries: list[int] = []
    started = time.monotonic()
    try:
        while True:
            r = finance.call(
                "GET", f"/batches/{batch_id}/files/{group}.txt", headers={"Idempotency-Key": key}
            )
            tries.append(r.status_code)
            if r.status_code == 200:
                break
            if sum(1 for t in tries if t != 200) >= 2:
                terminator.stop.set()  # the outage ends; finance's next retry must get the file
            if time.monotonic() - started > 120:
                raise AssertionError(f"no {group} file after {tries}: {r.text[:300]}")
            time.sleep(0.2)  # finance clicks again
    finally:
        terminator.stop.set()
        terminator.join()
    again = finance.call("GET", f"/batches/{batch_id}/files/{group}.txt")
    step = {
        "step": f"make the {group} file",
        "fault": "PostgreSQL connections terminated every 10 ms",
        "connections_terminated": terminator.terminated,
        "answers": tries,
        "stale_claim_taken_over": 409 in tries,
        "landed": any(t != 200 for t in tries),
        "same_bytes_again": again.status_code == 200 and again.content == r.content,
        "file_id": int(r.headers["X-Payment-File-Id"]),
        "lines": int(r.headers["X-Payment-File-Lines"]),
    }
    log(f"  file {group}: answers {tries}, {terminator.terminated} connections terminated")
    return step


def run_import(
    system: System,
    faults: Faults,
    finance: Finance,
    batch_id: int,
    data: bytes,
    fault: str,
    timeout: float,
    log: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload a report, inject ``fault`` while its first attempt holds the transaction, wait."""
    r = finance.call("POST", f"/batches/{batch_id}/results", files={"file": ("result.csv", data, "text/csv")})
    assert r.status_code == 202, r.text
    upload = r.json()
    step: dict[str, Any] = {"step": f"import {upload['import_id']}", "fault": fault}
    if upload.get("duplicate_of"):
        step.update(duplicate_of=upload["duplicate_of"], landed=True)
        return step, finance.import_done(upload["import_id"], timeout)
    event_id = wait_for(
        lambda: _import_event(system, upload["import_id"]), timeout=30, what="the import event"
    )
    wait_for(lambda: _attempts(system, event_id) == 1, timeout=60, interval=0.05, what="the first attempt")
    started = time.monotonic()
    if fault == "pool":
        for pid in system.children(WORKER):
            faults.kill_child(WORKER, pid)
    elif fault == "main":
        faults.kill_worker_main(WORKER)
    elif fault == "redis":
        faults.restart_redis()
    elif fault == "pg":
        faults.terminate_pg(SERVICE)
    result = finance.import_done(upload["import_id"], timeout)
    # The message system is quiet for this event once payment's outbox has the acknowledgement.
    wait_for(lambda: _acked(system, event_id), timeout=timeout, interval=0.2, what="the acknowledgement")
    attempts = _attempts(system, event_id)
    if fault == "main" and attempts < 2:
        # The orphaned pool process finished the import before dying; Redis must still hand the
        # message out again after the visibility timeout, and the inbox must absorb it.
        wait_for(lambda: _duplicates(system, event_id) >= 1, timeout=timeout, interval=0.5, what="redelivery")
    duplicates = _duplicates(system, event_id)
    step.update(
        attempts=attempts,
        deliveries_absorbed=duplicates,
        # A Redis restart may also end with the first attempt committing (the worker finishes it
        # while reconnecting) and nothing to redeliver: recorded, not required.
        landed=attempts >= 2 or duplicates >= 1 or fault == "redis",
        interrupted=attempts >= 2 or duplicates >= 1,
        recovered_after_s=round(time.monotonic() - started, 1),
        status=result["status"],
        **{k: result[k] for k in ("lines", "paid", "failed", "duplicates", "contradictions")},
    )
    faults.reap_orphans()
    log(f"  {step}")
    return step, result


def run_money(
    system: System, faults: Faults, result: MoneyResult, timeout: float, log: Any = print
) -> MoneyResult:
    """Fill ``result`` step by step (what was done stays there if a step breaks)."""
    started = time.monotonic()
    cases_count = result.cases
    finance = Finance(system)
    cases = [
        factories.case(amount=f"{100 + i}.{i % 100:02d}", bank_code="006" if i % 4 == 0 else "004")
        for i in range(cases_count)
    ]
    # 1. batch.approved twice; the pool processes die while the batch is being built.
    envelope = factories.batch_approved(cases)
    app = system.celery()
    for _ in range(2):
        app.send_task(
            messaging.task_name(SERVICE, "batch.approved"), kwargs={"event": envelope}, queue=SERVICE
        )
    build_attempts = wait_for(
        lambda: _event_attempts(system, envelope["event_id"]), timeout=60, interval=0.01, what="the build"
    )
    for pid in system.children(WORKER):
        faults.kill_child(WORKER, pid)

    def built() -> int | None:
        with system.sessions(SERVICE)() as s:
            return s.scalar(
                select(PayoutBatch.id).where(PayoutBatch.approval_batch_id == envelope["payload"]["batch_id"])
            )

    batch_id = wait_for(built, timeout=timeout, interval=0.2, what="the payout batch")
    result.batch_id = batch_id
    result.steps.append(
        {
            "step": "build the batch (batch.approved delivered twice)",
            "fault": "pool processes SIGKILLed during the build",
            "attempts_seen_before_kill": build_attempts,
            "attempts": (attempts := _event_attempts(system, envelope["event_id"])),
            # The build takes a fraction of a second: the kill may come after it (not required).
            "interrupted": attempts > build_attempts,
        }
    )
    # 2. The files, with the database connections terminated.
    for group in ("ktb", "other"):
        result.steps.append(make_file(system, finance, batch_id, group, log))
    detail = finance.read(f"/batches/{batch_id}")
    lines = detail["lines"]
    ktb = [ln for ln in lines if ln["bank_code"] == "006"]
    other = [ln for ln in lines if ln["bank_code"] != "006"]
    half = len(other) // 2
    part_a, part_c = other[:half], other[half:]
    status_a = ["FAILED" if i % 7 == 3 else "SUCCESS" for i in range(len(part_a))]
    status_c = ["FAILED" if i % 5 == 2 else "SUCCESS" for i in range(len(part_c))]
    expected = {ln["case_id"]: "paid" for ln in ktb}
    expected.update(
        {
            ln["case_id"]: ("paid" if s == "SUCCESS" else "failed")
            for ln, s in zip(part_a, status_a, strict=True)
        }
    )
    expected.update(
        {
            ln["case_id"]: ("paid" if s == "SUCCESS" else "failed")
            for ln, s in zip(part_c, status_c, strict=True)
        }
    )
    # D repeats A and C; the first paid payee of A is now said to have failed (a contradiction).
    status_d = status_a + status_c
    status_d[status_a.index("SUCCESS")] = "FAILED"
    imports = []
    for data, fault in (
        (report(part_a, status_a), "pool"),
        (report(ktb, ["SUCCESS"] * len(ktb)), "main"),
        (report(part_c, status_c), "redis"),
        (report(part_a + part_c, status_d), "pg"),
        (report(part_a, status_a), "none (the first report again)"),
    ):
        step, imported = run_import(system, faults, finance, batch_id, data, fault, timeout, log)
        result.steps.append(step)
        imports.append(imported)
    # 3. The verdict.
    for imported in imports:
        if imported.get("duplicate_of"):
            continue
        total = sum(int(imported.get(k) or 0) for k in COUNTERS)
        if imported["status"] != "done" or total != imported["lines"]:
            result.imports_not_adding_up.append(
                {k: imported.get(k) for k in ("id", "status", "lines", *COUNTERS)}
            )
    batch = finance.read(f"/batches/{batch_id}")
    for line in batch["lines"]:
        if line["state"] != expected[line["case_id"]]:
            result.states_wrong.append(f"{line['case_no']}: {line['state']} != {expected[line['case_id']]}")
    rec = batch["reconciliation"]
    result.reconciliation = rec
    buckets = ("pending", "paid", "failed", "reversed", "exceptions_open")
    result.reconciliation_adds_up = bool(
        rec["balanced"]
        and sum(rec[b]["count"] for b in buckets) == rec["count"] == cases_count
        and sum(Decimal(rec[b]["amount"]) for b in buckets)
        == Decimal(rec["amount"])
        == sum(Decimal(c["amount"]) for c in cases)
    )
    with system.sessions(SERVICE)() as s:
        result.lines_per_case_max = s.scalar(
            select(func.max(text("n"))).select_from(
                select(func.count().label("n"))
                .select_from(PayoutLine)
                .group_by(PayoutLine.case_id)
                .subquery()
            )
        )
        result.paid_transfers_per_line_max = (
            s.scalar(
                select(func.max(text("n"))).select_from(
                    select(func.count().label("n"))
                    .select_from(FileLine)
                    .where(FileLine.outcome == "paid")
                    .group_by(FileLine.line_id)
                    .subquery()
                )
            )
            or 0
        )
        result.paid_lines = s.scalar(
            select(func.count()).select_from(PayoutLine).where(PayoutLine.state == "paid")
        )
        result.failed_lines = s.scalar(
            select(func.count()).select_from(PayoutLine).where(PayoutLine.state == "failed")
        )
        paid_events: dict[str, int] = {}
        for body in s.scalars(
            select(OutboxMessage.body).where(
                OutboxMessage.event_type == "payout.paid", OutboxMessage.destination == "intake"
            )
        ):
            case_id = body["payload"]["case_id"]
            paid_events[case_id] = paid_events.get(case_id, 0) + 1
        result.paid_events = sum(paid_events.values())
        result.paid_events_per_case_max = max(paid_events.values(), default=0)
        for group in ("ktb", "other"):
            result.files_per_group[group] = s.scalar(
                select(func.count())
                .select_from(PaymentFile)
                .where(PaymentFile.batch_id == batch_id, PaymentFile.bank_group == group)
            )
        result.contradiction_alerts = s.scalar(
            select(func.count()).select_from(PaymentAlert).where(PaymentAlert.kind == "contradiction")
        )
    result.http_500 = sum(1 for code in finance.statuses if code >= 500 and code != 503)
    result.total_seconds = round(time.monotonic() - started, 1)
    return result


def _event_attempts(system: System, event_id: str) -> int:
    with system.sessions(SERVICE)() as s:
        return int(
            s.scalar(select(func.max(MessageAttempt.attempts)).where(MessageAttempt.event_id == event_id))
            or 0
        )
