"""Keyed events through outbox → broker → inbox while faults hit every part (R1–R4, R6, R10, R11).

Operators' ``ops.probe`` events go from intake's outbox (``POST /api/intake/ops/probe`` with
``count``) through the run's Redis to approval's worker, whose inbox records one
``probe_receipts`` row per key and counts every further execution in ``executions``.  So after
the run ``executions == 1`` for every key means no lost and no duplicated effect, whatever was
redelivered.  One poison probe (``fault=raise`` on every attempt) must end in dead letters after
``ECASE_MAX_ATTEMPTS`` attempts while the rest flow.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import redis
import requests
from sqlalchemy import text

from shared import auth
from shared.testing.system import System, wait_for
from tests.chaos.faults import Fault, Faults

PRODUCER, CONSUMER = "intake", "approval"
# How long a marker runs, so the fault surely comes while it does (a worker may need seconds to
# notice that Redis went away).
MARKER_SLEEP_MS = {"redis": 4000}
MARKER_SLEEP_DEFAULT_MS = 1500
#: The bound each kind of fault's redelivery must meet (reliability.md; generous for 2 busy cores).
BOUNDS = {
    "pool child SIGKILL": "R3a: re-run within 10 s",
    "worker main SIGKILL": "R3b: within the visibility timeout + the restore sweep (+30 s slack)",
    "Redis restart (nosave)": "R6a: taking tasks again within 60 s",
    "PostgreSQL connections terminated": "R11: working again within 30 s",
    "relay SIGKILL": "R1: sent and applied within 30 s of the relay's restart",
}
WORKER, RELAY = f"{CONSUMER}-worker", f"{PRODUCER}-relay"
POISON_ERROR = "probe fault on attempt"

# Fault kinds of a schedule.
CHILD, MAIN, REDIS, PG, RELAY_KILL = "child", "main", "redis", "pg", "relay"


@dataclass
class EventPlan:
    """What one run does: how many events, which faults when (seconds after the start)."""

    events: int
    chunk: int
    feed_seconds: float
    sleep_ms: tuple[int, int]
    schedule: list[tuple[float, str]]
    max_attempts: int
    visibility_timeout: int


def full_schedule(rng: Any, window: float) -> list[tuple[float, str]]:
    """reliability.md §6.2: a pool child every 2–5 s; the main process ×3; Redis ×2; PostgreSQL ×2.

    Plus one relay SIGKILL (R1 a).  The rarer faults are at least 4 s apart.
    """
    out: list[tuple[float, str]] = []
    t = rng.uniform(2, 5)
    while t < window:
        out.append((t, CHILD))
        t += rng.uniform(2, 5)
    heavy: list[float] = []
    for kind, count in ((MAIN, 3), (REDIS, 2), (PG, 2), (RELAY_KILL, 1)):
        for _ in range(count):
            while True:
                at = rng.uniform(0.08 * window, 0.85 * window)
                if all(abs(at - other) >= 4 for other in heavy):
                    break
            heavy.append(at)
            out.append((at, kind))
    return sorted(out)


def short_schedule(rng: Any, window: float) -> list[tuple[float, str]]:
    """One fault of each kind, in a random order, spread over the window."""
    kinds = [CHILD, MAIN, REDIS, PG, RELAY_KILL]
    rng.shuffle(kinds)
    step = window / (len(kinds) + 1)
    return [(step * (i + 1) + rng.uniform(-0.3, 0.3) * step, kind) for i, kind in enumerate(kinds)]


@dataclass
class EventResult:
    """What happened, for the report (figures) and the assertions."""

    events: int
    applied: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)
    unexpected_receipts: list[str] = field(default_factory=list)
    poison_event_id: str = ""
    poison_dead_letter: dict[str, Any] | None = None
    poison_receipt_status: int = 0
    other_dead_letters: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    delays: dict[str, dict[str, Any]] = field(default_factory=dict)
    redeliveries_absorbed: int = 0
    events_attempted_more_than_once: int = 0
    outbox_rows_resent: int = 0
    outbox_unacked_at_end: int = 0
    feed_retries: int = 0
    faults_skipped: int = 0
    seconds_to_quiescence_after_last_fault: float = 0.0
    # One marker event in flight, one fault, nothing else going on: the redelivery delay per kind.
    isolated: dict[str, dict[str, Any]] = field(default_factory=dict)
    total_seconds: float = 0.0

    def problems(self, max_attempts: int, visibility_timeout: int = 0) -> list[str]:
        """Everything that breaks a guarantee (empty when the run passed)."""
        out = []
        limits = {
            "pool child SIGKILL": 10.0,
            "worker main SIGKILL": visibility_timeout + 2 * 2 + 30.0,
            "Redis restart (nosave)": 60.0,
            "PostgreSQL connections terminated": 30.0,
            "relay SIGKILL": 30.0,
        }
        for kind, figures in self.isolated.items():
            delay = max(
                figures.get("redelivered_after_s") or 0, figures.get("new_event_applied_after_s") or 0
            )
            delay = delay if figures.get("redelivered_after_s") is not None else None
            if delay is None or delay > limits[kind]:
                out.append(f"{kind}: redelivered after {delay} s (limit {limits[kind]} s; {BOUNDS[kind]})")
        if self.lost:
            out.append(f"{len(self.lost)} event(s) lost, e.g. {self.lost[:5]}")
        if self.duplicated:
            out.append(
                f"{len(self.duplicated)} effect(s) duplicated: {dict(list(self.duplicated.items())[:5])}"
            )
        if self.unexpected_receipts:
            out.append(f"receipts for keys never sent: {self.unexpected_receipts[:5]}")
        dl = self.poison_dead_letter
        if dl is None:
            out.append("the poison message is not in dead letters")
        elif dl["attempts"] != max_attempts or POISON_ERROR not in (dl.get("last_error") or ""):
            out.append(f"poison parked after {dl['attempts']} attempts ({dl.get('last_error')!r})")
        if self.poison_receipt_status != 404:
            out.append(f"the poison probe has a receipt (HTTP {self.poison_receipt_status})")
        if self.other_dead_letters:
            out.append(
                f"{len(self.other_dead_letters)} normal event(s) parked: {self.other_dead_letters[:3]}"
            )
        return out


class Operator:
    """The operator's HTTP calls (intake sends probes, approval reports receipts and dead letters)."""

    def __init__(self, system: System) -> None:
        self.system = system
        token = auth.issue_token(
            username="operator", role="operator", district_code=None, secret=system.env["ECASE_SECRET_KEY"]
        )[0]
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def send(self, key: str, count: int, **fault: Any) -> requests.Response:
        return self.http.post(
            self.system.url(PRODUCER, f"/api/{PRODUCER}/ops/probe"),
            json={"key": key, "queue": CONSUMER, "count": count, **fault},
            timeout=30,
        )

    def get(self, path: str) -> requests.Response:
        """A read, asked again while the service answers 503 (its database may be full or away)."""
        url = self.system.url(CONSUMER, f"/api/{CONSUMER}{path}")

        def answer() -> tuple[requests.Response] | None:  # (a 404 Response is falsy)
            r = self.http.get(url, timeout=30)
            return (r,) if r.status_code != 503 else None

        return wait_for(answer, timeout=60, interval=0.5, what=f"GET {path} without 503")[0]

    def receipt(self, key: str) -> requests.Response:
        return self.get(f"/ops/probes/{key}")

    def dead_letters(self) -> list[dict[str, Any]]:
        r = self.get("/ops/dead-letters")
        r.raise_for_status()
        return list(r.json())


def _sent_count(system: System, prefix: str) -> int:
    """How many outbox rows carry keys starting with ``prefix`` (did a failed POST commit?)."""
    with system.sessions(PRODUCER)() as s:
        return int(
            s.execute(
                text("SELECT count(*) FROM outbox_messages WHERE (body->'payload'->>'key') LIKE :p"),
                {"p": prefix.replace("_", r"\_") + "%"},
            ).scalar_one()
        )


class Feeder(threading.Thread):
    """Posts the events in chunks over ``feed_seconds`` (a POST refused by a fault is retried
    only after checking in intake's outbox that it committed nothing)."""

    def __init__(self, system: System, operator: Operator, plan: EventPlan, run_id: str, rng: Any) -> None:
        super().__init__(name="chaos-feeder", daemon=True)
        self.system, self.operator, self.plan, self.run_id, self.rng = system, operator, plan, run_id, rng
        self.keys: list[str] = []
        self.retries = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            chunks = -(-self.plan.events // self.plan.chunk)
            pause = self.plan.feed_seconds / chunks
            start = time.monotonic()
            for n in range(chunks):
                count = min(self.plan.chunk, self.plan.events - n * self.plan.chunk)
                prefix = f"{self.run_id}-c{n:04d}"
                sleep_ms = self.rng.randint(*self.plan.sleep_ms)
                self._post(prefix, count, sleep_ms)
                self.keys.extend(f"{prefix}-{i}" for i in range(count) if count > 1)
                if count == 1:
                    self.keys.append(prefix)
                # Keep to the feeding rate (pacing, not waiting for an outcome).
                time.sleep(max(0.0, start + pause * (n + 1) - time.monotonic()))
        except BaseException as exc:  # reported by the runner
            self.error = exc

    def _post(self, prefix: str, count: int, sleep_ms: int) -> None:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = self.operator.send(prefix, count, fault="sleep", sleep_ms=sleep_ms)
                if r.status_code == 202:
                    return
                failure = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as exc:
                failure = repr(exc)
            committed = wait_for(
                lambda: (_sent_count(self.system, prefix + "-"),), timeout=30, what="intake's outbox"
            )[0]
            if committed == count:
                return
            if committed:
                raise AssertionError(f"{prefix}: {committed} of {count} rows committed ({failure})")
            if time.monotonic() > deadline:
                raise AssertionError(f"{prefix}: intake kept refusing the probes: {failure}")
            self.retries += 1
            time.sleep(0.2)


def broker_state(system: System) -> dict[str, Any]:
    """This run's keys in Redis: type and size, and the TTL of kombu's restore mutex (diagnosis)."""
    client = redis.Redis.from_url(system.env["ECASE_BROKER_URL"])
    prefix = system.env["ECASE_BROKER_KEY_PREFIX"]
    out: dict[str, Any] = {}
    try:
        for raw in client.scan_iter(match=prefix + "*", count=500):
            key = raw.decode()
            kind = client.type(raw).decode()
            sizes = {"list": client.llen, "hash": client.hlen, "zset": client.zcard, "set": client.scard}
            size = sizes.get(kind)
            out[key.removeprefix(prefix)] = f"{kind}:{size(raw) if size else ''} ttl={client.ttl(raw)}"
    finally:
        client.close()
    return out


def snapshot(system: System) -> dict[str, Any]:
    """What is in flight now: started-not-applied events, sent-not-acknowledged and unsent rows."""
    with system.sessions(CONSUMER)() as s:
        inflight = dict(
            s.execute(
                text(
                    "SELECT a.event_id, a.attempts FROM message_attempts a LEFT JOIN processed_messages p "
                    "ON p.event_id = a.event_id AND p.consumer = a.consumer WHERE p.event_id IS NULL"
                )
            ).all()
        )
    with system.sessions(PRODUCER)() as s:
        unacked = dict(
            s.execute(
                text(
                    "SELECT event_id, send_attempts FROM outbox_messages "
                    "WHERE published_at IS NOT NULL AND acked_at IS NULL"
                )
            ).all()
        )
        unsent = [
            r[0] for r in s.execute(text("SELECT event_id FROM outbox_messages WHERE published_at IS NULL"))
        ]
    return {"inflight": inflight, "unacked": unacked, "unsent": unsent}


def inject(faults: Faults, kind: str) -> Fault | None:
    """Take the in-flight snapshot, then inject one fault of ``kind``."""
    faults.reap_orphans()  # pool processes a killed main process left behind (seconds ago)
    try:
        snap = snapshot(faults.system)
    except Exception:  # the database is the thing under attack; the fault still happens
        snap = {}
    if kind == CHILD:
        fault = faults.kill_pool_child(WORKER)
    elif kind == MAIN:
        fault = faults.kill_worker_main(WORKER)
    elif kind == REDIS:
        fault = faults.restart_redis()
    elif kind == PG:
        fault = faults.terminate_pg()
    elif kind == RELAY_KILL:
        fault = faults.kill_relay(RELAY)
    else:
        raise ValueError(kind)
    if fault is not None:
        fault.snapshot = snap
    return fault


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"affected": 0, "p50_s": None, "p100_s": None}
    ordered = sorted(values)
    return {
        "affected": len(ordered),
        "p50_s": round(ordered[(len(ordered) - 1) // 2], 2),
        "p100_s": round(ordered[-1], 2),
    }


def measure_delays(system: System, faults: list[Fault], poison_id: str) -> dict[str, dict[str, Any]]:
    """Per fault kind: how long after the fault the events it hit were applied.

    An event is hit by a worker, pool or database fault when it had started and was not applied
    at the fault and was attempted again afterwards; by a Redis restart when it was sent,
    unacknowledged and not applied then and the outbox sent it again; by a relay kill when it
    was committed but not yet sent.  An event hit by several faults is charged to the latest one
    before its last attempt (the one that caused the redelivery that finally applied it).  The
    delay is fault → effect committed, so it includes the queue in front of the event.
    """
    with system.sessions(CONSUMER)() as s:
        applied = dict(s.execute(text("SELECT event_id, received_at FROM probe_receipts")).all())
        attempts = {
            e: (n, last)
            for e, n, last in s.execute(text("SELECT event_id, attempts, last_at FROM message_attempts"))
        }
    with system.sessions(PRODUCER)() as s:
        sends = dict(s.execute(text("SELECT event_id, send_attempts FROM outbox_messages")).all())
    candidates: dict[str, list[Fault]] = {}
    resent: dict[str, int] = {}
    for fault in faults:
        snap = fault.snapshot or {}
        hit: set[str] = set()
        if fault.kind == "Redis restart (nosave)":
            lost = {e for e, n in snap.get("unacked", {}).items() if sends.get(e, 0) > n and e != poison_id}
            resent[fault.kind] = resent.get(fault.kind, 0) + len(lost)
            hit |= lost
        if fault.kind == "relay SIGKILL":
            hit |= set(snap.get("unsent", []))
        hit |= {e for e, n in snap.get("inflight", {}).items() if attempts.get(e, (0, None))[0] > n}
        hit.discard(poison_id)
        for event_id in hit:
            candidates.setdefault(event_id, []).append(fault)
    per_kind: dict[str, list[float]] = {f.kind: [] for f in faults}
    for event_id, hit_by in candidates.items():
        done = applied.get(event_id)
        last = attempts.get(event_id, (0, None))[1]
        before = [f for f in hit_by if last is None or f.at < last] or hit_by
        fault = max(before, key=lambda f: f.at)
        if done is not None and done > fault.at:
            per_kind[fault.kind].append((done - fault.at).total_seconds())
    out = {}
    for kind, values in per_kind.items():
        out[kind] = {"faults": sum(1 for f in faults if f.kind == kind), **_stats(values)}
        if kind in resent:
            out[kind]["re_sent_by_outbox"] = resent[kind]
    return out


def _marker(system: System, key: str) -> dict[str, Any] | None:
    """A marker probe's event id, attempts, last attempt and when it was applied (None: not sent)."""
    with system.sessions(PRODUCER)() as s:
        event_id = s.execute(
            text("SELECT event_id FROM outbox_messages WHERE (body->'payload'->>'key') = :k"), {"k": key}
        ).scalar_one_or_none()
    if event_id is None:
        return None
    with system.sessions(CONSUMER)() as s:
        row = s.execute(
            text("SELECT attempts, last_at FROM message_attempts WHERE event_id = :e"), {"e": event_id}
        ).first()
        # received_at is written with the effect, at the end of the handler (the inbox row's
        # processed_at is taken when the attempt claims the event, before the handler runs).
        applied = s.execute(
            text("SELECT received_at FROM probe_receipts WHERE event_id = :e"), {"e": event_id}
        ).scalar_one_or_none()
    return {
        "event_id": event_id,
        "attempts": row[0] if row else 0,
        "last_at": row[1] if row else None,
        "applied_at": applied,
    }


def isolated_delays(
    system: System, faults: Faults, operator: Operator, run_id: str, timeout: float, log: Any
) -> dict[str, dict[str, Any]]:
    """For each kind of fault: one marker event in flight, the fault, and how long until it ran again.

    The marker sleeps 1.5–4 s in its handler, so it is surely running when the fault
    comes (a relay kill instead hits a committed event the relay has not sent).  The worker's main
    process is killed as on a host crash: its pool processes die with it, so the marker must come
    back from Redis.  ``redelivered_after_s`` is fault → the attempt that applied it began (or,
    when no new attempt was needed, → applied); ``applied_after_s`` is fault → effect committed.
    """
    out: dict[str, dict[str, Any]] = {}
    for kind in (CHILD, PG, RELAY_KILL, REDIS, MAIN):
        key = f"{run_id}-marker-{kind}"
        if kind == RELAY_KILL:
            with faults.lock:
                fault = faults._record("relay SIGKILL", relay=RELAY)
                system.kill(RELAY)
                r = operator.send(key, 1)  # committed; no relay sends it until the restart
                assert r.status_code == 202, r.text
                system.start(RELAY)
        else:
            sleep_ms = MARKER_SLEEP_MS.get(kind, MARKER_SLEEP_DEFAULT_MS)
            r = operator.send(key, 1, fault="sleep", sleep_ms=sleep_ms)
            assert r.status_code == 202, r.text
            wait_for(
                lambda key=key: (m := _marker(system, key)) and m["attempts"] >= 1 and not m["applied_at"],
                timeout=timeout,
                interval=0.02,
                what=f"marker {kind} running",
            )
            if kind == CHILD:
                for pid in system.children(WORKER):
                    fault = faults.kill_child(WORKER, pid)
            elif kind == PG:
                fault = faults.terminate_pg()
            elif kind == REDIS:
                fault = faults.restart_redis()
                # R6a: the workers take new work again (a fresh event sent after the restart).
                fresh = f"{key}-after"
                assert operator.send(fresh, 1).status_code == 202
            else:
                fault = faults.kill_worker_main(WORKER)
                faults.reap_orphans()  # a host crash: the pool processes go too
        done = wait_for(
            lambda key=key: (m := _marker(system, key)) and m["applied_at"] is not None and m,
            timeout=timeout,
            interval=0.1,
            what=f"marker {kind} applied",
        )
        rerun = done["last_at"] if done["attempts"] >= 2 else done["applied_at"]
        missed = done["applied_at"] <= fault.at  # it finished before the fault: nothing measured
        out[fault.kind] = {
            "redelivered_after_s": None if missed else round((rerun - fault.at).total_seconds(), 2),
            "applied_after_s": round((done["applied_at"] - fault.at).total_seconds(), 2),
            "attempts": done["attempts"],
        }
        if kind == REDIS:
            after = wait_for(
                lambda fresh=fresh: (m := _marker(system, fresh)) and m["applied_at"] is not None and m,
                timeout=timeout,
                interval=0.1,
                what="a new event applied after the Redis restart",
            )
            out[fault.kind]["new_event_applied_after_s"] = round(
                (after["applied_at"] - fault.at).total_seconds(), 2
            )
        log(f"  isolated {fault.kind}: {out[fault.kind]}")
    return out


def run_events(
    system: System, faults: Faults, plan: EventPlan, run_id: str, rng: Any, log: Any = print
) -> EventResult:
    """Feed the events, inject the schedule, wait for quiescence, then check every key."""
    started = time.monotonic()
    operator = Operator(system)
    result = EventResult(events=plan.events)
    # The poison goes first, so it meets the faults too.
    poison_key = f"{run_id}-poison"
    r = operator.send(poison_key, 1, fault="raise", fail_times=0)
    assert r.status_code == 202, r.text
    feeder = Feeder(system, operator, plan, run_id, rng)
    feeder.start()
    for offset, kind in plan.schedule:
        time.sleep(max(0.0, started + offset - time.monotonic()))  # the schedule's own clock
        if kind == CHILD and time.monotonic() - (started + offset) > 1.5:
            result.faults_skipped += 1  # the loop was held up (a restart): no burst of late kills
            continue
        fault = inject(faults, kind)
        if fault is not None:
            log(f"  {time.monotonic() - started:6.1f}s  {fault.kind} {fault.detail}")
    feeder.join(timeout=plan.feed_seconds + 300)
    if feeder.error is not None:
        raise feeder.error
    assert not feeder.is_alive(), "the feeder did not finish"
    last_fault = time.monotonic()
    result.feed_retries = feeder.retries
    keys = feeder.keys
    assert len(keys) == plan.events

    def quiet() -> bool:
        with system.sessions(CONSUMER)() as s:
            receipts = s.execute(text("SELECT count(*) FROM probe_receipts")).scalar_one()
            parked = s.execute(text("SELECT count(*) FROM dead_letters")).scalar_one()
        with system.sessions(PRODUCER)() as s:
            unsent = s.execute(
                text("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
            ).scalar_one()
        return receipts + parked >= plan.events + 1 and unsent == 0

    deadline = plan.visibility_timeout + 120
    try:
        wait_for(quiet, timeout=deadline, interval=0.5, what="every event applied or parked")
    except TimeoutError as exc:
        log(f"  not quiet after {deadline}s: {exc}")
        log(f"  broker state: {broker_state(system)}")
    result.seconds_to_quiescence_after_last_fault = round(time.monotonic() - last_fault, 1)
    # Acknowledgements lag the effects by a relay round; let them arrive before counting.
    with system.sessions(PRODUCER)() as s:
        result.outbox_unacked_at_end = s.execute(
            text("SELECT count(*) FROM outbox_messages WHERE acked_at IS NULL")
        ).scalar_one()

    # The verdict, through the operator's API (one GET per key).
    for key in keys:
        got = operator.receipt(key)
        if got.status_code == 404:
            result.lost.append(key)
        else:
            got.raise_for_status()
            result.applied += 1
            executions = int(got.json()["executions"])
            if executions != 1:
                result.duplicated[key] = executions
    poison = operator.receipt(poison_key)
    result.poison_receipt_status = poison.status_code
    with system.sessions(PRODUCER)() as s:
        result.poison_event_id = s.execute(
            text("SELECT event_id FROM outbox_messages WHERE (body->'payload'->>'key') = :k"),
            {"k": poison_key},
        ).scalar_one()
        result.outbox_rows_resent = s.execute(
            text("SELECT count(*) FROM outbox_messages WHERE send_attempts > 1")
        ).scalar_one()
    with system.sessions(CONSUMER)() as s:
        stored = set(s.execute(text("SELECT key FROM probe_receipts")).scalars())
        result.unexpected_receipts = sorted(stored - set(keys))
        result.redeliveries_absorbed = int(
            s.execute(text("SELECT coalesce(sum(duplicates), 0) FROM processed_messages")).scalar_one()
        )
        result.events_attempted_more_than_once = s.execute(
            text("SELECT count(*) FROM message_attempts WHERE attempts > 1")
        ).scalar_one()
    for dl in operator.dead_letters():
        view = {k: dl.get(k) for k in ("event_id", "attempts", "last_error", "status")}
        if dl["event_id"] == result.poison_event_id:
            result.poison_dead_letter = view
        else:
            result.other_dead_letters.append(view)
    result.delays = measure_delays(system, faults.log, result.poison_event_id)
    result.isolated = isolated_delays(system, faults, operator, run_id, plan.visibility_timeout + 120, log)
    result.faults = [
        {"kind": f.kind, "at": f.at.isoformat(), **{k: v for k, v in f.detail.items() if k != "pid"}}
        for f in faults.log
    ]
    result.total_seconds = round(time.monotonic() - started, 1)
    return result
