"""Short versions of the load test (issue 8 "Load"; the full 10 minutes is ``make load``).

Each runs tests/load/run.py as the make target does (a real E-Case of every Procfile process on
PostgreSQL + Redis, 5,000 preloaded cases, Locust with 50 district officers) for a few seconds.
They assert what must hold at any speed: no failed request, every recorded case in the database
and every ``case.registered`` delivered, and — with the PostgreSQL connections terminated
mid-run (R11) — only generic 503s, no stack trace and recovery within 30 s.  Never speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "load" / "run.py"
ARTIFACTS = ROOT / "test-artifacts" / "load"

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def run_load(name: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run the load runner; return its exit code and the JSON it printed."""
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--cases", "5000", "--artifacts", str(ARTIFACTS / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=540,
    )
    sys.stderr.write(done.stderr[-4000:])
    assert done.stdout.strip(), f"the runner printed no figures (exit {done.returncode})"
    return done.returncode, json.loads(done.stdout)


def endpoint_requests(figures: dict[str, Any]) -> dict[str, int]:
    return {name: e["requests"] for name, e in figures["endpoints"].items()}


@pytest.mark.timeout(600)
def test_fifty_officers_for_twenty_seconds_without_an_error() -> None:
    code, figures = run_load("smoke", "--seconds", "20")
    print(json.dumps(figures["endpoints"], indent=1))
    # 503s while a shared PostgreSQL server had no connection slot left show in figures["postgres"]
    assert figures["errors"] == 0, (figures["error_samples"], figures["postgres"])
    assert code == 0, figures
    requests = endpoint_requests(figures)
    # both kinds of request were made, roughly three checks per recording
    assert requests["GET /api/intake/citizens/[id]/history"] > requests["POST /api/intake/cases"] > 0
    recorded = figures["recorded"]
    assert recorded["in_database"] == recorded["answered_201"] == requests["POST /api/intake/cases"]
    assert recorded["events"] == {"approval": recorded["in_database"], "reporting": recorded["in_database"]}
    assert recorded["undelivered"] == {"approval": 0, "reporting": 0}


@pytest.mark.timeout(600)
def test_terminated_postgresql_connections_give_generic_503s_and_recover() -> None:
    code, figures = run_load("pg-terminate", "--seconds", "30", "--terminate-pg-at", "12")
    r11 = figures["pg_terminate"]
    print(json.dumps(r11, indent=1))
    assert r11["connections_terminated"] > 0
    assert r11["failures_before"] == 0
    assert set(r11["failure_statuses"]) <= {"503"}, figures["error_samples"]
    assert r11["stack_traces"] == 0
    assert r11["recovery_s"] <= 30
    assert r11["first_success_after_s"] is not None  # new requests succeed again
    recorded = figures["recorded"]
    assert recorded["in_database"] >= recorded["answered_201"] > 0
    assert recorded["undelivered"] == {"approval": 0, "reporting": 0}
    assert code == 0, figures
