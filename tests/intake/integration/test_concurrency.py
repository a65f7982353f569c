"""Officers recording at the same moment: case numbers without gaps or duplicates; ceilings hold.

Threads record through the real views (Flask test clients on one app), on PostgreSQL and on
SQLite, each on a fresh database so the numbers must be exactly 1..N.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from services.intake.models import Case, CaseCounter, CaseEvent
from services.intake.schemas import CaseCreateSchema
from services.intake.services import record_case
from tests.intake.support import OFFICER, IntakeEnv, case_body, house_id, intake_env, national_id, utc

pytestmark = [pytest.mark.integration]
THREADS = 8
PER_THREAD = 25


@pytest.fixture(params=["postgres", "embedded"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IntakeEnv]:
    """A fresh intake database per test."""
    with intake_env(tmp_path_factory.mktemp(f"numbers-{request.param}"), request.param) as built:
        yield built


def post_many(env: IntakeEnv, bodies: list[list[dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """Each inner list is posted by its own thread (own client), all threads at once."""
    headers = env.headers()

    def run(mine: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
        client = env.app.test_client()
        return [
            (r.status_code, r.json)
            for r in (client.post("/api/intake/cases", json=b, headers=headers) for b in mine)
        ]

    with ThreadPoolExecutor(len(bodies)) as pool:
        return [result for chunk in pool.map(run, bodies) for result in chunk]


def test_concurrent_recordings_get_consecutive_numbers(env: IntakeEnv) -> None:
    bodies = [[case_body(amount="100.00") for _ in range(PER_THREAD)] for _ in range(THREADS)]
    results = post_many(env, bodies)
    assert [status for status, _ in results] == [201] * THREADS * PER_THREAD
    fy = results[0][1]["fiscal_year"]
    numbers = sorted(int(body["case_no"].split("-")[1]) for _, body in results)
    assert numbers == list(range(1, THREADS * PER_THREAD + 1))
    assert {body["case_no"] for _, body in results} == {f"Case{fy}-{n}" for n in numbers}
    with env.sessions() as s:
        assert s.get(CaseCounter, fy).last_no == THREADS * PER_THREAD  # type: ignore[union-attr]


def test_a_rolled_back_recording_gives_its_number_back(env: IntakeEnv) -> None:
    when = utc(2030, 1, 5)

    def data() -> dict[str, Any]:
        return dict(CaseCreateSchema().load(case_body()))

    class Abort(Exception):
        pass

    def record_then_fail() -> None:
        with env.sessions.begin() as s:
            assert record_case(s, data=data(), actor=OFFICER, now=when).case_no == "Case2573-1"
            raise Abort

    with pytest.raises(Abort):
        record_then_fail()
    with env.sessions.begin() as s:
        assert record_case(s, data=data(), actor=OFFICER, now=when).case_no == "Case2573-1"
    with env.sessions.begin() as s:
        assert record_case(s, data=data(), actor=OFFICER, now=when).case_no == "Case2573-2"


def test_a_refused_recording_uses_no_number(env: IntakeEnv) -> None:
    client = env.app.test_client()
    ok = client.post("/api/intake/cases", json=case_body(), headers=env.headers()).json
    refused = client.post("/api/intake/cases", json=case_body(amount="9999.00"), headers=env.headers())
    assert refused.status_code == 422
    after = client.post("/api/intake/cases", json=case_body(), headers=env.headers()).json
    assert int(after["case_no"].split("-")[1]) == int(ok["case_no"].split("-")[1]) + 1


def test_concurrent_requests_of_one_person_cannot_exceed_the_ceiling(env: IntakeEnv) -> None:
    nid = national_id()
    results = post_many(env, [[case_body(national_id=nid, amount="1000.00")] for _ in range(THREADS)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 5 + [422] * (THREADS - 5)  # 5,000 baht per person per fiscal year
    with env.sessions() as s:
        assert len(s.scalars(select(Case).where(Case.national_id == nid)).all()) == 5


def test_concurrent_requests_of_one_family_cannot_exceed_the_ceiling(env: IntakeEnv) -> None:
    house = house_id()
    bodies = [
        [case_body(welfare_type_code="CAREER", house_id=house, amount="1000.00")] for _ in range(THREADS)
    ]
    statuses = sorted(status for status, _ in post_many(env, bodies))
    assert statuses == [201] * 5 + [422] * (THREADS - 5)  # 5,000 baht per family per fiscal year


def test_the_stored_case_is_the_one_answered(env: IntakeEnv) -> None:
    """Every column written by the recording path (one CTE statement on PostgreSQL, three inserts
    on SQLite) reads back as the object the recording answered with, and the first history row
    is there."""
    data = CaseCreateSchema().load(case_body(house_id=house_id(), phone="0812345678", email="a@example.org"))
    with env.sessions.begin() as s:
        answered = record_case(s, data=data, actor=OFFICER, now=utc(2026, 1, 5))
        expected = {c.name: getattr(answered, c.name) for c in Case.__table__.c}
    with env.sessions() as s:
        stored = s.get(Case, answered.id)
        assert stored is not None
        assert {c.name: getattr(stored, c.name) for c in Case.__table__.c} == expected
        history = s.scalars(select(CaseEvent).where(CaseEvent.case_id == answered.id)).all()
    assert [(h.kind, h.status, h.by) for h in history] == [("registered", "registered", OFFICER.username)]
    assert history[0].at == utc(2026, 1, 5)
    assert expected["case_no"] == f"Case{expected['fiscal_year']}-{expected['running_no']}"
