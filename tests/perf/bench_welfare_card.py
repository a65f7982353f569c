"""Benchmark: the state welfare card measure on PostgreSQL (issue 9).

1. Loads participants straight into a throwaway intake database with COPY (spread over all 928
   districts, six agencies, two groups), so that with the import below the table holds 4,145,397
   people — seed 002's national figure.
2. Starts the gateway, intake's web process, worker and relay (as in production) on PostgreSQL + Redis.
3. Imports a 1,000,000-line participants list (one province, one agency; CSV) through the gateway:
   upload → intake's worker checks every line, COPYs them into a staging table and merges
   set-based → job done.  Target: ≤ 2 minutes.  Then the same file again (nothing changes) and a
   corrected file (1 % of the lines changed).
4. The public self-check through the gateway (keep-alive, one client; participants, unknown IDs and
   wrong check digits mixed): p50/p99, with the bare indexed SELECT through psycopg for the ratio.
   Target: p99 ≤ 20 ms.

Prints one JSON line per measurement.  Not a timed test: it never fails on speed.

    python tests/perf/bench_welfare_card.py [--total 4145397] [--lines 1000000] [--checks 3000] [--nice -5]

CPU seconds of intake's worker and of the PostgreSQL backends serving the (throwaway) database are
printed with each import, so that a run on a busy machine still shows what the work costs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.gateway.demo import load_demo_users
from services.intake.reference import load_reference_data
from shared import areas
from shared.testing.system import System, wait_for
from shared.thai import national_id_check_digit

AGENCIES = (("cdd", 40), ("moac", 20), ("mol", 10), ("moc", 10), ("baac", 12), ("gsb", 8))
FIRST = ("สมศรี", "สมชาย", "มาลี", "ประยุทธ", "วันดี", "สุดา", "อนันต์", "บุญมี", "จันทร์เพ็ญ", "ทองดี")
LAST = ("ใจดี", "สุขสันต์", "มั่นคง", "ศรีสุข", "แก้วมณี", "บุญเรือง", "ทองคำ", "รักไทย")
IMPORT_PROVINCE = "30"  # นครราชสีมา: the most districts and card holders
IMPORT_AGENCY = "cdd"
# i -> (i * STRIDE) mod 10**11 is a bijection (STRIDE is prime to 10): unique IDs in random order.
STRIDE = 7_919_999_993
SECONDARY = {
    "ix_wc_participants_scope": "CREATE INDEX ix_wc_participants_scope ON wc_participants"
    " (province_code, area_code, agency, grp)",
}
UNIQUE = "ALTER TABLE wc_participants ADD CONSTRAINT uq_wc_participants_national_id UNIQUE (national_id)"


def emit(**fields: Any) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)


def cpu_seconds(system: System, names: tuple[str, ...]) -> dict[str, float]:
    """CPU time used so far by processes and their children (gunicorn master and workers)."""
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


def database_backends(dsn: str, dbname: str) -> list[int]:
    """Pids of the PostgreSQL backends serving our throwaway database (no one else uses it)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        me = conn.execute("SELECT pg_backend_pid()").fetchone()
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,)).fetchall()
    return [r[0] for r in rows if me is None or r[0] != me[0]]


def backend_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds used so far by each backend."""
    out = {}
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
    return out


class Priority:
    """With ``--nice``, the benchmark's own processes (and their database backends) run at that
    niceness, so that a machine shared with other work disturbs the figures less.  Off by default."""

    def __init__(self, system: System, dsn: str, dbname: str, nice: int | None) -> None:
        self.system, self.dsn, self.dbname, self.nice = system, dsn, dbname, nice

    def apply(self) -> None:
        if self.nice is None:
            return
        pids = [*database_backends(self.dsn, self.dbname), os.getpid()]
        for name in ("gateway", "intake", "intake-worker"):
            proc = psutil.Process(self.system.pid(name))
            pids += [proc.pid, *(c.pid for c in proc.children(recursive=True))]
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                psutil.Process(pid).nice(self.nice)


def national_id(prefix: int, i: int) -> str:
    first12 = f"{prefix}{(i * STRIDE) % 10**11:011d}"
    return first12 + str(national_id_check_digit(first12))


def preload_rows(n: int, rng: random.Random, sample: list[str]) -> Iterator[str]:
    """COPY text of ``n`` participants across the country (prefix 1), in chunks."""
    all_areas = [(a.code, p.code) for p in areas.provinces() for a in areas.districts_of(p.code)]
    codes = [c for c, _ in AGENCIES]
    weights = [w for _, w in AGENCIES]
    now = "2019-01-30T03:00:00+00"
    lines: list[str] = []
    for i in range(n):
        nid = national_id(1, i)
        area, province = all_areas[rng.randrange(len(all_areas))]
        agency = rng.choices(codes, weights)[0]
        group = "low_income" if agency in ("baac", "gsb") and rng.random() < 0.6 else "not_developed"
        lines.append(
            f"{nid}\tนาง\t{rng.choice(FIRST)}\t{rng.choice(LAST)}\t{province}\t{area}\t{agency}\t{group}\t{now}\t{now}\n"
        )
        if len(sample) < 20_000 and rng.random() < 0.01:
            sample.append(nid)
        if len(lines) >= 50_000:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def preload(dsn: str, n: int, rng: random.Random) -> list[str]:
    """COPY ``n`` participants with the secondary indexes dropped, then rebuild and analyse."""
    started = time.monotonic()
    sample: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE wc_participants DROP CONSTRAINT uq_wc_participants_national_id")
        for name in SECONDARY:
            conn.execute(f"DROP INDEX {name}")
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY wc_participants (national_id, title, first_name, last_name, province_code, area_code,"
                " agency, grp, created_at, updated_at) FROM STDIN"
            ) as copy,
        ):
            for chunk in preload_rows(n, rng, sample):
                copy.write(chunk)
        copied = time.monotonic()
        conn.execute(UNIQUE)
        for sql in SECONDARY.values():
            conn.execute(sql)
        conn.execute("VACUUM ANALYZE wc_participants")
    emit(
        measure="preload",
        participants=n,
        copy_s=round(copied - started, 1),
        indexes_and_analyse_s=round(time.monotonic() - copied, 1),
    )
    return sample


def import_file(n: int, rng: random.Random, *, changed: float = 0.0) -> tuple[bytes, list[str]]:
    """A CSV list of ``n`` people of one province and agency (prefix 3); ``changed`` of them corrected."""
    districts = [a.code for a in areas.districts_of(IMPORT_PROVINCE)]
    out = io.StringIO()
    out.write("เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,รหัสอำเภอ,หน่วยงานพัฒนา,กลุ่ม\n")
    sample = []
    pick = random.Random(9)  # the same people in the same districts every time
    for i in range(n):
        nid = national_id(3, i)
        area = districts[pick.randrange(len(districts))]
        first, last = FIRST[pick.randrange(len(FIRST))], LAST[pick.randrange(len(LAST))]
        group = "1"
        if changed and rng.random() < changed:
            if rng.random() < 0.5:
                area = districts[(districts.index(area) + 1) % len(districts)]
            else:
                last = last + "ศรี"
        out.write(f"{nid},นาง,{first},{last},{area},กรมการพัฒนาชุมชน,{group}\n")
        if i % 500 == 0:
            sample.append(nid)
    return out.getvalue().encode("utf-8"), sample


def run_import(
    system: System, auth: dict[str, str], data: bytes, label: str, priority: Priority
) -> dict[str, Any]:
    """Upload through the gateway and wait for intake's worker; emit the timings."""
    session = requests.Session()
    priority.apply()
    backends = database_backends(priority.dsn, priority.dbname)
    pg_before = backend_cpu(backends)
    cpu_before = cpu_seconds(system, ("intake-worker",))
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    r = session.post(
        system.url("gateway", "/api/intake/welfare-card/imports"),
        headers=auth,
        data={"province_code": IMPORT_PROVINCE, "agency": IMPORT_AGENCY},
        files={"file": ("participants.csv", data, "text/csv")},
        timeout=600,
    )
    uploaded = time.monotonic()
    assert r.status_code == 202, r.text

    def done() -> Any:
        body = session.get(
            system.url("gateway", f"/api/jobs/{r.json()['job_id']}"), headers=auth, timeout=30
        ).json()
        return body if body["status"] in ("done", "failed") else None

    job = wait_for(done, timeout=1800, interval=0.25, what=f"{label} import")
    finished = time.monotonic()
    result = job.get("result") or {}
    phases = []
    for line in system.log("intake-worker").splitlines():
        if f"welfare card import {result.get('import_id')}:" in line:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                phases.append(json.loads(line)["message"].split(": ", 1)[1])
    worker_cpu = cpu_seconds(system, ("intake-worker",))["intake-worker"] - cpu_before["intake-worker"]
    # backends opened during the import count whole; those that closed meanwhile are lost (rare)
    pg_after = backend_cpu(sorted(set(backends) | set(database_backends(priority.dsn, priority.dbname))))
    pg_cpu = sum(used - pg_before.get(pid, 0.0) for pid, used in pg_after.items())
    emit(
        measure=f"import_{label}",
        status=job["status"],
        lines=result.get("lines"),
        added=result.get("added"),
        updated=result.get("updated"),
        unchanged=result.get("unchanged"),
        megabytes=round(len(data) / 1e6, 1),
        upload_s=round(uploaded - started, 1),
        total_s=round(finished - started, 1),
        worker_cpu_s=round(worker_cpu, 1),
        postgres_cpu_s=round(pg_cpu, 1),
        worker_phases=phases[-1] if phases else None,
        load_average=[round(load_before, 1), round(os.getloadavg()[0], 1)],
        niceness=priority.nice,
        target="<= 120 s for 1,000,000 lines" if label == "new" else None,
    )
    return job


def public_checks(
    system: System, dsn: str, members: list[str], n: int, rng: random.Random, priority: Priority
) -> None:
    """p50/p99 of the public check through the gateway, and the bare SELECTs for comparison."""
    session = requests.Session()
    kinds: dict[str, list[float]] = {"participant": [], "unknown": [], "wrong_check_digit": []}
    ids: list[tuple[str, str]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.6:
            ids.append(("participant", rng.choice(members)))
        elif roll < 0.85:
            ids.append(("unknown", national_id(5, rng.randrange(10**9))))
        else:
            good = rng.choice(members)
            ids.append(("wrong_check_digit", good[:12] + str((int(good[12]) + 1) % 10)))
    for _, nid in ids[:100]:  # warm-up: connections, caches
        session.get(system.url("gateway", f"/api/public/welfare-card/{nid}"), timeout=10)
    priority.apply()
    all_ms: list[float] = []
    statuses: dict[int, int] = {}
    cpu_before = cpu_seconds(system, ("gateway", "intake"))
    load_before = os.getloadavg()[0]
    for kind, nid in ids:
        t0 = time.perf_counter()
        r = session.get(system.url("gateway", f"/api/public/welfare-card/{nid}"), timeout=10)
        ms = (time.perf_counter() - t0) * 1000
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if kind == "participant":
            assert r.json()["participant"] is True, r.text
        kinds[kind].append(ms)
        all_ms.append(ms)
    cpu_after = cpu_seconds(system, ("gateway", "intake"))
    cpu_ms = {k: round((cpu_after[k] - cpu_before[k]) * 1000 / n, 2) for k in cpu_before}
    bare: list[float] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for kind, nid in ids[:1000]:
            if kind == "wrong_check_digit":
                continue
            t0 = time.perf_counter()
            row = conn.execute(
                "SELECT grp, area_code FROM wc_participants WHERE national_id = %s", (nid,)
            ).fetchone()
            if row:
                conn.execute(
                    "SELECT name, address FROM wc_registration_places WHERE area_code = %s AND active"
                    " ORDER BY id",
                    (row[1],),
                ).fetchall()
            bare.append((time.perf_counter() - t0) * 1000)
        total = conn.execute("SELECT count(*) FROM wc_participants").fetchone()
    emit(
        measure="public_check",
        participants_loaded=total[0] if total else None,
        checks=n,
        statuses=statuses,
        p50_ms=pct(all_ms, 0.50),
        p99_ms=pct(all_ms, 0.99),
        by_kind={
            k: {"n": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)} for k, v in kinds.items() if v
        },
        cpu_ms_per_check=cpu_ms,
        load_average=[round(load_before, 1), round(os.getloadavg()[0], 1)],
        bare_sql_p50_ms=pct(bare, 0.50),
        bare_sql_p99_ms=pct(bare, 0.99),
        niceness=priority.nice,
        target="p99 <= 20 ms",
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=4_145_397, help="participants after the import")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines of the imported list")
    parser.add_argument("--checks", type=int, default=3000)
    parser.add_argument("--nice", type=int, default=None, help="run the measured processes at this niceness")
    parser.add_argument(
        "--limiter", default="redis://127.0.0.1:6379/3", help="Flask-Limiter storage (production uses Redis)"
    )
    args = parser.parse_args()
    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as tmp:
        system = System(
            Path(tmp),
            backend="postgres",
            extra_env={
                "ECASE_PUBLIC_CHECK_LIMIT": "1000000 per minute",
                "ECASE_WORKER_CONCURRENCY": "1",
                "ECASE_RATELIMIT_STORAGE_URI": args.limiter,
            },
        )
        try:
            system.migrate(("intake", "gateway"))
            with system.environment(), system.sessions("intake", write=True).begin() as s:
                load_reference_data(s)
            with system.sessions("gateway", write=True).begin() as s:
                load_demo_users(s)
            dsn = make_url(system.database_url("intake")).set(drivername="postgresql").render_as_string(False)
            members = preload(dsn, args.total - args.lines, rng)
            data, imported = import_file(args.lines, rng)
            system.start("gateway", "intake", "intake-worker", "intake-relay")
            system.wait_healthy("gateway")
            system.wait_healthy("intake")
            system.wait_worker("intake")
            dbname = make_url(system.database_url("intake")).database or ""
            priority = Priority(system, dsn, dbname, args.nice)
            emit(
                measure="setup",
                cores=os.cpu_count(),
                file_lines=args.lines,
                file_mb=round(len(data) / 1e6, 1),
                limiter=args.limiter,
            )
            r = requests.post(
                system.url("gateway", "/api/auth/token"),
                json={"username": "central.admin", "password": "ecase-demo-2566"},
                timeout=10,
            )
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            run_import(system, auth, data, "new", priority)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("ANALYZE wc_participants")
            run_import(system, auth, data, "same_again", priority)
            corrected, _ = import_file(args.lines, random.Random(11), changed=0.01)
            run_import(system, auth, corrected, "corrected_1pct", priority)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO wc_registration_places (area_code, province_code, name, address, active,"
                    " created_by, created_at, updated_at) SELECT code, province_code,"
                    " 'ที่ว่าการอำเภอ' || name_th, NULL, true, 'bench', now(), now() FROM wc_areas"
                )
            public_checks(system, dsn, members + imported, args.checks, rng, priority)
        finally:
            system.close()


if __name__ == "__main__":
    main()
