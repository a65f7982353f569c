"""Load test (reliability.md §6.6, issue 8 "Load"): Locust, headless, against a real E-Case.

1. Starts every process of deploy/Procfile (5 web services under gunicorn, 4 Celery workers, 4
   outbox relays) on PostgreSQL + Redis with the production web settings of deploy/env.sample
   (``ECASE_WEB_WORKERS=2``, ``ECASE_WEB_THREADS=8``), seeded with reference data and demo users.
   PostgreSQL is a private throwaway server (see ``PrivatePostgres``; ``--shared-postgres`` uses
   the machine's server instead); Redis is the machine's, under a key prefix of its own.
2. Preloads ``--cases`` earlier cases (default 50,000) into intake's database with COPY (the
   generator of tests/perf/bench_intake.py: people of all 50 districts, fiscal years 2563 to
   today, realistic statuses), so checks find real histories and the rules refuse some requests.
3. Issues one officer token per district 1001–1050 and runs ``locust --headless`` with
   tests/load/locustfile.py: ``--users`` officers (default 50, one per district) with a think time
   of ``--wait`` seconds, making ``--checks-per-record`` national-ID checks per recorded case.
4. Afterwards checks that the database holds exactly the cases answered 201 and that every
   ``case.registered`` event reached approval and reporting (reported with the drain time).

``--terminate-pg-at S`` (reliability R11): S seconds into the run, terminates every PostgreSQL
connection of the system once and reports the error window and recovery time.  Then failures
are allowed, but only as 503s without a stack trace and only within 30 s of the termination.

Prints one JSON document (requests/s, p50/p95/p99 per endpoint, errors, CPU, load average).
A benchmark, not a timed test: it exits 0 whatever the speed, but 1 when a request failed (or,
with --terminate-pg-at, when recovery broke R11), when a recorded case is missing from the
database or when an event was not delivered.  Locust's CSV and HTML reports, the results and
the processes' logs go to --artifacts.

    python tests/load/run.py [--seconds 600] [--users 50] [--cases 50000] [--terminate-pg-at 300]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.gateway.demo import load_demo_users  # noqa: E402
from services.intake.reference import load_reference_data  # noqa: E402
from shared import auth  # noqa: E402
from shared.models import OutboxMessage, ProcessedMessage  # noqa: E402
from shared.testing.system import System, free_port, procfile, wait_for  # noqa: E402
from tests.perf.bench_intake import load as preload_cases  # noqa: E402

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DISTRICTS = [f"10{n:02d}" for n in range(1, 51)]
WEB = ("gateway", "intake", "approval", "payment", "reporting")
P95_TARGET_MS = 300
RECOVERY_TARGET_S = 30
KTB = {
    "ECASE_PAYMENT_KTB_COMPANY_ID": "TESTCO0001",
    "ECASE_PAYMENT_KTB_DEBIT_ACCOUNT": "1234567890",
    "ECASE_PAYMENT_KTB_SENDER_NAME": "WELFARE FUND TEST",
}


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the JSON result."""
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU time used so far by each process and its children."""
    out = {}
    for name, pid in pids.items():
        total = 0.0
        with contextlib.suppress(psutil.NoSuchProcess):
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    t = p.cpu_times()
                    total += t.user + t.system
        out[name] = total
    return out


def pg_dsn(system: System, service: str) -> str:
    return make_url(system.database_url(service)).set(drivername="postgresql").render_as_string(False)


def terminate_connections(system: System) -> int:
    """pg_terminate_backend for every connection to this system's databases (R11)."""
    admin = make_url(pg_dsn(system, "intake")).set(database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname LIKE %s AND pid <> pg_backend_pid()",
            (system.env["ECASE_DATABASE_PREFIX"] + "%",),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


class PrivatePostgres:
    """A throwaway PostgreSQL server of the machine's version, for this run alone.

    One E-Case under this load holds about 50 connections, half of PostgreSQL's default
    ``max_connections``: on a server shared with other test runs, connections get refused
    ("too many clients") for reasons outside the system under test, and this run would starve
    the others.  A private server (own port, ``max_connections`` 200, otherwise defaults) keeps
    the measurement clean.  Run as root, the server runs as the ``postgres`` user.
    """

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        initdb = str(found[-1]) if found else shutil.which("initdb")
        if not initdb:
            raise RuntimeError("initdb not found: install PostgreSQL, or pass --shared-postgres")
        self.bindir = Path(initdb).parent
        self.port = free_port()
        self.datadir = Path(tempfile.mkdtemp(prefix="ecase-load-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / tool), *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        self._run("initdb", "-D", str(self.datadir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir / "data"),
            "-o",
            options,
            "-l",
            str(self.datadir / "log"),
            "-w",
            "start",
        )

    def cpu_seconds(self) -> float:
        """CPU time of the server so far: the postmaster, its live backends and the ended ones."""
        pid = int((self.datadir / "data" / "postmaster.pid").read_text().split()[0])
        main = psutil.Process(pid)
        t = main.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in main.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                c = child.cpu_times()
                total += c.user + c.system
        return total

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.datadir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.datadir, ignore_errors=True)


class ConnectionSampler(threading.Thread):
    """Samples PostgreSQL's connections every 2 s: the whole server's and this system's.

    The server may be shared (other test systems on the same PostgreSQL): when it reaches
    ``max_connections``, new connections are refused ("too many clients") and requests that
    need one answer 503.  The figures tell that apart from a fault of the system under test.
    """

    def __init__(self, system: System) -> None:
        super().__init__(daemon=True)
        self.admin = make_url(pg_dsn(system, "intake")).set(database="postgres").render_as_string(False)
        self.prefix = system.env["ECASE_DATABASE_PREFIX"] + "%"
        self.stop = threading.Event()
        self.samples: list[tuple[float, int, int]] = []  # (time, server, system)
        self.max_connections = 0
        self.reserved = 0
        self.at_peak: dict[str, int] = {}  # this system's connections per database at its peak

    def run(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            row = conn.execute(
                "SELECT current_setting('max_connections')::int,"
                " current_setting('superuser_reserved_connections')::int"
            ).fetchone()
            self.max_connections, self.reserved = row if row else (0, 0)
            while not self.stop.wait(2.0):
                row = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE datname LIKE %s) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend'",
                    (self.prefix,),
                ).fetchone()
                if row:
                    self.samples.append((time.time(), int(row[0]), int(row[1])))
                    if int(row[1]) > max((s[2] for s in self.samples[:-1]), default=-1):
                        self.at_peak = {
                            name.removeprefix(self.prefix[:-1]): int(n)
                            for name, n in conn.execute(
                                "SELECT datname, count(*) FROM pg_stat_activity WHERE datname LIKE %s"
                                " GROUP BY datname ORDER BY datname",
                                (self.prefix,),
                            ).fetchall()
                        }

    def summary(self) -> dict[str, Any]:
        full = self.max_connections - self.reserved
        return {
            "server_max_connections": self.max_connections,
            "server_connections_peak": max((s[1] for s in self.samples), default=None),
            "system_connections_peak": max((s[2] for s in self.samples), default=None),
            "system_connections_mean": (
                round(sum(s[2] for s in self.samples) / len(self.samples), 1) if self.samples else None
            ),
            "system_connections_at_peak": self.at_peak,
            "seconds_server_full": 2 * sum(1 for s in self.samples if s[1] >= full),
        }


def count_cases(system: System) -> int:
    dsn = pg_dsn(system, "intake")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM cases").fetchone()
    return int(row[0]) if row else 0


def delivery(system: System, timeout: float) -> dict[str, Any]:
    """Wait until every case.registered event of intake's outbox is in its consumer's inbox."""
    with system.sessions("intake")() as s:
        rows = s.execute(
            select(OutboxMessage.destination, OutboxMessage.event_id).where(
                OutboxMessage.event_type == "case.registered"
            )
        ).all()
    wanted: dict[str, set[str]] = {}
    for destination, event_id in rows:
        wanted.setdefault(destination, set()).add(event_id)
    started = time.monotonic()
    missing: dict[str, int] = {}

    def all_in() -> bool:
        for destination, ids in wanted.items():
            with system.sessions(destination)() as s:
                seen = set(s.scalars(select(ProcessedMessage.event_id).distinct()).all())
            missing[destination] = len(ids - seen)
        return not any(missing.values())

    with contextlib.suppress(TimeoutError):
        wait_for(all_in, timeout=timeout, interval=1.0, what="case.registered delivered")
    return {
        "events": {d: len(ids) for d, ids in sorted(wanted.items())},
        "undelivered": dict(sorted(missing.items())),
        "drain_after_run_s": round(time.monotonic() - started, 1),
    }


def r11_summary(
    results: dict[str, Any], requests: list[list[float]], terminated_at: float, connections: int
) -> dict[str, Any]:
    """What the termination did: which requests failed, how, and when new requests worked again.

    ``requests`` are (started, ms, failed) of every request.  Requests cut by the termination
    were in flight at that moment; recovery is from the termination to the end of the last
    failed request.
    """
    failures = results["failures"]
    after = [f for f in failures if f["ended"] >= terminated_at]
    before = len(failures) - len(after)
    statuses: dict[str, int] = {}
    for f in after:
        statuses[str(f["status"])] = statuses.get(str(f["status"]), 0) + 1
    traces = sum(1 for f in after if "Traceback" in f["body"] or 'File "' in f["body"])
    ends = sorted(f["ended"] for f in after)
    recovery = round(ends[-1] - terminated_at, 2) if ends else 0.0
    window = round(ends[-1] - ends[0], 2) if ends else 0.0
    in_flight = sum(1 for f in after if f["at"] < terminated_at)
    ok_later = sorted(s + ms / 1000 for s, ms, failed in requests if s >= terminated_at and not failed)
    ok = (
        before == 0
        and results["failure_count"] == len(failures)  # every failure was kept for the analysis
        and traces == 0
        and set(statuses) <= {"503"}
        and recovery <= RECOVERY_TARGET_S
    )
    return {
        "connections_terminated": connections,
        "failures_before": before,
        "failures_after": len(after),
        "failed_in_flight": in_flight,
        "failed_started_after": len(after) - in_flight,
        "failure_statuses": statuses,
        "stack_traces": traces,
        "error_window_s": window,
        "recovery_s": recovery,
        "first_success_after_s": round(ok_later[0] - terminated_at, 2) if ok_later else None,
        "target": f"only 503s without a stack trace, recovered within {RECOVERY_TARGET_S} s",
        "met": ok,
    }


def run(args: argparse.Namespace, workdir: Path, artifacts: Path) -> tuple[dict[str, Any], bool]:
    """Set up, load, check; return the figures and whether the run passed."""
    extra = {
        **KTB,
        "ECASE_WEB_WORKERS": str(args.web_workers),
        "ECASE_WEB_THREADS": str(args.web_threads),
    }
    server = None if args.shared_postgres else PrivatePostgres()
    try:
        if server is not None:
            log(f"starting a private PostgreSQL on port {server.port}")
            server.start()
        return _run(args, workdir, artifacts, extra, server)
    finally:
        if server is not None:
            server.close()


def _run(
    args: argparse.Namespace,
    workdir: Path,
    artifacts: Path,
    extra: dict[str, str],
    server: PrivatePostgres | None,
) -> tuple[dict[str, Any], bool]:
    """The run on a PostgreSQL server (``server``, or the shared one when None)."""
    processes = tuple(procfile())
    system = System(workdir, backend="postgres", extra_env=extra, pg_server=server.url if server else None)
    try:
        log("migrating and seeding")
        system.migrate()
        with system.sessions("gateway", write=True).begin() as s:
            load_demo_users(s)
        with system.environment(), system.sessions("intake", write=True).begin() as s:
            load_reference_data(s)
        rng = random.Random(args.seed)
        log(f"preloading {args.cases:,} earlier cases")
        with contextlib.redirect_stdout(sys.stderr):
            returning = preload_cases(pg_dsn(system, "intake"), args.cases, rng) if args.cases else []
        preloaded = count_cases(system)
        log(f"starting {len(processes)} processes")
        system.start(*processes)
        for svc in WEB:
            system.wait_healthy(svc, timeout=120)
        for svc in ("intake", "approval", "payment", "reporting"):
            system.wait_worker(svc, timeout=120)
        secret = system.env["ECASE_SECRET_KEY"]
        tokens = {
            d: auth.issue_token(username=f"officer.{d}", role="officer", district_code=d, secret=secret)[0]
            for d in DISTRICTS
        }
        results_path = artifacts / "results.json"
        plan = {
            "tokens": tokens,
            "returning": returning,
            "users": args.users,
            "seed": args.seed,
            "wait_seconds": args.wait,
            "checks_per_record": args.checks_per_record,
            "results": str(results_path),
        }
        plan_path = workdir / "plan.json"
        plan_path.write_text(json.dumps(plan))
        plan_path.chmod(0o600)
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(args.spawn_rate),
            "--run-time",
            f"{args.seconds}s",
            "--stop-timeout",
            "30",
            "--host",
            system.url("gateway"),
            "--csv",
            str(artifacts / "locust"),
            "--html",
            str(artifacts / "locust.html"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        env = {**os.environ, "ECASE_LOAD_PLAN": str(plan_path), "PYTHONPATH": str(ROOT)}
        pids = {name: system.pid(name) for name in processes}
        connections = ConnectionSampler(system)
        connections.start()
        marker = results_path.with_suffix(".started")
        for stale in (results_path, marker, results_path.with_suffix(".requests.json")):
            stale.unlink(missing_ok=True)  # an earlier run's files in a reused --artifacts folder
        log(f"locust: {args.users} officers for {args.seconds} s against {system.url('gateway')}")
        with open(artifacts / "locust.log", "wb") as out:
            locust = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            terminated: tuple[float, int] | None = None
            locust_cpu = 0.0
            try:
                wait_for(lambda: marker.exists() or locust.poll() is not None, timeout=300, what="locust")
                started = float(marker.read_text()) if marker.exists() else time.time()
                cpu_before = cpu_seconds(pids)
                pg_before = server.cpu_seconds() if server else 0.0
                load_start = load_average()
                if args.terminate_pg_at is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        locust.wait(timeout=max(0.0, started + args.terminate_pg_at - time.time()))
                    if locust.poll() is None:
                        at = time.time()
                        terminated = (at, terminate_connections(system))
                        log(f"terminated {terminated[1]} PostgreSQL connections at {at - started:.1f} s")
                with contextlib.suppress(psutil.NoSuchProcess):
                    while locust.poll() is None:
                        t = psutil.Process(locust.pid).cpu_times()
                        locust_cpu = t.user + t.system
                        time.sleep(1)
                code = locust.wait()
            finally:
                if locust.poll() is None:
                    locust.send_signal(signal.SIGTERM)
                    locust.wait(timeout=30)
        elapsed = time.time() - started
        connections.stop.set()
        connections.join(timeout=10)
        load_end = load_average()
        cpu_after = cpu_seconds(pids)
        pg_cpu = round(server.cpu_seconds() - pg_before, 1) if server else None
        if not results_path.exists():
            raise RuntimeError(f"locust wrote no results (exit {code}); see {artifacts / 'locust.log'}")
        results = json.loads(results_path.read_text())
        endpoints = results["endpoints"]
        answered = endpoints.get("POST /api/intake/cases", {"requests": 0, "failures": 0})
        created = answered["requests"] - answered["failures"]
        log("checking the database and the delivery of case.registered")
        in_db = count_cases(system) - preloaded
        delivered = delivery(system, timeout=args.drain_timeout)
        cpu = {name: round(cpu_after[name] - cpu_before[name], 1) for name in processes}
        total_requests = endpoints["total"]["requests"]
        system_cpu = sum(cpu.values()) + (pg_cpu or 0)  # E-Case's processes and PostgreSQL, not Locust
        figures: dict[str, Any] = {
            "measure": "load",
            "setup": {
                "started": results["started"],
                "seconds": args.seconds,
                "elapsed_s": round(elapsed, 1),
                "users": args.users,
                "spawn_rate": args.spawn_rate,
                "think_time_s": args.wait,
                "checks_per_record": args.checks_per_record,
                "web_workers": args.web_workers,
                "web_threads": args.web_threads,
                "worker_concurrency": int(system.env["ECASE_WORKER_CONCURRENCY"]),
                "processes": len(processes),
                "postgres_server": "private, max_connections 200" if server else "shared",
                "preloaded_cases": preloaded,
                "returning_applicants": len(returning),
                "cores": os.cpu_count(),
                "load_average_before": load_start,
                "load_average_after": load_end,
            },
            "endpoints": endpoints,
            "errors": results["failure_count"],
            "error_samples": results["failures"][:5],
            "targets": {
                "p95_ms": P95_TARGET_MS,
                "p95_met": {
                    name: e["p95_ms"] is not None and e["p95_ms"] <= P95_TARGET_MS
                    for name, e in endpoints.items()
                },
                "zero_errors": results["failure_count"] == 0,
            },
            "recorded": {"answered_201": created, "in_database": in_db, **delivered},
            "postgres": connections.summary(),
            "cpu_s": {**cpu, "postgresql": pg_cpu, "locust": round(locust_cpu, 1)},
            "cpu_ms_per_request": round(system_cpu * 1000 / max(total_requests, 1), 1),
            "locust_exit_code": code,
        }
        undelivered = any(delivered["undelivered"].values())
        if terminated is None:
            passed = code == 0 and results["failure_count"] == 0 and in_db == created and not undelivered
        else:
            requests = json.loads(results_path.with_suffix(".requests.json").read_text())
            r11 = r11_summary(results, requests, terminated[0], terminated[1])
            r11["at_s"] = round(terminated[0] - started, 1)
            r11["recorded_but_answered_503"] = in_db - created
            figures["pg_terminate"] = r11
            # A request refused with 503 may still have committed: never fewer rows than 201s.
            passed = r11["met"] and in_db >= created and not undelivered
        return figures, passed
    except BaseException:
        shutil.copytree(system.logdir, artifacts / "logs", dirs_exist_ok=True)
        raise
    finally:
        system.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=600, help="how long Locust runs")
    parser.add_argument("--users", type=int, default=50, help="officers (one per district, cycling)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="officers started per second")
    parser.add_argument(
        "--wait", type=float, nargs=2, default=[0.5, 1.5], metavar=("MIN", "MAX"), help="think time (s)"
    )
    parser.add_argument("--checks-per-record", type=int, default=3)
    parser.add_argument("--cases", type=int, default=50_000, help="earlier cases preloaded with COPY")
    parser.add_argument("--web-workers", type=int, default=2, help="ECASE_WEB_WORKERS (env.sample: 2)")
    parser.add_argument("--web-threads", type=int, default=8, help="ECASE_WEB_THREADS (env.sample: 8)")
    parser.add_argument("--terminate-pg-at", type=float, default=None, help="R11: seconds into the run")
    parser.add_argument("--drain-timeout", type=float, default=180, help="wait for events after the run (s)")
    parser.add_argument(
        "--shared-postgres",
        action="store_true",
        help="use the PostgreSQL of TEST_DATABASE_URL (default 127.0.0.1:5432) instead of a private one",
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--artifacts", type=Path, default=None, help="default test-artifacts/load/<time>")
    args = parser.parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    artifacts = args.artifacts or ROOT / "test-artifacts" / "load" / stamp
    artifacts.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the system on SIGTERM too
    with tempfile.TemporaryDirectory(prefix="ecase-load-") as tmp:
        figures, passed = run(args, Path(tmp), artifacts)
        shutil.copytree(Path(tmp) / "logs", artifacts / "logs", dirs_exist_ok=True)
        if not passed:
            log(f"FAILED: see {artifacts}")
    figures["passed"] = passed
    figures["artifacts"] = str(artifacts)
    print(json.dumps(figures, ensure_ascii=False, indent=1), flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
