"""Locust users for the load test (reliability.md §6.6): the officers of the 50 district offices.

Run by ``tests/load/run.py``, which starts a real E-Case on PostgreSQL + Redis, preloads the
history, issues one officer token per district and writes the plan this file reads from the
JSON file named by ``ECASE_LOAD_PLAN``:

    {"tokens": {"1001": "<jwt>", ...}, "returning": ["<national id>", ...], "users": 50, "seed": 1,
     "wait_seconds": [0.5, 1.5], "checks_per_record": 3, "results": "<path>"}

Each user is the officer of one district (user i → district i of the plan, cycling) and works
through the gateway's JSON API as the case page does:

* **check** (weight ``checks_per_record``): ``GET /api/intake/citizens/{id}/history`` with the
  request about to be recorded (``welfare_type_code``, ``amount``, ``house_id``), for a returning
  applicant from the preloaded history (3 in 4; each officer has its own share of them) or
  someone never seen (1 in 4).  200 expected.
  An applicant the rules allow (no ceiling or repeat-limit warning) is remembered for a recording.
* **record** (weight 1): ``POST /api/intake/cases`` with an ``Idempotency-Key`` for the last
  applicant whose check allowed the request, or else a new person.  201 expected.

Anything else is a failure.  When Locust quits, this file writes the results (per endpoint:
requests, failures, requests/s, p50/p95/p99/max; failures with their time, status and body;
requests and failures per second) to the plan's ``results`` path, every request's start, time and
outcome beside it (``.requests.json``), and sets the exit code to 1
when any request failed (errors fail the run; speed never does).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

from tests.intake.support import case_body, house_id, national_id

PLAN: dict[str, Any] = json.loads(Path(os.environ["ECASE_LOAD_PLAN"]).read_text())
DISTRICTS = sorted(PLAN["tokens"])
CHECK = "/api/intake/citizens/[id]/history"
RECORD = "/api/intake/cases"
#: what applicants ask for: (welfare type, amounts, needs a house registration number)
REQUESTS = (
    ("MEDICAL", ("1000.00", "2000.00", "3000.00"), False, 50),
    ("CAREER", ("2000.00", "3000.00", "5000.00"), True, 30),
    ("SCHOLARSHIP", ("2000.00", "3000.00"), False, 20),
)
#: warning codes of the history check that mean recording would be refused (422)
BLOCKING_PREFIXES = ("ceiling_", "repeat_limit", "welfare_type_inactive", "programme_")
_users = itertools.count()
_per_second: dict[int, list[int]] = {}  # second -> [requests, failures]
_failures: list[dict[str, Any]] = []
_requests: list[tuple[float, float, int]] = []  # (started, ms, failed) of every request


class Officer(FastHttpUser):
    """The officer of one district office, checking applicants and recording cases."""

    wait_time = between(*PLAN["wait_seconds"])

    def on_start(self) -> None:
        number = next(_users)
        self.district = DISTRICTS[number % len(DISTRICTS)]
        self.auth = {"Authorization": f"Bearer {PLAN['tokens'][self.district]}"}
        self.rng = random.Random(PLAN["seed"] * 100_003 + number)
        # Returning applicants come back to one office: each officer has its own share of them,
        # so two officers never record the same person at once (the rules would rightly refuse
        # the second recording).
        self.returning = PLAN["returning"][number % PLAN["users"] :: PLAN["users"]]
        self.allowed: list[dict[str, Any]] = []  # applicants whose check allowed the request

    def applicant_request(self, nid: str) -> dict[str, Any]:
        code, amounts, family, _ = self.rng.choices(REQUESTS, [r[3] for r in REQUESTS])[0]
        amount = self.rng.choice(amounts)
        out: dict[str, Any] = {"national_id": nid, "welfare_type_code": code, "amount": amount}
        if family:
            out["house_id"] = house_id(self.rng)
        return out

    @task(PLAN["checks_per_record"])
    def check(self) -> None:
        returning = self.returning and self.rng.random() < 0.75
        nid = self.rng.choice(self.returning) if returning else national_id(self.rng)
        wanted = self.applicant_request(nid)
        params = {k: v for k, v in wanted.items() if k != "national_id"}
        with self.client.get(
            f"/api/intake/citizens/{nid}/history",
            params=params,
            headers=self.auth,
            name=CHECK,
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
                return
            body = r.json()
            if body.get("national_id") == nid or "cases" not in body:
                r.failure("history answer without cases, or with the national ID unmasked")
                return
            codes = [w["code"] for w in body.get("warnings", [])]
            others = [a for a in self.allowed if a["national_id"] != nid]  # only the latest check counts
            allowed = not any(c.startswith(BLOCKING_PREFIXES) for c in codes)
            self.allowed = [*others[-4:], wanted] if allowed else others

    @task(1)
    def record(self) -> None:
        wanted = self.allowed.pop() if self.allowed else self.applicant_request(national_id(self.rng))
        self.allowed = [a for a in self.allowed if a["national_id"] != wanted["national_id"]]
        body = case_body(**wanted)
        headers = {**self.auth, "Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(RECORD, json=body, headers=headers, name=RECORD, catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"status {r.status_code}")
            elif r.json().get("district_code") != self.district:
                r.failure("case recorded for another district")


@events.test_start.add_listener
def _started(environment: Environment, **_: Any) -> None:
    """Tell the runner when the load starts (it times --terminate-pg-at from here)."""
    Path(PLAN["results"]).with_suffix(".started").write_text(str(time.time()))


@events.request.add_listener
def _count(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    exception: Any = None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    started = start_time if start_time is not None else time.time() - response_time / 1000
    bucket = _per_second.setdefault(int(started), [0, 0])
    bucket[0] += 1
    _requests.append((round(started, 3), round(response_time, 1), int(exception is not None)))
    if exception is not None:
        bucket[1] += 1
        status = getattr(response, "status_code", None)
        text = getattr(response, "text", None) or ""
        _failures.append(
            {
                "at": round(started, 3),
                "ended": round(started + response_time / 1000, 3),
                "endpoint": f"{request_type} {name}",
                "status": status,
                "error": str(exception)[:200],
                "body": text[:400],
            }
        )


def _percentile(entry: Any, p: float) -> float | None:
    return entry.get_response_time_percentile(p) if entry.num_requests else None


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    stats = environment.stats
    endpoints = {}
    for entry in [*stats.entries.values(), stats.total]:
        label = "total" if entry is stats.total else f"{entry.method} {entry.name}"
        endpoints[label] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "requests_per_s": round(entry.total_rps, 2),
            "p50_ms": _percentile(entry, 0.50),
            "p95_ms": _percentile(entry, 0.95),
            "p99_ms": _percentile(entry, 0.99),
            "max_ms": round(entry.max_response_time or 0, 1),
            "mean_ms": round(entry.avg_response_time, 1),
        }
    results = {
        "started": dt.datetime.fromtimestamp(stats.total.start_time, dt.UTC).isoformat(timespec="seconds"),
        "endpoints": endpoints,
        "failures": _failures[:500],
        "failure_count": len(_failures),
        "per_second": {str(k): v for k, v in sorted(_per_second.items())},
    }
    Path(PLAN["results"]).write_text(json.dumps(results, ensure_ascii=False))
    Path(PLAN["results"]).with_suffix(".requests.json").write_text(json.dumps(_requests))
    environment.process_exit_code = 1 if stats.total.num_failures else 0
