"""The live gateway refuses a disabled user's bearer token within ``ECASE_TOKEN_CHECK_SECONDS``.

A module of its own: the in-process gateway fixtures of ``test_token_revocation.py`` keep their
system's environment (database URLs) while their module runs, and processes started here would
inherit it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from services.gateway.demo import load_demo_users
from shared.testing.system import System, wait_for

PASSWORD = "ecase-demo-2566"
REVOKED = {"error": {"code": "revoked_token", "message": "สิทธิ์การเข้าใช้งานถูกยกเลิก กรุณาเข้าสู่ระบบใหม่"}}


@pytest.mark.e2e
def test_live_gateway_refuses_a_disabled_users_token_within_the_bound(
    make_system: Callable[..., System],
) -> None:
    bound = 2.0
    system = make_system("embedded", extra_env={"ECASE_TOKEN_CHECK_SECONDS": str(bound)})
    system.migrate(("gateway", "intake"))
    with system.sessions("gateway", write=True).begin() as s:
        load_demo_users(s)
    system.start("gateway", "intake")
    for svc in ("gateway", "intake"):
        system.wait_healthy(svc)

    def login(username: str, password: str = PASSWORD) -> dict[str, str]:
        r = requests.post(
            system.url("gateway", "/api/auth/token"),
            json={"username": username, "password": password},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def get(headers: dict[str, str]) -> requests.Response:
        return requests.get(system.url("gateway", "/api/intake/districts"), headers=headers, timeout=10)

    admin, officer, head = login("central.admin"), login("officer.1008"), login("head.1008")
    assert get(officer).status_code == 200  # the verdict is now cached in the process that answered
    r = requests.patch(
        system.url("gateway", "/api/admin/users/officer.1008"),
        json={"active": False},
        headers=admin,
        timeout=10,
    )
    assert r.status_code == 200

    def refusal() -> Any:
        answer = get(officer)  # a Response is falsy when it is an error: return its body
        return answer.json() if answer.status_code == 401 else None

    # The bound, plus room for a loaded machine.
    body = wait_for(refusal, timeout=bound + 10, what="the disabled officer's token to be refused")
    assert body == REVOKED
    assert get(head).status_code == 200  # other users are not affected
    # Enabling again does not bring the old token back; a new login does.
    requests.patch(
        system.url("gateway", "/api/admin/users/officer.1008"),
        json={"active": True},
        headers=admin,
        timeout=10,
    ).raise_for_status()
    assert get(officer).status_code == 401
    assert get(login("officer.1008")).status_code == 200
