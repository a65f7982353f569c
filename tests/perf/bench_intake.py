"""Benchmark: intake with 1,000,000 earlier cases in PostgreSQL (issue 3).

1. Loads 1,000,000 cases of ~450,000 people (most living in 20 districts, a few moving between
   districts; fiscal years 2563 to today; realistic statuses, types and amounts) into a
   throwaway intake database with COPY, then rebuilds the indexes and analyses.
2. Starts the gateway and intake's web process (gunicorn, as in production) on PostgreSQL.
3. History look-up through the gateway (keep-alive session, one officer) for random existing
   people: p50/p99 — and, in the same run, the same indexed SELECT sent bare through psycopg,
   with the ratio.  Targets: p99 ≤ 20 ms and ≤ 3× the bare query.
4. Recording throughput through the gateway: N client threads record new cases for T seconds.
   Target: ≥ 200 cases/s.  Afterwards the case numbers of the run are checked for gaps and
   duplicates.

Prints one JSON line per measurement.  Not a timed test: it never fails on speed.

    python tests/perf/bench_intake.py [--cases 1000000] [--lookups 2000] [--threads 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests
import urllib3
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.gateway.demo import load_demo_users
from services.intake.reference import load_reference_data
from shared import auth
from shared.testing.system import System
from shared.thai import fiscal_year, national_id_check_digit
from tests.intake.support import case_body

TYPES = (  # code, share, ceiling per case used for amounts
    ("MEDICAL", 35, 5000),
    ("CAREER", 30, 5000),
    ("KINDERGARTEN", 15, 3000),
    ("SCHOLARSHIP", 12, 5000),
    ("ELDERLY_FUNERAL", 8, 3000),
)
HOME_DISTRICTS = [f"10{n:02d}" for n in range(1, 21)]  # 20 districts hold most people
ALL_DISTRICTS = [f"10{n:02d}" for n in range(1, 51)]
FIRST = ("สมศรี", "สมชาย", "มาลี", "ประยุทธ", "วันดี", "สุดา", "อนันต์", "บุญมี", "จันทร์เพ็ญ", "ทองดี")
LAST = ("ใจดี", "สุขสันต์", "มั่นคง", "ศรีสุข", "แก้วมณี", "บุญเรือง", "ทองคำ", "รักไทย")
BANKS = (("006", None, 10), ("014", None, 10), ("004", None, 10), ("030", None, 12), ("034", "0123", 12))
COLUMNS = (
    "id, case_no, fiscal_year, running_no, district_code, national_id, title, sex, first_name, last_name,"
    " birth_date, age, disabled, case_type, house_id, welfare_type_code, amount, hardship, bank_code,"
    " branch_code, account_name, account_no, phone, status, recorded_at, recorded_by, updated_at"
)
HISTORY_SQL = (
    "SELECT c.id, c.case_no, c.fiscal_year, c.district_code, c.welfare_type_code, c.amount, c.status,"
    " c.recorded_at, c.house_id, w.name_th FROM cases c JOIN welfare_types w ON w.code = c.welfare_type_code"
    " WHERE c.national_id = %s ORDER BY c.recorded_at DESC"
)
SECONDARY = {  # dropped during COPY, rebuilt afterwards (as in migration 0002)
    "ix_cases_national_id_recorded_at": "(national_id, recorded_at)",
    "ix_cases_house_id_fiscal_year": "(house_id, fiscal_year)",
    "ix_cases_district_code_recorded_at": "(district_code, recorded_at)",
    "ix_cases_locked_batch_id": "(locked_batch_id)",
}
FOREIGN_KEYS = {
    "fk_cases_district_code_districts": "(district_code) REFERENCES districts (code)",
    "fk_cases_national_id_citizens": "(national_id) REFERENCES citizens (national_id)",
    "fk_cases_welfare_type_code_welfare_types": "(welfare_type_code) REFERENCES welfare_types (code)",
}


def cpu_seconds(system: System, names: tuple[str, ...]) -> dict[str, float]:
    """CPU time used so far by web processes (gunicorn master and workers)."""
    out = {}
    for name in names:
        proc = psutil.Process(system.pid(name))
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                total += t.user + t.system
        out[name] = total
    return out


def cpu_per_call(before: dict[str, float], after: dict[str, float], calls: int) -> dict[str, float]:
    """Milliseconds of CPU per call, per process."""
    return {name: round((after[name] - before[name]) * 1000 / max(calls, 1), 2) for name in before}


def emit(**fields: Any) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)


def new_national_id(rng: random.Random) -> str:
    first12 = str(rng.randint(1, 8)) + f"{rng.getrandbits(40) % 10**11:011d}"
    return first12 + str(national_id_check_digit(first12))


NULL = "\\N"
CHUNK = 50_000


def generate(
    n_cases: int,
    today: dt.date,
    rng: random.Random,
    citizens: list[str],
    sample: list[str],
    counters: dict[int, int],
) -> Iterator[str]:
    """COPY text of the cases, in chunks; fills ``citizens`` (COPY lines), ``sample`` and ``counters``."""
    current_fy = fiscal_year(today)
    first_day = dt.date(current_fy - 7 - 544, 10, 1)
    type_codes = [t[0] for t in TYPES]
    type_weights = [t[1] for t in TYPES]
    ceilings = {t[0]: t[2] for t in TYPES}
    lines: list[str] = []
    made = 0
    while made < n_cases:
        nid = new_national_id(rng)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        birth = dt.date(rng.randint(1940, 2018), rng.randint(1, 12), rng.randint(1, 28))
        title = "นาง" if rng.random() < 0.55 else "นาย"
        sex = "female" if title == "นาง" else "male"
        home = rng.choice(HOME_DISTRICTS) if rng.random() < 0.9 else rng.choice(ALL_DISTRICTS)
        house = f"{rng.getrandbits(37) % 10**11:011d}"
        citizen_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        created = f"{today}T00:00:00+00"
        citizens.append(f"{nid}\t{citizen_id}\t{title}\t{first}\t{last}\t{birth}\t{created}\t{created}\n")
        if len(sample) < 20_000 and rng.random() < 0.05:
            sample.append(nid)
        count = min(n_cases - made, rng.choices((1, 2, 3, 4, 5, 8), (45, 25, 15, 8, 5, 2))[0])
        bank_code, branch, digits = rng.choice(BANKS)
        account = f"{rng.getrandbits(50) % 10**digits:0{digits}d}"
        for _ in range(count):
            day = first_day + dt.timedelta(days=rng.randint(0, (today - first_day).days))
            fy = fiscal_year(day)
            counters[fy] = counters.get(fy, 0) + 1
            code = rng.choices(type_codes, type_weights)[0]
            amount = rng.choice((500, 1000, 1500, 2000, 3000, ceilings[code]))
            if fy < current_fy:
                status = rng.choices(("paid", "disqualified", "payment_failed"), (88, 8, 4))[0]
            else:
                status = rng.choices(
                    ("registered", "on_agenda", "deferred", "approved", "paying", "paid", "disqualified"),
                    (15, 15, 3, 10, 2, 50, 5),
                )[0]
            district = home if rng.random() < 0.9 else rng.choice(ALL_DISTRICTS)
            recorded = f"{day}T{rng.randint(1, 10):02d}:{rng.randint(0, 59):02d}:00+00"
            no = counters[fy]
            case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            lines.append(
                f"{case_id}\tCase{fy}-{no}\t{fy}\t{no}"
                f"\t{district}\t{nid}\t{title}\t{sex}\t{first}\t{last}\t{birth}\t{day.year - birth.year}"
                f"\tfalse\tgeneral\t{house if code == 'CAREER' else NULL}\t{code}\t{amount}.00"
                f"\tยากจน รายได้ไม่พอ\t{bank_code}\t{branch or NULL}\t{first} {last}\t{account}"
                f"\t0812345678\t{status}"
                f"\t{recorded}\tofficer.{district}\t{recorded}\n"
            )
            made += 1
        if len(lines) >= CHUNK:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def load(dsn: str, n_cases: int, rng: random.Random) -> list[str]:
    """Fill the intake database; return a sample of the national IDs loaded."""
    started = time.monotonic()
    today = dt.datetime.now(dt.UTC).date()
    citizens: list[str] = []
    sample: list[str] = []
    counters: dict[int, int] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in FOREIGN_KEYS:
            conn.execute(f"ALTER TABLE cases DROP CONSTRAINT {name}")
        for name in SECONDARY:
            conn.execute(f"DROP INDEX {name}")
        conn.execute("ALTER TABLE cases DROP CONSTRAINT uq_cases_case_no")
        conn.execute("ALTER TABLE cases DROP CONSTRAINT uq_cases_fiscal_year_running_no")
        with conn.cursor() as cur:
            with cur.copy(f"COPY cases ({COLUMNS}) FROM STDIN") as copy:
                for chunk in generate(n_cases, today, rng, citizens, sample, counters):
                    copy.write(chunk)
            with cur.copy(
                "COPY citizens (national_id, id, title, first_name, last_name, birth_date, created_at,"
                " updated_at) FROM STDIN"
            ) as copy:
                for i in range(0, len(citizens), CHUNK):
                    copy.write("".join(citizens[i : i + CHUNK]))
        copied = time.monotonic() - started
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("ALTER TABLE cases ADD CONSTRAINT uq_cases_case_no UNIQUE (case_no)")
        conn.execute(
            "ALTER TABLE cases ADD CONSTRAINT uq_cases_fiscal_year_running_no"
            " UNIQUE (fiscal_year, running_no)"
        )
        for name, cols in SECONDARY.items():
            conn.execute(f"CREATE INDEX {name} ON cases {cols}")
        for name, ref in FOREIGN_KEYS.items():
            conn.execute(f"ALTER TABLE cases ADD CONSTRAINT {name} FOREIGN KEY {ref}")
        for fy, last in counters.items():
            conn.execute(
                "INSERT INTO case_counters (fiscal_year, last_no) VALUES (%s, %s)"
                " ON CONFLICT (fiscal_year) DO UPDATE SET last_no = EXCLUDED.last_no",
                (fy, last),
            )
        conn.execute("VACUUM ANALYZE cases")
        conn.execute("VACUUM ANALYZE citizens")
        loaded = conn.execute("SELECT count(*) FROM cases").fetchone()
        people = conn.execute("SELECT count(*) FROM citizens").fetchone()
    took = time.monotonic() - started
    emit(
        measure="load",
        cases=loaded[0] if loaded else 0,
        citizens=people[0] if people else 0,
        generate_and_copy_s=round(copied, 1),
        constraints_indexes_analyze_s=round(took - copied, 1),
        total_s=round(took, 1),
    )
    return sample


def history(system: System, dsn: str, secret: str, sample: list[str], n: int, rng: random.Random) -> None:
    """History look-ups through the gateway vs the same indexed SELECT bare, in one run."""
    token = auth.issue_token(username="officer.1008", role="officer", district_code="1008", secret=secret)[0]
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    ids = [rng.choice(sample) for _ in range(n)]
    url = system.url("gateway", "/api/intake/citizens/{}/history")
    for nid in ids[:200]:  # warm-up: connections, caches, prepared statements
        assert http.get(url.format(nid), timeout=10).status_code == 200
    direct = requests.Session()
    direct.headers["Authorization"] = f"Bearer {token}"
    direct_url = system.url("intake", "/api/intake/citizens/{}/history")
    for nid in ids[:200]:
        assert direct.get(direct_url.format(nid), timeout=10).status_code == 200
    direct_ms = []
    for nid in ids:
        t = time.perf_counter()
        direct.get(direct_url.format(nid), timeout=10)
        direct_ms.append((time.perf_counter() - t) * 1000)
    gateway_ms, sizes = [], []
    cpu_before = cpu_seconds(system, ("gateway", "intake"))
    for nid in ids:
        t = time.perf_counter()
        r = http.get(url.format(nid), timeout=10)
        gateway_ms.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
        sizes.append(len(r.json()["cases"]))
    cpu = cpu_per_call(cpu_before, cpu_seconds(system, ("gateway", "intake")), len(ids))
    with psycopg.connect(dsn) as conn:
        for nid in ids[:200]:
            conn.execute(HISTORY_SQL, (nid,)).fetchall()
        bare_ms = []
        for nid in ids:
            t = time.perf_counter()
            conn.execute(HISTORY_SQL, (nid,)).fetchall()
            bare_ms.append((time.perf_counter() - t) * 1000)
        conn.rollback()
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + HISTORY_SQL, (ids[0],)).fetchall())
    emit(
        measure="history_lookup",
        requests=n,
        cases_per_person_mean=round(statistics.mean(sizes), 2),
        gateway_p50_ms=pct(gateway_ms, 0.50),
        gateway_p99_ms=pct(gateway_ms, 0.99),
        bare_select_p50_ms=pct(bare_ms, 0.50),
        bare_select_p99_ms=pct(bare_ms, 0.99),
        ratio_p50=round(pct(gateway_ms, 0.50) / pct(bare_ms, 0.50), 1),
        ratio_p99=round(pct(gateway_ms, 0.99) / pct(bare_ms, 0.99), 1),
        intake_direct_p50_ms=pct(direct_ms, 0.50),
        intake_direct_p99_ms=pct(direct_ms, 0.99),
        cpu_ms_per_request=cpu,
        index_used="ix_cases_national_id_recorded_at" in plan,
        target="p99 <= 20 ms and <= 3x the bare query",
    )


def recording(system: System, dsn: str, secret: str, threads: int, seconds: float) -> None:
    """Record new cases through the gateway from several client threads at once."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    numbers: list[str] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        district = HOME_DISTRICTS[i % len(HOME_DISTRICTS)]
        token = auth.issue_token(
            username=f"officer.{district}", role="officer", district_code=district, secret=secret
        )[0]
        # urllib3 straight (one keep-alive connection per officer): the load generator shares the
        # 2 cores with the system under test, so it should cost as little as it can.
        base = urllib3.util.parse_url(system.url("gateway", "/"))
        http = urllib3.HTTPConnectionPool(base.host, base.port, maxsize=1, retries=False, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        mine: list[float] = []
        while time.monotonic() < stop:
            body = json.dumps(case_body()).encode()
            t = time.perf_counter()
            r = http.request("POST", "/api/intake/cases", body=body, headers=headers)
            mine.append((time.perf_counter() - t) * 1000)
            with lock:
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status == 201:
                    numbers.append(json.loads(r.data)["case_no"])
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    cpu_before = cpu_seconds(system, ("gateway", "intake"))
    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - started
    created = statuses.get(201, 0)
    cpu = cpu_per_call(cpu_before, cpu_seconds(system, ("gateway", "intake")), created)
    running = sorted(int(n.split("-")[1]) for n in numbers)
    contiguous = bool(running) and running == list(range(running[0], running[0] + len(running)))
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox_messages WHERE event_type = 'case.registered'"
        ).fetchone()
        outbox = row[0] if row else 0
    emit(
        measure="record_throughput",
        threads=threads,
        seconds=round(elapsed, 1),
        created=created,
        statuses=statuses,
        cases_per_s=round(created / elapsed, 1),
        p50_ms=pct(latencies, 0.50),
        p99_ms=pct(latencies, 0.99),
        cpu_ms_per_case=cpu,
        numbers_contiguous_no_duplicates=contiguous and len(set(numbers)) == len(numbers),
        case_registered_outbox_rows=outbox,
        target=">= 200 cases/s",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers of gateway and intake")
    args = parser.parse_args()
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), backend="postgres", extra_env={"ECASE_WEB_WORKERS": str(args.web_workers)})
        try:
            system.migrate(("intake", "gateway"))
            with system.environment(), system.sessions("intake", write=True).begin() as s:
                load_reference_data(s)
            with system.sessions("gateway", write=True).begin() as s:
                load_demo_users(s)
            dsn = make_url(system.database_url("intake")).set(drivername="postgresql").render_as_string(False)
            sample = load(dsn, args.cases, rng)
            system.start("gateway", "intake")
            system.wait_healthy("gateway")
            system.wait_healthy("intake")
            secret = system.env["ECASE_SECRET_KEY"]
            emit(measure="setup", web_workers=args.web_workers, web_threads=8, cores=os.cpu_count())
            history(system, dsn, secret, sample, args.lookups, rng)
            recording(system, dsn, secret, args.threads, args.seconds)
        finally:
            system.close()


if __name__ == "__main__":
    main()
