"""District isolation, audit and privacy (reliability.md S5, S9, D1–D3) against one live system.

One live E-Case for the whole package (``scope="package"``): every process of deploy/Procfile on
the PostgreSQL backend (throwaway databases, a private Redis key prefix), the demo users and the
reference data loaded.  ``world`` then builds real data for districts 1008 and 1001 through the
gateway's JSON API only, as the districts' own users would: cases with documents and a home visit,
a committee meeting, an approval batch closed and approved by the saga, the payout batch with both
file groups downloaded, a bank result uploaded and imported (one payee paid, one failed), a
contradicting result that raises an alert, the reports, and cases left on the agenda, deferred and
not qualified.  ``world.ids[district]`` names every object; ``world.markers(district)`` lists the
strings (case ids, names, national IDs, account numbers, batch ids) that betray one district's data.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select, text

from services.gateway.demo import load_demo_users
from shared.config import SERVICES
from shared.models import Job, OutboxMessage
from shared.testing.system import System, wait_for
from shared.thai import national_id_check_digit
from tests.payment.factories import result_csv

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "security"
PASSWORD = "ecase-demo-2566"
STAGES = ("intake", "approval", "payment", "reporting")
PROCESSES = (
    "gateway",
    *STAGES,
    *(f"{s}-worker" for s in STAGES),
    *(f"{s}-relay" for s in STAGES),
)
ENV = {
    "ECASE_PAYMENT_KTB_COMPANY_ID": "TESTCO0001",
    "ECASE_PAYMENT_KTB_DEBIT_ACCOUNT": "1234567890",
    "ECASE_PAYMENT_KTB_SENDER_NAME": "WELFARE FUND TEST",
    "ECASE_RETRY_BACKOFF_MAX": "1",
    "ECASE_LOGIN_MAX_FAILURES": "100000",
    "ECASE_WORKER_CONCURRENCY": "1",
    "ECASE_PUBLIC_CHECK_LIMIT": "10000 per minute",
}
USERS = (
    "officer.1008",
    "head.1008",
    "finance.1008",
    "officer.1001",
    "head.1001",
    "finance.1001",
    "central.admin",
    "operator",
)
#: Tables that change without any request: heartbeats, the audit chain (compared on its own).
VOLATILE = frozenset({"worker_heartbeats", "audit_log", "audit_chain_head"})
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
# Thai given names per district: distinctive, so a name in an answer says whose data it is.
NAMES = {
    "1008": ("ป้อมแก้ว", "ป้อมทอง", "ป้อมเงิน", "ป้อมนาค", "ป้อมพลอย"),
    "1001": ("นครแก้ว", "นครทอง", "นครเงิน", "นครนาค", "นครพลอย"),
}
# The welfare card measure's participants (and one person who registers an intent) per district.
WC_NAMES = {
    "1008": ("ป้อมบัตรหนึ่ง", "ป้อมบัตรสอง", "ป้อมแสดงเจตนา"),
    "1001": ("นครบัตรหนึ่ง", "นครบัตรสอง", "นครแสดงเจตนา"),
}


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Bangkok")).date()


class Client:
    """One demo user on the gateway's JSON API (bearer token)."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.username = username
        r = requests.post(
            f"{base_url}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
        )
        assert r.status_code == 200, r.text
        self.user = r.json()["user"]
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        self._local = threading.local()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request (thread-safe: a keep-alive session per thread)."""
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        return self._local.http.request(
            method,
            f"{self.base_url}{path}",
            headers=self.headers,
            timeout=120,
            allow_redirects=False,
            **kwargs,
        )

    def probe(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``call``, asked again (up to 3 times) while the answer is a 503: on a loaded machine a
        service may briefly lack a database connection, and a 503 would test nothing."""
        for attempt in range(3):
            r = self.call(method, path, **kwargs)
            if r.status_code != 503:
                break
            time.sleep(1 + attempt)
        return r

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, f"{self.username} {method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.headers.get("Content-Type", "").startswith("application/json") else r.content

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.ok("GET", path, **kwargs)


@dataclass
class Live:
    """The running system and a logged-in client per demo user."""

    system: System
    clients: dict[str, Client] = field(default_factory=dict)
    _tables: dict[str, list[str]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.system.url("gateway")

    def client(self, username: str) -> Client:
        if username not in self.clients:
            self.clients[username] = Client(self.base_url, username)
        return self.clients[username]

    def quiesce(self, timeout: float = 120) -> None:
        """Wait until every message sent has been applied (or parked) and every job has finished.

        Quiet means: no unsent outbox row, no queued or running job, and every (event, queue) an
        outbox sent is in the receiving service's inbox (``processed_messages``) or parked in its
        dead letters.
        """

        def idle() -> bool:
            sent: set[tuple[str, str]] = set()
            received: set[tuple[str, str]] = set()
            for svc in SERVICES:
                with self.system.sessions(svc)() as s:
                    if s.scalar(
                        select(func.count())
                        .select_from(OutboxMessage)
                        .where(OutboxMessage.published_at.is_(None))
                    ) or s.scalar(
                        select(func.count()).select_from(Job).where(Job.status.in_(("queued", "running")))
                    ):
                        return False
                    sent |= {
                        (e, d)
                        for e, d in s.execute(text("SELECT event_id, destination FROM outbox_messages"))
                    }
                    received |= {
                        (e, svc) for (e,) in s.execute(text("SELECT event_id FROM processed_messages"))
                    }
                    received |= {
                        (e, q)
                        for e, q in s.execute(
                            text("SELECT event_id, queue FROM dead_letters WHERE status = 'parked'")
                        )
                    }
            return sent <= received

        # Two quiet observations in a row: a consumer may be between its commit and its next send.
        wait_for(lambda: idle() and idle(), timeout=timeout, interval=0.2, what="a quiet system")

    def digest(
        self, exclude: frozenset[str] = VOLATILE, ignore: Mapping[str, tuple[str, ...]] | None = None
    ) -> dict[tuple[str, str], str]:
        """(service, table) -> md5 of every row, for every table of every service database
        but ``exclude``; ``ignore``: table -> columns left out of the rows."""
        ignore = ignore or {}

        def row(table: str) -> str:
            if table not in ignore:
                return "r::text"
            return "(to_jsonb(r) - " + " - ".join(f"'{c}'" for c in ignore[table]) + ")::text"

        out: dict[tuple[str, str], str] = {}
        for svc in SERVICES:
            with self.system.sessions(svc)() as s:
                if svc not in self._tables:
                    self._tables[svc] = list(
                        s.scalars(
                            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
                        ).all()
                    )
                query = " UNION ALL ".join(
                    f"SELECT '{t}', (SELECT md5(coalesce(string_agg({row(t)}, '|' ORDER BY {row(t)}), ''))"
                    f' FROM "{t}" r)'
                    for t in self._tables[svc]
                    if t not in exclude
                )
                for table, digest in s.execute(text(query)).all():
                    out[(svc, table)] = digest
        return out

    def audit_count(self, service: str) -> int:
        with self.system.sessions(service)() as s:
            return int(s.scalar(text("SELECT count(*) FROM audit_log")) or 0)


def _seed(system: System) -> None:
    with system.sessions("gateway", write=True).begin() as s:
        load_demo_users(s)
    with system.environment():
        from services.intake.reference import load_reference_data

        with system.sessions("intake", write=True).begin() as s:
            load_reference_data(s)


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Live]:
    """Every process of deploy/Procfile on PostgreSQL + Redis, seeded with the demo users."""
    system = System(tmp_path_factory.mktemp("security"), backend="postgres", extra_env=ENV)
    system.migrate(SERVICES)
    _seed(system)
    system.start(*PROCESSES)
    passed = False
    try:
        for svc in SERVICES:  # generous: the machine is shared and may be loaded
            system.wait_healthy(svc, timeout=180)
        for svc in STAGES:
            system.wait_worker(svc, timeout=180)
        live = Live(system)
        yield live
        passed = request.session.testsfailed == 0
    finally:
        system.close()
        if not passed:
            shutil.rmtree(ARTIFACTS / "logs", ignore_errors=True)
            shutil.copytree(system.logdir, ARTIFACTS / "logs")


# --- the data of two districts --------------------------------------------------------------------
def national_id(rng: random.Random) -> str:
    first12 = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return first12 + str(national_id_check_digit(first12))


def account_no(rng: random.Random) -> str:
    # 10 digits not starting with 0 and unlike the debit account of the test settings.
    return str(rng.randint(2_000_000_000, 9_899_999_999))


@dataclass
class World:
    """What ``build_world`` made: ids per district and the personal data it used."""

    live: Live
    ids: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: The welfare card measure's people: imported participants, then one intent's person.
    participants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def national_ids(self, district: str | None = None) -> set[str]:
        everyone = [*self.people.items(), *self.participants.items()]
        return {p["national_id"] for d, ps in everyone if district in (None, d) for p in ps}

    def accounts(self, district: str | None = None) -> set[str]:
        spare = {ids["spare_account"] for d, ids in self.ids.items() if district in (None, d)}
        return spare | {
            p["bank"]["account_no"] for d, ps in self.people.items() if district in (None, d) for p in ps
        }

    def names(self, district: str | None = None) -> set[str]:
        everyone = [*self.people.items(), *self.participants.items()]
        return {p["first_name"] for d, ps in everyone if district in (None, d) for p in ps}

    def personal(self, district: str | None = None) -> set[str]:
        """Personal data: national IDs, account numbers and given names."""
        return self.national_ids(district) | self.accounts(district) | self.names(district)

    def markers(self, district: str) -> set[str]:
        """Strings whose presence in an answer shows that district's objects."""
        ids = self.ids[district]
        out = self.personal(district)
        out |= {ids["approval_batch"], ids["meeting"]}
        out |= set(ids["cases"].values())
        out |= {line["ref2"] for line in ids["lines"].values() if line.get("ref2")}
        return out


def case_body(rng: random.Random, district: str, n: int, bank_code: str) -> dict[str, Any]:
    first = NAMES[district][n]
    return {
        "national_id": national_id(rng),
        "title": "นาง",
        "sex": "female",
        "first_name": first,
        "last_name": "ทดสอบสิทธิ์",
        "birth_date": "1970-05-01",
        "disabled": False,
        "house_id": "".join(str(rng.randint(0, 9)) for _ in range(11)),
        "welfare_type_code": "MEDICAL",
        "amount": f"{1000 + 100 * n}.00",
        "hardship": "ป่วยเรื้อรัง รายได้ไม่พอค่ารักษา",
        "bank": {"bank_code": bank_code, "account_name": f"{first} ทดสอบสิทธิ์", "account_no": account_no(rng)},
        "phone": "0812345678",
        "email": "citizen@example.com",
    }


def _wait_job(client: Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    job = wait_for(
        lambda: (j := client.get(f"/api/jobs/{job_id}"))["status"] in ("done", "failed") and j,
        timeout=timeout,
        interval=0.3,
        what=f"job {job_id}",
    )
    assert job["status"] == "done", job
    return dict(job)


def _report_row(line: dict[str, Any], status: str) -> dict[str, str]:
    return {
        "ref2": line["ref2"],
        "bank_code": line["bank_code"],
        "account_no": line["account_no"],
        "amount": line["amount"],
        "status": status,
    }


def build_district(live: Live, world: World, district: str, rng: random.Random) -> None:
    """Everything a district does, through the gateway's API, as the district's own users."""
    officer = live.client(f"officer.{district}")
    head = live.client(f"head.{district}")
    finance = live.client(f"finance.{district}")
    people = [case_body(rng, district, n, "006" if n % 2 == 0 else "014") for n in range(5)]
    world.people[district] = people
    ids: dict[str, Any] = {"cases": {}, "lines": {}, "spare_account": account_no(rng)}
    world.ids[district] = ids

    def record(role_name: str, body: dict[str, Any]) -> str:
        created = officer.ok("POST", "/api/intake/cases", 201, json=body)
        ids["cases"][role_name] = created["id"]
        return str(created["id"])

    # Two cases for the batch (one KTB payee, one other-bank payee), with documents and a visit.
    paid = record("paid", people[0])
    record("failed", people[1])
    for kind in ("related", "financial"):
        officer.ok(
            "POST",
            f"/api/intake/cases/{paid}/documents",
            201,
            data={"kind": kind},
            files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
        )
    officer.ok(
        "POST",
        f"/api/intake/cases/{paid}/home-visit",
        201,
        json={"visited_on": today().isoformat(), "findings": "บ้านเช่า สภาพทรุดโทรม"},
    )
    detail = officer.get(f"/api/intake/cases/{paid}")
    ids["document_sha256"] = detail["documents"][0]["sha256"]
    wait_for(
        lambda: head.get("/api/approval/agenda")["count"] == 2, timeout=60, interval=0.3, what="the agenda"
    )
    meeting = head.ok(
        "POST",
        "/api/approval/meetings",
        201,
        json={"meeting_date": today().isoformat(), "number": "1/2569", "attendees": ["ประธานกรรมการ"]},
    )
    ids["meeting"] = str(meeting["id"])
    closing = head.ok("POST", "/api/approval/batches", 202, json={"meeting_id": ids["meeting"]})
    ids["approval_batch"] = str(closing["batch_id"])
    ids["approval_job"] = closing["job_id"]
    _wait_job(head, closing["job_id"])

    # After the closing: one case stays on the agenda, one is deferred, one is not qualified.
    record("agenda", people[2])
    record("deferred", people[3])
    record("disqualified", people[4])
    wait_for(
        lambda: head.get("/api/approval/agenda")["count"] == 3,
        timeout=60,
        interval=0.3,
        what="the new agenda",
    )
    officer.ok("POST", f"/api/approval/agenda/{ids['cases']['deferred']}/defer")
    officer.ok(
        "POST",
        f"/api/approval/cases/{ids['cases']['disqualified']}/disqualify",
        json={"reason": "มีรายได้เกินเกณฑ์"},
    )

    # Payment: the payout batch, both file groups, the bank's result and a contradiction.
    def payout() -> dict[str, Any] | None:
        items = finance.get("/api/payment/batches")["items"]
        return next((b for b in items if str(b["approval_batch_id"]) == ids["approval_batch"]), None)

    batch = wait_for(payout, timeout=120, interval=0.3, what="the payout batch")
    ids["payout_batch"] = batch["id"]
    for group, fmt in (("ktb", "txt"), ("other", "xlsx")):
        r = finance.call(
            "GET",
            f"/api/payment/batches/{batch['id']}/files/{group}.{fmt}",
            params={"effective_date": today().isoformat()},
        )
        assert r.status_code == 200, r.text
    ids["files"] = [f["id"] for f in finance.get(f"/api/payment/batches/{batch['id']}/files")]
    lines = {line["case_id"]: line for line in finance.get(f"/api/payment/batches/{batch['id']}")["lines"]}
    ids["lines"] = {name: lines[ids["cases"][name]] for name in ("paid", "failed")}
    report = result_csv(
        [_report_row(ids["lines"]["paid"], "SUCCESS"), _report_row(ids["lines"]["failed"], "FAILED")]
    )
    first = finance.ok(
        "POST",
        f"/api/payment/batches/{batch['id']}/results",
        202,
        files={"file": ("result-1.csv", report, "text/csv")},
    )
    _wait_job(finance, first["job_id"])
    ids["import"] = first["import_id"]
    ids["import_job"] = first["job_id"]
    contradiction = result_csv([_report_row(ids["lines"]["paid"], "FAILED")])
    second = finance.ok(
        "POST",
        f"/api/payment/batches/{batch['id']}/results",
        202,
        files={"file": ("result-2.csv", contradiction, "text/csv")},
    )
    _wait_job(finance, second["job_id"])
    alerts = finance.get("/api/payment/alerts", params={"batch_id": batch["id"]})
    items = alerts["items"] if isinstance(alerts, dict) else alerts
    assert items, alerts
    ids["alert"] = items[0]["id"]
    current = {x["id"]: x for x in finance.get(f"/api/payment/batches/{batch['id']}")["lines"]}
    ids["lines"] = {name: current[line["id"]] for name, line in ids["lines"].items()}

    # Reports: reporting has the batch once its events arrived.
    wait_for(
        lambda: any(
            str(b["id"]) == ids["approval_batch"] for b in head.get("/api/reporting/batches")["items"]
        ),
        timeout=60,
        interval=0.3,
        what="the batch in reporting",
    )
    assert head.call("GET", f"/api/reporting/batches/{ids['approval_batch']}/approval-report.pdf").ok


def build_welfare_card(live: Live, world: World, rng: random.Random) -> None:
    """The welfare card measure in both districts: the central office imports the participants
    (province 10, agency cdd), adds a project, a registration place per district, a development
    result and a follow-up; each district's officer records a citizen's intent at its place."""
    central = live.client("central.admin")
    lines = ["national_id,first_name,last_name,area_code,group"]
    for d in ("1008", "1001"):
        world.participants[d] = [
            {"national_id": national_id(rng), "first_name": name, "last_name": "บัตรสวัสดิการ", "area_code": d}
            for name in WC_NAMES[d]
        ]
        lines += [
            f"{p['national_id']},{p['first_name']},{p['last_name']},{d},1" for p in world.participants[d][:2]
        ]
    imported = central.ok(
        "POST",
        "/api/intake/welfare-card/imports",
        202,
        data={"province_code": "10", "agency": "cdd"},
        files={"file": ("participants.csv", ("\r\n".join(lines) + "\r\n").encode(), "text/csv")},
    )
    _wait_job(central, imported["job_id"])
    project = central.ok(
        "POST",
        "/api/intake/welfare-card/projects",
        201,
        json={"name_th": "ฝึกอาชีพทดสอบ", "kind": "agency", "agency": "cdd"},
    )
    for d in ("1008", "1001"):
        ids = world.ids[d]
        ids["wc_import"], ids["wc_project"] = imported["import_id"], project["id"]
        place = central.ok(
            "POST",
            "/api/intake/welfare-card/registration-places",
            201,
            json={"area_code": d, "name": f"จุดลงทะเบียนเขต {d}", "address": "ชั้น 1 สำนักงานเขต"},
        )
        ids["place"] = place["id"]
        first = world.participants[d][0]["national_id"]
        central.ok(
            "POST",
            f"/api/intake/welfare-card/participants/{first}/developments",
            201,
            json={"project": project["id"], "result": "completed", "recorded_on": today().isoformat()},
        )
        central.ok(
            "POST",
            f"/api/intake/welfare-card/participants/{first}/follow-ups",
            201,
            json={"round": "2019-06", "progress": "progressing", "recorded_on": today().isoformat()},
        )
        person = world.participants[d][2]
        intent = live.client(f"officer.{d}").ok(
            "POST",
            "/api/intake/welfare-card/intents",
            201,
            json={
                "national_id": person["national_id"],
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "registered_on": today().isoformat(),
                "place_id": place["id"],
            },
        )
        ids["intent"] = intent["id"]


@pytest.fixture(scope="package")
def world(live: Live) -> World:
    """Data of districts 1008 and 1001, built through the API; the system is quiet afterwards."""
    world = World(live)
    rng = random.Random(20_2569)
    with ThreadPoolExecutor(2) as pool:  # the two districts work at the same time, as in life
        seeds = {d: random.Random(rng.random()) for d in ("1008", "1001")}
        list(pool.map(lambda d: build_district(live, world, d, seeds[d]), seeds))
    build_welfare_card(live, world, rng)
    live.quiesce()
    return world


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
