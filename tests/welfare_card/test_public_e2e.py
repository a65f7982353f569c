"""The whole path on real processes (gateway, intake, intake's worker and relay) on PostgreSQL + Redis:
a list uploaded through the gateway is applied by the worker, and the public self-check answers
through the gateway — same shape for unknown and wrong IDs, rate-limited per client."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from services.gateway.demo import load_demo_users
from services.intake.reference import load_reference_data
from shared.testing.system import System, wait_for
from tests.welfare_card.support import csv_bytes, nid, row, wrong_check_digit

pytestmark = [pytest.mark.e2e]
LIMIT = 12
PROCESSES = ("gateway", "intake", "intake-worker", "intake-relay")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    system = System(
        tmp_path_factory.mktemp("wc-live"),
        backend="postgres",
        extra_env={"ECASE_PUBLIC_CHECK_LIMIT": f"{LIMIT} per minute"},
    )
    try:
        system.migrate(("gateway", "intake"))
        with system.environment():
            with system.sessions("intake", write=True).begin() as s:
                load_reference_data(s)
            with system.sessions("gateway", write=True).begin() as s:
                load_demo_users(s)
        system.start(*PROCESSES)
        system.wait_healthy("gateway")
        system.wait_healthy("intake")
        system.wait_worker("intake")
        yield system
    finally:
        system.close()


def token(system: System) -> dict[str, str]:
    r = requests.post(
        system.url("gateway", "/api/auth/token"),
        json={"username": "central.admin", "password": "ecase-demo-2566"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def job_done(system: System, auth: dict[str, str], job_id: str) -> Callable[[], Any]:
    def check() -> Any:
        body = requests.get(system.url("gateway", f"/api/jobs/{job_id}"), headers=auth, timeout=5).json()
        return body if body["status"] in ("done", "failed") else None

    return check


def test_upload_applied_by_the_worker_and_the_public_check(live: System) -> None:
    auth = token(live)
    rng = random.Random(40)
    member, other = nid(rng), nid(rng)
    data = csv_bytes([row(member, area="2401", group="2"), row(other, area="2402")])
    r = requests.post(
        live.url("gateway", "/api/intake/welfare-card/imports"),
        headers=auth,
        data={"province_code": "24", "agency": "cdd"},
        files={"file": ("รายชื่อ.csv", data, "text/csv")},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    job = wait_for(job_done(live, auth, r.json()["job_id"]), timeout=60, what="the import job")
    assert job["status"] == "done", job
    assert (job["result"]["added"], job["result"]["lines"]) == (2, 2)

    place = requests.post(
        live.url("gateway", "/api/intake/welfare-card/registration-places"),
        headers=auth,
        json={"area_code": "2401", "name": "ที่ว่าการอำเภอเมืองฉะเชิงเทรา", "address": "ถนนมรุพงษ์"},
        timeout=10,
    )
    assert place.status_code == 201, place.text

    def check(national_id: str) -> requests.Response:
        return requests.get(live.url("gateway", f"/api/public/welfare-card/{national_id}"), timeout=10)

    found = check(member)
    assert found.status_code == 200, found.text
    assert found.json() == {
        "participant": True,
        "group": "low_income",
        "registration_places": [
            {"name": "ที่ว่าการอำเภอเมืองฉะเชิงเทรา", "address": "ถนนมรุพงษ์", "area_name_th": "อำเภอเมืองฉะเชิงเทรา"}
        ],
    }
    assert check(other).json()["registration_places"] == []  # 2402 has no place yet
    unknown = check(nid(rng))
    wrong = check(wrong_check_digit(member))
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.json() == wrong.json() == {"participant": False, "group": None, "registration_places": []}
    assert set(unknown.headers) >= {"Content-Type"}
    assert unknown.headers.get("Cache-Control") == wrong.headers.get("Cache-Control")
    short = check("123456789012")
    assert short.status_code == 400
    assert short.json()["error"]["fields"]["national_id"]
    # intake's own endpoint is not reachable around the rate limit, with or without a token
    for headers in ({}, auth):
        around = requests.get(
            live.url("gateway", f"/api/intake/welfare-card/public/{member}"), headers=headers, timeout=10
        )
        assert around.status_code == 404


def test_the_public_check_is_rate_limited_per_client(live: System) -> None:
    statuses = []
    for _ in range(LIMIT + 5):
        r = requests.get(live.url("gateway", f"/api/public/welfare-card/{nid()}"), timeout=10)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert r.headers.get("Retry-After")
            assert r.json()["error"]["code"] == "too_many_requests"
            assert "บ่อยเกินไป" in r.json()["error"]["message"]
            break
    assert statuses[-1] == 429
    assert len(statuses) <= LIMIT + 1
    assert set(statuses[:-1]) == {200}
