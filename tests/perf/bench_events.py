"""Benchmark: events through outbox → relay → broker → worker → inbox (issue 2).

Prints throughput (events/s, publishing in batches as fast as possible) and end-to-end latency
(p50/p95/p99 from the producer's transaction to the consumer's commit) at a steady 100
events/s, on PostgreSQL + Redis and on the embedded default.  Targets: ≥ 500 events/s and
p95 ≤ 200 ms at 100/s on Redis; ≥ 50 events/s embedded.  Not a timed test: it never fails on
speed.

    python tests/perf/bench_events.py [--backend postgres|embedded|both] [--events 3000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared import messaging
from shared.db import utcnow
from shared.models import ProbeReceipt
from shared.testing.system import System, wait_for


def received(system: System) -> int:
    with system.sessions("approval")() as s:
        return int(s.scalar(select(func.count()).select_from(ProbeReceipt)) or 0)


def publish(system: System, keys: list[str]) -> None:
    with system.sessions("intake", write=True).begin() as session:
        for key in keys:
            messaging.publish(
                session,
                "ops.probe",
                {"key": key, "sent_at": utcnow().isoformat()},
                producer="intake",
                destinations=("approval",),
            )


def throughput(system: System, n: int) -> float:
    base = received(system)
    started = time.monotonic()
    for i in range(0, n, 100):
        publish(system, [f"tp-{j}" for j in range(i, min(n, i + 100))])
    wait_for(lambda: received(system) >= base + n, timeout=max(120, n / 20), interval=0.05, what="all events")
    return n / (time.monotonic() - started)


def latency(system: System, rate: int, seconds: int) -> dict[str, float]:
    prefix = f"lat-{rate}-"
    total = rate * seconds
    start = time.monotonic()
    for i in range(total):
        target = start + i / rate
        delay = target - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        publish(system, [f"{prefix}{i}"])
    wait_for(lambda: received_prefix(system, prefix) >= total, timeout=120, what="latency events")
    with system.sessions("approval")() as s:
        rows = s.execute(
            select(ProbeReceipt.sent_at, ProbeReceipt.received_at).where(ProbeReceipt.key.like(f"{prefix}%"))
        ).all()
    ms = sorted((r.received_at - r.sent_at).total_seconds() * 1000 for r in rows)
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[int(len(ms) * 0.95) - 1], 1),
        "p99_ms": round(ms[int(len(ms) * 0.99) - 1], 1),
        "max_ms": round(ms[-1], 1),
        "n": len(ms),
    }


def received_prefix(system: System, prefix: str) -> int:
    with system.sessions("approval")() as s:
        return int(
            s.scalar(
                select(func.count()).select_from(ProbeReceipt).where(ProbeReceipt.key.like(f"{prefix}%"))
            )
            or 0
        )


def run(backend: str, events: int, concurrency: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), backend=backend, extra_env={"ECASE_WORKER_CONCURRENCY": str(concurrency)})
        try:
            system.migrate(("intake", "approval"))
            system.start("intake-relay", "approval-worker")
            system.wait_worker("approval")
            publish(system, [f"warm-{i}" for i in range(20)])
            wait_for(lambda: received(system) >= 20, timeout=60, what="warm-up")
            tp = throughput(system, events)
            lat = latency(system, 100 if backend == "postgres" else 25, 10)
            return {
                "backend": backend,
                "worker_concurrency": concurrency,
                "events": events,
                "throughput_events_per_s": round(tp, 1),
                "latency": lat,
            }
        finally:
            system.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="both", choices=["postgres", "embedded", "both"])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    backends = ["postgres", "embedded"] if args.backend == "both" else [args.backend]
    for backend in backends:
        result = run(
            backend, args.events if backend == "postgres" else min(args.events, 1000), args.concurrency
        )
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
