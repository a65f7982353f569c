"""The whole embedded system as `make run` starts it, and the gateway in front of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import requests

from services.gateway.demo import load_demo_users
from shared.outbox import Relay, RelayAlreadyRunning
from shared.testing.system import ROOT, System, wait_for

pytestmark = [pytest.mark.e2e]
PASSWORD = "ecase-demo-2566"


def login(system: System, username: str) -> str:
    r = requests.post(
        system.url("gateway", "/api/auth/token"),
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def seed(system: System) -> None:
    with system.sessions("gateway", write=True).begin() as s:
        load_demo_users(s)
    with system.environment():
        from services.intake.reference import load_reference_data

        with system.sessions("intake", write=True).begin() as s:
            load_reference_data(s)


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_gateway_forwards_to_services_and_follows_jobs(
    backend: str, make_system: Callable[..., System]
) -> None:
    system = make_system(backend)
    system.migrate()
    seed(system)
    system.start("gateway", "intake", "approval", "approval-worker", "intake-relay")
    for svc in ("gateway", "intake", "approval"):
        system.wait_healthy(svc)
    officer = login(system, "officer.1008")
    r = requests.get(
        system.url("gateway", "/api/intake/districts"),
        headers={"Authorization": f"Bearer {officer}"},
        timeout=10,
    )
    assert r.status_code == 200
    districts = r.json()
    assert len(districts) == 50
    assert {"code": "1008", "name_th": "ป้อมปราบศัตรูพ่าย"} in districts
    # No token: the service itself refuses, through the gateway.
    assert requests.get(system.url("gateway", "/api/intake/districts"), timeout=10).status_code == 401
    # An operator sends a probe through intake's outbox to approval's worker, via the gateway.
    operator = login(system, "operator")
    headers = {"Authorization": f"Bearer {operator}"}
    r = requests.post(
        system.url("gateway", "/api/intake/ops/probe"),
        json={"key": "via-gateway", "queue": "approval"},
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 202
    wait_for(
        lambda: (
            requests.get(
                system.url("gateway", "/api/approval/ops/probes/via-gateway"), headers=headers, timeout=10
            ).status_code
            == 200
        ),
        timeout=30,
        what="probe through the gateway",
    )
    queues = requests.get(system.url("gateway", "/api/ops/queues"), headers=headers, timeout=10).json()
    approval = next(s for s in queues["services"] if s.get("service") == "approval")
    assert approval["workers"]
    assert approval["workers"][0]["alive"]
    # Jobs are followed at /api/jobs/{id}; an unknown one is a JSON 404, another district's too.
    r = requests.get(system.url("gateway", "/api/jobs/approval-doesnotexist"), headers=headers, timeout=10)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    health = requests.get(system.url("gateway", "/api/health"), timeout=10)
    assert health.json()["services"]["intake"]["status"] == "ok"


def test_dead_letter_is_replayed_after_the_cause_is_fixed(make_system: Callable[..., System]) -> None:
    system = make_system("embedded", extra_env={"ECASE_RETRY_BACKOFF_MAX": "1"})
    system.migrate()
    seed(system)
    system.start("gateway", "intake", "approval", "approval-worker", "intake-relay", "approval-relay")
    for svc in ("gateway", "intake", "approval"):
        system.wait_healthy(svc)
    headers = {"Authorization": f"Bearer {login(system, 'operator')}"}
    r = requests.post(
        system.url("gateway", "/api/intake/ops/probe"),
        json={"key": "bug", "queue": "approval", "fault": "raise"},
        headers=headers,
        timeout=10,
    )
    assert r.status_code == 202

    def parked() -> list[dict[str, object]]:
        items = requests.get(
            system.url("gateway", "/api/ops/dead-letters"), headers=headers, timeout=10
        ).json()["items"]
        return [i for i in items if i["status"] == "parked"]

    letters = wait_for(parked, timeout=60, what="the failing probe in dead letters")
    assert letters[0]["attempts"] == 3
    assert letters[0]["id"].startswith("approval-")
    # The "fix" is deployed: the worker restarts without the fault switch, then the operator replays.
    system.stop("approval-worker")
    system.env["ECASE_ALLOW_FAULTS"] = "0"
    system.start("approval-worker")
    r = requests.post(
        system.url("gateway", f"/api/ops/dead-letters/{letters[0]['id']}/replay"), headers=headers, timeout=10
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "replayed"
    wait_for(
        lambda: (
            requests.get(
                system.url("gateway", "/api/approval/ops/probes/bug"), headers=headers, timeout=10
            ).status_code
            == 200
        ),
        timeout=60,
        what="the replayed probe",
    )
    again = requests.post(
        system.url("gateway", f"/api/ops/dead-letters/{letters[0]['id']}/replay"), headers=headers, timeout=10
    )
    assert again.status_code == 409


def test_second_relay_on_sqlite_refuses_to_start(make_system: Callable[..., System]) -> None:
    system = make_system("embedded")
    system.migrate(("intake",))
    system.start("intake-relay")
    wait_for(lambda: "relay for intake started" in system.log("intake-relay"), timeout=30, what="first relay")
    second = subprocess.run(
        [sys.executable, "-m", "shared.relay", "intake"],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, **system.env},
        timeout=60,
        check=False,
    )
    assert second.returncode == 3
    assert "exactly one" in second.stderr.decode()
    # In process too: the lock is held by the running relay.
    with system.environment():
        relay = Relay("intake", system.sessions("intake", write=True), system.celery())
        with pytest.raises(RelayAlreadyRunning):
            relay.acquire()


def test_make_run_processes_stop_within_ten_seconds(make_system: Callable[..., System]) -> None:
    """What `make run` starts (honcho with deploy/Procfile) stops within 10 s of SIGTERM."""
    system = make_system("embedded")
    system.migrate()
    seed(system)
    env = {**os.environ, **system.env, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    log = open(system.logdir / "honcho.log", "wb")  # noqa: SIM115 - closed in finally
    honcho = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "honcho"),
            "--no-colour",
            "-f",
            "deploy/Procfile",
            "-d",
            ".",
            "start",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        system.wait_healthy("gateway")
        for svc in ("intake", "approval", "payment", "reporting"):
            wait_for(
                lambda svc=svc: (
                    requests.get(system.url("gateway", "/api/health"), timeout=5).json()["services"][svc][
                        "status"
                    ]
                    == "ok"
                ),
                timeout=60,
                what=f"{svc} healthy",
            )
        for svc in ("intake", "approval", "payment", "reporting"):
            system.wait_worker(svc)
        descendants = psutil.Process(honcho.pid).children(recursive=True)
        assert len(descendants) >= 13
        started = time.monotonic()
        os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(timeout=15)
        _gone, alive = psutil.wait_procs(descendants, timeout=max(0.1, 10 - (time.monotonic() - started)))
        elapsed = time.monotonic() - started
        assert not alive, f"still running after {elapsed:.1f}s: {[p.pid for p in alive]}"
        assert elapsed <= 10
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
        log.close()
