"""Benchmark: reporting (issue 6) on PostgreSQL.

1. The management summary over 1,000,000 cases (target ≤ 500 ms): the cases are bulk-loaded into
   ``rpt_cases`` with COPY, the summary tables are computed once with GROUP BY
   (``services.recompute_totals``, which gives what the consumers keep up to date event by
   event), and ``GET /api/reporting/summary`` is timed in process (Flask test client: routing,
   auth, queries, JSON), for all years, one fiscal year and one district.  For comparison, the
   same figures by GROUP BY over ``rpt_cases`` directly.
2. The approval report PDF of a 2,000-case batch (target ≤ 5 s): the ``batch.approved`` event is
   consumed, then ``GET .../approval-report.pdf`` (and the other documents) are timed.
3. The consumers' own rate: ``case.registered`` events applied one transaction each.

Prints one JSON object per figure.  Not a timed test: it never fails on speed.

    python tests/perf/bench_reporting.py [--cases 1000000] [--batch 2000] [--reps 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services import reporting
from services.reporting import services
from services.reporting.domain import APPROVED_STATUSES, bangkok_date
from services.reporting.models import RptCase
from shared import auth, events
from shared.db import make_engine, make_sessionmaker
from shared.districts import DISTRICTS
from shared.testing.system import System
from tests.reporting import factories as f

WELFARE = [
    ("KINDERGARTEN", "เงินสนับสนุนกิจกรรมทางการศึกษาระดับอนุบาล", "บัญชีที่ 1 ลำดับที่ 1"),
    ("CAREER", "ทุนประกอบอาชีพ", "บัญชีที่ 1 ลำดับที่ 3"),
    ("MEDICAL", "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล", None),
    ("SCHOLARSHIP", "ทุนการศึกษา", None),
    ("ELDERLY_FUNERAL", "ค่าจัดการศพผู้สูงอายุตามประเพณี", None),
]
STATUSES = [
    "registered",
    "on_agenda",
    "deferred",
    "disqualified",
    "approved",
    "paying",
    "paid",
    "payment_failed",
]
STATUS_WEIGHTS = [5, 5, 2, 3, 10, 5, 65, 5]
AMOUNTS = [Decimal(a) for a in ("1000.00", "2000.00", "2500.50", "3000.00", "5000.00")]
COLUMNS = (
    "case_id", "district_code", "case_no", "fiscal_year", "title", "first_name", "last_name", "case_type",
    "welfare_type_code", "welfare_type_name", "regulation_ref", "amount_requested", "amount_current",
    "registered_at", "registered_on", "registered_month", "data_at", "current_at", "requested_at", "status",
    "status_at", "approved_at", "amount_approved", "pay_state", "paid_at", "paid_amount", "updated_at",
)  # fmt: skip
FIRST = ["สมชาย", "สมศรี", "ประเสริฐ", "วิไลวรรณ", "ณัฐพล", "กิตติศักดิ์", "ปิยะนุช", "สุภาพร", "น้ำฝน", "ศิริพร"]
LAST = ["ใจดี", "รักไทย", "ศรีสุข", "บุญมา", "แก้วประเสริฐ", "ทองคำ", "พึ่งบุญ", "สุขเจริญ", "เลิศล้ำ"]
TITLES = ["นาย", "นาง", "นางสาว", "เด็กชาย", "เด็กหญิง"]


def emit(**figures: Any) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def case_rows(n: int, rng: random.Random) -> Any:
    """``n`` cases over fiscal years 2564-2568, the 50 districts and five welfare types."""
    districts = [d.code for d in DISTRICTS]
    now = dt.datetime.now(dt.UTC)
    for i in range(n):
        fy = rng.randrange(2564, 2569)
        start = dt.datetime(fy - 544, 10, 1, 2, tzinfo=dt.UTC)
        registered = start + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        day = bangkok_date(registered)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        welfare = rng.choice(WELFARE)
        amount = rng.choice(AMOUNTS)
        approved = status in APPROVED_STATUSES
        paid = status == "paid"
        yield (
            str(uuid.uuid4()), rng.choice(districts), f"Case{fy}-{i}", fy, rng.choice(TITLES),
            rng.choice(FIRST), rng.choice(LAST), "general", welfare[0], welfare[1], welfare[2], amount,
            amount, registered, day,
            day.strftime("%Y-%m"), registered, registered, registered, status, registered,
            registered if approved else None, amount if approved else None, "paid" if paid else None,
            registered if paid else None, amount if paid else None, now,
        )  # fmt: skip


def bulk_load(url: str, n: int) -> float:
    engine = make_engine(url)
    started = time.monotonic()
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur, cur.copy(f"COPY rpt_cases ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in case_rows(n, random.Random(2566)):
                copy.write_row(row)
        conn.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE rpt_cases"))
    engine.dispose()
    return time.monotonic() - started


def timed(fn: Any, reps: int) -> dict[str, float]:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "reps": reps}


def group_by_over_cases(sessions: Any, fiscal_year: int | None) -> None:
    c = RptCase
    approved = case((c.status.in_(APPROVED_STATUSES), c.amount_approved), else_=0)
    stmt = select(
        c.status, func.count(), func.sum(c.amount_requested), func.sum(approved), func.sum(c.paid_amount)
    )
    if fiscal_year is not None:
        stmt = stmt.where(c.fiscal_year == fiscal_year)
    for key in (c.status, c.district_code, c.welfare_type_code, c.registered_month):
        with sessions() as s:
            s.execute(stmt.with_only_columns(key, *stmt.selected_columns[1:]).group_by(key)).all()


def consumers(sessions: Any) -> None:
    """3. The consumers' own rate: case.registered, one transaction each."""
    envs = [events.parse(f.registered(f.snapshot(first=f"ผู้รับ{i}", amount="1000.00"))) for i in range(1000)]
    started = time.perf_counter()
    for event in envs:
        with sessions.begin() as s:
            services.HANDLERS[event.event_type](s, event)
    rate = round(len(envs) / (time.perf_counter() - started), 1)
    emit(figure="consumer case.registered (one transaction each)", events=len(envs), events_per_s=rate)


def documents(client: Any, sessions: Any, head: dict[str, str], args: argparse.Namespace) -> None:
    """2. The documents of a big batch."""
    rng = random.Random(7)
    pairs = []
    for i in range(args.batch):
        snap = f.snapshot(
            title=rng.choice(TITLES),
            first=f"{rng.choice(FIRST)}{i}",
            last=rng.choice(LAST),
            welfare=rng.choice(WELFARE[:3]),
            amount=str(rng.choice(AMOUNTS)),
        )
        account = f"{rng.randrange(10**9, 10**10)}"
        pairs.append((snap, f.bank("006" if i % 3 else "014", account, snap["first_name"])))
    approved = events.parse(f.batch_approved("B-bench", pairs, f.at(60)))
    started = time.perf_counter()
    with sessions.begin() as s:
        services.HANDLERS["batch.approved"](s, approved)
    emit(figure="consume batch.approved", cases=args.batch, ms=round((time.perf_counter() - started) * 1000))
    for doc in ("approval-report.pdf", "tk1-ktb.pdf", "kcorp2-other.pdf", "approval-report.xlsx"):
        path = f"/api/reporting/batches/B-bench/{doc}"
        size = len(client.get(path, headers=head).data)
        started_cpu = time.process_time()
        result = timed(lambda path=path: client.get(path, headers=head), args.reps)
        cpu_ms = round((time.process_time() - started_cpu) * 1000 / args.reps, 1)
        target = {"target_ms": 5000} if doc == "approval-report.pdf" else {}
        emit(figure=f"GET {doc}", cases=args.batch, bytes=size, cpu_ms=cpu_ms, **result, **target)


def summaries(
    client: Any, sessions: Any, url: str, tokens: dict[str, dict[str, str]], args: argparse.Namespace
) -> None:
    """1. The summary over ``args.cases`` bulk-loaded cases."""
    load_s = bulk_load(url, args.cases)
    emit(figure="bulk load rpt_cases (COPY)", cases=args.cases, seconds=round(load_s, 1))
    started = time.perf_counter()
    with sessions.begin() as s:
        counts = services.recompute_totals(s)
        s.execute(text("ANALYZE rpt_summary_totals"))
        s.execute(text("ANALYZE rpt_daily_intake"))
    emit(figure="recompute_totals", seconds=round(time.perf_counter() - started, 1), **counts)
    central, head = tokens["central"], tokens["head"]
    queries = {
        "summary all years, all districts (central_admin)": ("/api/reporting/summary", central),
        "summary fiscal 2566, all districts (central_admin)": (
            "/api/reporting/summary?fiscal_year=2566",
            central,
        ),
        "summary fiscal 2566, own district (head)": ("/api/reporting/summary?fiscal_year=2566", head),
    }
    for name, (path, hdrs) in queries.items():
        cases = client.get(path, headers=hdrs).json["totals"]["cases"]
        started_cpu = time.process_time()
        result = timed(lambda path=path, hdrs=hdrs: client.get(path, headers=hdrs), args.reps)
        cpu_ms = round((time.process_time() - started_cpu) * 1000 / args.reps, 1)
        emit(figure=f"GET {name}", cases=cases, target_ms=500, cpu_ms=cpu_ms, **result)
    xlsx_path = "/api/reporting/summary.xlsx?fiscal_year=2566"
    emit(
        figure="GET summary.xlsx fiscal 2566 (central_admin)",
        **timed(lambda: client.get(xlsx_path, headers=central), 3),
    )
    for fy in (None, 2566):
        result = timed(lambda fy=fy: group_by_over_cases(sessions, fy), 3)
        emit(figure=f"for comparison: GROUP BY over rpt_cases ({fy or 'all years'})", **result)


def bearer(name: str, role: str, district: str | None, secret: str) -> dict[str, str]:
    token = auth.issue_token(username=name, role=role, district_code=district, secret=secret)[0]
    return {"Authorization": f"Bearer {token}"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", choices=("all", "summary", "documents"), default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), backend="postgres")
        try:
            system.migrate(("reporting",))
            url = system.database_url("reporting")
            sessions = make_sessionmaker(make_engine(url))
            with system.environment():
                app = reporting.create_app({"DATABASE_URL": url, "TESTING": True})
            secret = system.env["ECASE_SECRET_KEY"]
            tokens = {
                name: bearer(name, role, district, secret)
                for name, role, district in (("central", "central_admin", None), ("head", "head", "1008"))
            }
            client = app.test_client()
            emit(figure="load", load_average=[round(x, 2) for x in os.getloadavg()], cpus=os.cpu_count())
            if args.only in ("all", "documents"):
                consumers(sessions)
                documents(client, sessions, tokens["head"], args)
            if args.only in ("all", "summary"):
                summaries(client, sessions, url, tokens, args)
            app.extensions["ecase"].engine.dispose()
        finally:
            system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
