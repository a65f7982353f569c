"""The chaos runner (reliability.md §6.2): ``python -m tests.chaos.run --events 1000`` (``make chaos``).

Starts its own Redis (no persistence, like the machine's broker) and the real E-Case processes on
throwaway PostgreSQL databases (``shared.testing.system.System``), then

1. sends ``--events`` keyed ``ops.probe`` events plus one poison through intake's outbox to
   approval's worker while pool processes, the worker's main process, the relay, Redis and the
   PostgreSQL connections are killed on a schedule drawn from ``--seed``;
2. runs the money path (``tests.chaos.money``) with every step interrupted.

It prints the figures, writes them to ``test-artifacts/chaos/<name>.json`` and exits 1 when a
guarantee broke (lost or duplicated effects, a wrong dead letter, a payee paid twice, counters
that do not add up).  ``--short`` is the CI version: fewer events, one fault of each kind.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.testing.system import System
from tests.chaos import events, money
from tests.chaos.faults import Faults, RedisServer, Supervisor

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "chaos"
PROCESSES = (
    "intake",
    "intake-relay",
    "approval",
    "approval-worker",
    "payment",
    "payment-worker",
    "payment-relay",
)


@dataclass
class Profile:
    """Sizes and timings of a run (the chaos profile of §6.1: a short visibility timeout)."""

    events: int
    cases: int
    short: bool
    visibility_timeout: int
    time_limit: int
    soft_time_limit: int
    sleep_ms: tuple[int, int]
    chunk: int
    feed_seconds: float
    fault_window: float
    import_pause_ms: int
    max_attempts: int = 3

    @classmethod
    def make(cls, events_: int, cases: int | None, short: bool) -> Profile:
        if short:
            return cls(
                events=events_,
                cases=cases or 40,
                short=True,
                visibility_timeout=10,
                time_limit=8,
                soft_time_limit=6,
                sleep_ms=(40, 120),  # enough work in flight for every fault to hit some
                chunk=10,
                feed_seconds=18,
                fault_window=18,
                import_pause_ms=3000,
            )
        return cls(
            events=events_,
            cases=cases or 400,
            short=False,
            visibility_timeout=30,
            time_limit=25,
            soft_time_limit=20,
            sleep_ms=(20, 200),  # reliability.md R3: tasks of 20–200 ms
            chunk=20,
            feed_seconds=max(20.0, events_ * 0.05),
            fault_window=max(30.0, events_ * 0.08),
            import_pause_ms=6000,
        )

    def env(self) -> dict[str, str]:
        return {
            **money.KTB_ENV,
            "ECASE_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
            "ECASE_TASK_TIME_LIMIT": str(self.time_limit),
            "ECASE_TASK_SOFT_TIME_LIMIT": str(self.soft_time_limit),
            "ECASE_UNACKED_RESTORE_INTERVAL": "2",
            "ECASE_MAX_ATTEMPTS": str(self.max_attempts),
            # Below the visibility timeout, as a worker insists (R5).
            "ECASE_RETRY_BACKOFF_MAX": str(self.visibility_timeout // 2),
            "ECASE_WORKER_CONCURRENCY": "2",
            "ECASE_PAYMENT_IMPORT_PAUSE_MS": str(self.import_pause_ms),
            # A claim whose request died (and whose release the fault cut too) is taken over
            # after this long instead of 10 minutes, so the retried download gets its answer.
            "ECASE_IDEMPOTENCY_LOCK_TIMEOUT_SECONDS": "10",
        }


@dataclass
class Outcome:
    seed: int
    profile: dict[str, Any]
    events: dict[str, Any]
    money: dict[str, Any]
    crashes: list[dict[str, Any]]
    problems: list[str]
    seconds: float


def run(profile: Profile, seed: int, workdir: Path, log: Any = print) -> Outcome:
    """One chaos run in ``workdir``; the processes and the Redis are stopped at the end."""
    started = time.monotonic()
    rng = random.Random(seed)
    log(f"chaos run: seed {seed}, {profile.events} events, {profile.cases} payees, workdir {workdir}")
    redis = RedisServer(workdir)
    redis.start()
    system = System(workdir / "system", backend="postgres", redis_url=redis.url, extra_env=profile.env())
    supervisor: Supervisor | None = None
    try:
        system.migrate(("intake", "approval", "payment"))
        system.start(*PROCESSES)
        for svc in ("intake", "approval", "payment"):
            system.wait_healthy(svc)
        system.wait_worker("approval")
        system.wait_worker("payment")
        faults = Faults(system, redis, rng)
        supervisor = Supervisor(system, faults)
        supervisor.start()
        schedule = (events.short_schedule if profile.short else events.full_schedule)(
            rng, profile.fault_window
        )
        plan = events.EventPlan(
            events=profile.events,
            chunk=profile.chunk,
            feed_seconds=profile.feed_seconds,
            sleep_ms=profile.sleep_ms,
            schedule=schedule,
            max_attempts=profile.max_attempts,
            visibility_timeout=profile.visibility_timeout,
        )
        log(f"events: {len(schedule)} faults scheduled over {profile.fault_window:.0f}s")
        ev = events.run_events(system, faults, plan, f"chaos{seed}", rng, log)
        problems = ev.problems(profile.max_attempts, profile.visibility_timeout)
        log(f"money path: {profile.cases} payees")
        faults.log.clear()
        mo = money.MoneyResult(cases=profile.cases)
        try:
            money.run_money(system, faults, mo, timeout=profile.visibility_timeout + 120, log=log)
            problems += mo.problems()
        except Exception as exc:  # report what the events phase found as well
            problems.append(f"the money path broke: {exc!r}"[:2000])
        crashes = list(supervisor.crashes)
        return Outcome(
            seed,
            asdict(profile),
            asdict(ev),
            asdict(mo),
            crashes,
            problems,
            round(time.monotonic() - started, 1),
        )
    finally:
        try:
            if supervisor is not None:
                supervisor.stop.set()
                supervisor.join()
            system.close()
        finally:
            redis.close()


def summary(outcome: Outcome) -> str:
    """The figures as text (what docs/reliability.md quotes)."""
    ev, mo = outcome.events, outcome.money
    out = [
        f"seed {outcome.seed}; {outcome.seconds:.0f}s in all",
        f"events: {ev['events']} sent, {ev['applied']} applied, {len(ev['lost'])} lost, "
        f"{len(ev['duplicated'])} duplicated effects (executions per key == 1 for all: "
        f"{not ev['duplicated'] and not ev['lost']})",
        f"  redeliveries absorbed by the inbox: {ev['redeliveries_absorbed']}; events attempted more than "
        f"once: {ev['events_attempted_more_than_once']}; outbox rows sent more than once: "
        f"{ev['outbox_rows_resent']}; unacknowledged at the end: {ev['outbox_unacked_at_end']}; "
        f"POSTs retried after a fault: {ev['feed_retries']}",
        f"  poison: {ev['poison_dead_letter']}; HTTP {ev['poison_receipt_status']} for its receipt; "
        f"other dead letters: {len(ev['other_dead_letters'])}",
        f"  quiet {ev['seconds_to_quiescence_after_last_fault']}s after the last fault; phase "
        f"{ev['total_seconds']}s",
        "  redelivery delay per kind of fault, one marker event in flight (fault -> run again / applied):",
    ]
    for kind, d in ev["isolated"].items():
        how = (
            "run again"
            if d["attempts"] >= 2
            else "(the attempt in flight finished or the event waited) applied"
        )
        line = f"    {kind:36s} {how} after {d['redelivered_after_s']}s; effect after {d['applied_after_s']}s"
        if "new_event_applied_after_s" in d:
            line += f"; a new event applied {d['new_event_applied_after_s']}s after the restart"
        out.append(line)
    kinds = ", ".join(f"{k} x{d['faults']}" for k, d in ev["delays"].items())
    resent = sum(d.get("re_sent_by_outbox", 0) for d in ev["delays"].values())
    out.append(f"  the schedule's faults: {kinds} (faults skipped, loop held up: {ev['faults_skipped']})")
    out.append(f"  Redis restarts under load: {resent} unacknowledged rows sent again by the outbox")
    out.append(
        f"money: {mo['cases']} payees; lines per case max {mo['lines_per_case_max']}; paid transfers per "
        f"payee max {mo['paid_transfers_per_line_max']}; payout.paid per case max "
        f"{mo['paid_events_per_case_max']}; paid {mo['paid_lines']} (events {mo['paid_events']}), failed "
        f"{mo['failed_lines']}; files per group {mo['files_per_group']}; reconciliation adds up "
        f"{mo['reconciliation_adds_up']}; contradiction alerts {mo['contradiction_alerts']}; "
        f"HTTP 500s {mo['http_500']}; {mo['total_seconds']}s"
    )
    for step in mo["steps"]:
        out.append(f"  {step}")
    out.append(f"processes that exited by themselves and were restarted (supervisor): {len(outcome.crashes)}")
    for crash in outcome.crashes:
        out.append(f"  {crash}")
    out.append("PASS" if not outcome.problems else "FAIL:\n  " + "\n  ".join(outcome.problems))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--cases", type=int, default=None, help="payees in the money path's batch")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (printed at the start)")
    parser.add_argument("--short", action="store_true", help="one fault of each kind (the CI version)")
    parser.add_argument("--name", default="chaos", help="test-artifacts/chaos/<name>.json")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    profile = Profile.make(args.events, args.cases, args.short)
    workdir = Path(tempfile.mkdtemp(prefix="ecase-chaos-"))
    try:
        outcome = run(profile, seed, workdir)
    except BaseException:
        shutil.copytree(workdir / "system" / "logs", ARTIFACTS / f"{args.name}-logs", dirs_exist_ok=True)
        print(f"chaos run {seed} broke; logs in {ARTIFACTS / f'{args.name}-logs'}", file=sys.stderr)
        raise
    text = summary(outcome)
    print(text)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{args.name}.json").write_text(json.dumps(asdict(outcome), indent=2, default=str))
    (ARTIFACTS / f"{args.name}.txt").write_text(text + "\n")
    shutil.copytree(workdir / "system" / "logs", ARTIFACTS / f"{args.name}-logs", dirs_exist_ok=True)
    shutil.rmtree(workdir, ignore_errors=True)
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
