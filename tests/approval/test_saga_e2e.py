"""The approval saga through real processes: intake and approval web, workers and relays.

Cases are recorded through intake's API, reach approval's agenda by ``case.registered``, the
head closes the agenda over HTTP, intake's real worker locks (or refuses), and approval's
worker approves.  Workers and relays are killed between the saga's steps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from services.approval.models import Batch
from shared.models import OutboxMessage, ProcessedMessage
from shared.testing.system import System, wait_for
from shared.thai import national_id_check_digit
from tests.approval.helpers import bearer

pytestmark = [pytest.mark.e2e]
PROCESSES = ("intake", "intake-worker", "intake-relay", "approval", "approval-worker", "approval-relay")


def national_id() -> str:
    first12 = str(random.randint(1, 8)) + "".join(str(random.randint(0, 9)) for _ in range(11))
    return first12 + str(national_id_check_digit(first12))


def case_body(n: int) -> dict[str, Any]:
    return {
        "national_id": national_id(),
        "title": "นาง",
        "sex": "female",
        "first_name": f"ทดสอบ{n}",
        "last_name": "ใจดี",
        "birth_date": "1970-05-01",
        "disabled": False,
        "welfare_type_code": "MEDICAL",
        "amount": "3000.00",
        "hardship": "ป่วยเรื้อรัง รายได้ไม่พอค่ารักษา",
        "bank": {"bank_code": "006", "account_name": f"ทดสอบ{n} ใจดี", "account_no": f"{1234567000 + n}"},
    }


class Saga:
    """A running system and the calls the saga tests make."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.secret = system.env["ECASE_SECRET_KEY"]

    def call(self, svc: str, method: str, path: str, role: str = "officer", **kw: Any) -> requests.Response:
        return requests.request(
            method, self.system.url(svc, path), headers=bearer(self.secret, role, "1008"), timeout=30, **kw
        )

    def record(self, count: int) -> list[dict[str, Any]]:
        cases = []
        for n in range(count):
            r = self.call("intake", "POST", "/api/intake/cases", json=case_body(n))
            assert r.status_code == 201, r.text
            cases.append(r.json())
        wait_for(lambda: self.agenda()["count"] == count, timeout=60, what=f"{count} cases on the agenda")
        return cases

    def agenda(self) -> dict[str, Any]:
        return dict(self.call("approval", "GET", "/api/approval/agenda").json())

    def close(self) -> dict[str, Any]:
        r = self.call(
            "approval", "POST", "/api/approval/batches", role="head", json={"meeting_date": "2022-10-06"}
        )
        assert r.status_code == 202, r.text
        return dict(r.json())

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.call("approval", "GET", f"/api/approval/jobs/{job_id}", role="head").json())

    def finished(self, job_id: str, timeout: float = 90) -> dict[str, Any]:
        return wait_for(
            lambda: (j := self.job(job_id))["status"] in ("done", "failed") and j,
            timeout=timeout,
            interval=0.1,
            what="the close job to finish",
        )

    def approval_outbox(self, event_type: str) -> list[OutboxMessage]:
        with self.system.sessions("approval")() as s:
            return list(s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == event_type)))

    def intake_published(self, event_type: str) -> list[OutboxMessage]:
        with self.system.sessions("intake")() as s:
            return list(
                s.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.event_type == event_type, OutboxMessage.published_at.is_not(None)
                    )
                )
            )


def start(make_system: Callable[..., System], backend: str) -> Saga:
    system = make_system(backend, extra_env={"ECASE_RETRY_BACKOFF_MAX": "1"})
    system.migrate(("intake", "approval"))
    from services.intake.reference import load_reference_data  # tests may use another service's code

    with system.sessions("intake", write=True).begin() as session:
        load_reference_data(session)
    system.start(*PROCESSES)
    for svc in ("intake", "approval"):
        system.wait_healthy(svc)
        system.wait_worker(svc)
    return Saga(system)


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_saga_resumes_after_crashes_between_its_steps(
    backend: str, make_system: Callable[..., System]
) -> None:
    saga = start(make_system, backend)
    cases = saga.record(3)
    # Step 1 → 2: the lock request is committed but its relay is dead; approval's worker too.
    saga.system.kill("approval-relay")
    saga.system.kill("approval-worker")
    closing = saga.close()
    (request,) = saga.approval_outbox("batch.lock_requested")
    assert request.published_at is None
    assert saga.job(closing["job_id"])["status"] == "running"
    # Step 2 → 3: the relay comes back, intake's real worker locks and answers, but nobody in
    # approval consumes the answer yet.
    saga.system.start("approval-relay")
    wait_for(lambda: saga.intake_published("cases.locked"), timeout=60, what="intake to lock the cases")
    with saga.system.sessions("approval")() as s:
        assert s.get(Batch, closing["batch_id"]).status == "locking"
    # Step 3 → 4: approval's worker restarts and finishes the saga exactly once.
    saga.system.start("approval-worker")
    done = saga.finished(closing["job_id"])
    assert done["status"] == "done", done
    assert done["result"]["number"] == 1
    assert done["result"]["title"].endswith("ป้อมปราบศัตรูพ่าย ครั้งที่1-ปีงบประมาณ2566")
    approved = saga.approval_outbox("batch.approved")
    assert len({row.event_id for row in approved}) == 1
    assert [c["case_id"] for c in approved[0].body["payload"]["cases"]] == [c["id"] for c in cases]
    wait_for(
        lambda: all(r.published_at for r in saga.approval_outbox("batch.approved")), timeout=30, what="relay"
    )
    # Intake hears batch.approved: its cases are approved and locked.
    wait_for(
        lambda: all(
            saga.call("intake", "GET", f"/api/intake/cases/{c['id']}").json()["status"] == "approved"
            for c in cases
        ),
        timeout=60,
        what="intake's cases approved",
    )
    # A redelivered answer (the broker handing the message out again) changes nothing.
    (locked,) = saga.intake_published("cases.locked")
    saga.system.celery().send_task(
        "approval.on_cases_locked", kwargs={"event": locked.body}, queue="approval"
    )

    def absorbed() -> bool:
        with saga.system.sessions("approval")() as s:
            row = s.get(ProcessedMessage, (locked.event_id, "approval.on_cases_locked"))
            return row is not None and row.duplicates >= 1

    wait_for(absorbed, timeout=30, what="the duplicate to be absorbed")
    assert len({row.event_id for row in saga.approval_outbox("batch.approved")}) == 1
    with saga.system.sessions("approval")() as s:
        assert s.scalar(select(func.count()).select_from(Batch).where(Batch.status == "approved")) == 1


def test_amendment_checked_by_intake_then_refused_lock_fails_cleanly(
    make_system: Callable[..., System],
) -> None:
    saga = start(make_system, "postgres")
    cases = saga.record(3)
    # The committee's change is checked by intake's own rules (MEDICAL: 5,000 per person per year).
    first = cases[0]
    over = saga.call("approval", "PATCH", f"/api/approval/agenda/{first['id']}", json={"amount": "6000.00"})
    assert over.status_code == 422, over.text
    assert over.json()["error"]["message"]
    ok = saga.call("approval", "PATCH", f"/api/approval/agenda/{first['id']}", json={"amount": "3500.00"})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["amount"], ok.json()["welfare_type_name"]) == (
        "3500.00",
        "ค่าใช้จ่ายที่เกี่ยวเนื่องในการรักษาพยาบาล",
    )
    wait_for(
        lambda: saga.call("intake", "GET", f"/api/intake/cases/{first['id']}").json()["amount"] == "3500.00",
        timeout=60,
        what="intake to take the committee's amount (case.amended)",
    )
    saga.system.kill("intake-worker")
    closing = saga.close()
    # The officer changes a case in intake before intake has locked it.
    changed = cases[1]
    r = saga.call("intake", "PATCH", f"/api/intake/cases/{changed['id']}", json={"amount": "2500.00"})
    assert r.status_code == 200, r.text
    saga.system.start("intake-worker")
    failed = saga.finished(closing["job_id"])
    assert failed["status"] == "failed", failed
    assert [x["case_id"] for x in failed["error"]["refusals"]] == [changed["id"]]
    assert changed["case_no"] in failed["error"]["message"]
    # Nothing stays locked: the agenda is as before (with intake's edit), and intake can lock it next time.
    agenda = wait_for(
        lambda: (a := saga.agenda())["count"] == 3 and a["total_amount"] == "9000.00" and a,
        timeout=60,
        what="the agenda back with the edited amount",
    )
    assert agenda["closing"] is None
    batch = saga.call("approval", "GET", f"/api/approval/batches/{closing['batch_id']}").json()
    assert (batch["status"], batch["items"]) == ("failed", [])
    again = saga.close()
    done = saga.finished(again["job_id"])
    assert done["status"] == "done", done
    assert done["result"]["number"] == 1
    approved = saga.approval_outbox("batch.approved")[0]
    amounts = {c["case_id"]: c["amount"] for c in approved.body["payload"]["cases"]}
    assert amounts == {cases[0]["id"]: "3500.00", changed["id"]: "2500.00", cases[2]["id"]: "3000.00"}
    assert approved.body["payload"]["total_amount"] == "9000.00"
