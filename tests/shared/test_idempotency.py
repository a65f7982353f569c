"""Idempotency-Key (reliability.md P2): replay, 422 on another body, 409 while running, expiry, 400.

A small endpoint whose effect is one ``jobs`` row is mounted on a service app (payment's
database, which has ``idempotency_keys`` since its migration 0003), on SQLite and PostgreSQL.
The real endpoints are tested in tests/payment/integration/test_idempotency_api.py (payment)
and at the end of this module (intake's "record a case", approval's "close the agenda").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields
from sqlalchemy import func, select

from shared import auth, idempotency
from shared.idempotency import HEADER, IdempotencyKey, idempotent, parse_key
from shared.models import Job
from shared.testing.system import System
from shared.web import ApiError, Blueprint, create_service_app, current_principal, get_session, new_job

pytestmark = [pytest.mark.integration]

# --- a test endpoint with a countable effect ---------------------------------------------------------
test_bp = Blueprint("idem_test", __name__, url_prefix="/api/payment/idem-test")


class EffectArgs(Schema):
    value = fields.String(required=True)
    sleep_ms = fields.Integer(load_default=0)
    fail = fields.String(load_default=None)


@test_bp.route("/effects", methods=["POST"])
@idempotent()
@test_bp.arguments(EffectArgs)
@test_bp.response(201)
def make_effect(args: dict[str, Any]) -> Any:
    """One jobs row per executed request (the effect we count)."""
    if args["fail"] == "conflict":
        raise ApiError(409, "ยังทำไม่ได้", code="test_conflict")
    session = get_session()
    with session.begin():
        job = new_job(session, kind="idem.test", district_code=None, created_by=current_principal().username)
        job.progress = {"value": args["value"]}
        time.sleep(args["sleep_ms"] / 1000)
    if args["fail"] == "after_commit":
        raise RuntimeError("the answer is lost after the commit")
    return {"job_id": job.id, "value": args["value"]}


@test_bp.route("/required", methods=["POST"])
@idempotent(required=True)
def required_key() -> Any:
    """An endpoint that insists on a key."""
    session = get_session()
    with session.begin():
        new_job(session, kind="idem.required", district_code=None, created_by=current_principal().username)
    return {"ok": True}, 201


@test_bp.route("/upload", methods=["POST"])
@idempotent()
def upload() -> Any:
    """A multipart upload whose effect records the file's checksum."""
    data = request.files["file"].stream.read()
    session = get_session()
    with session.begin():
        job = new_job(
            session, kind="idem.upload", district_code=None, created_by=current_principal().username
        )
        job.progress = {"sha256": hashlib.sha256(data).hexdigest()}
    return {"job_id": job.id, "size": len(data)}, 202


@dataclass
class Env:
    """The test app on one backend."""

    app: Flask
    secret: str
    backend: str

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, key: str | None = None, user: str = "finance.1008") -> dict[str, str]:
        role, _, district = user.partition(".")
        token = auth.issue_token(
            username=user, role=role, district_code=district or None, secret=self.secret
        )[0]
        out = {"Authorization": f"Bearer {token}"}
        if key is not None:
            out[HEADER] = key
        return out

    def post(self, body: dict[str, Any], key: str | None = None, user: str = "finance.1008") -> Any:
        return self.client().post(
            "/api/payment/idem-test/effects", json=body, headers=self.headers(key, user)
        )

    def effects(self, value: str, kind: str = "idem.test") -> int:
        with self.app.extensions["ecase"].sessions() as s:
            jobs = s.scalars(select(Job).where(Job.kind == kind)).all()
            return sum(1 for j in jobs if (j.progress or {}).get("value") == value)


@pytest.fixture(scope="module", params=["embedded", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The test endpoint on payment's migrated database (SQLite or PostgreSQL)."""
    system = System(tmp_path_factory.mktemp(f"idem-{request.param}"), backend=request.param)
    system.migrate(("payment",))
    with system.environment():
        app = create_service_app(
            "payment",
            {"DATABASE_URL": system.database_url("payment"), "TESTING": True},
            title="idempotency test",
            blueprints=[test_bp],
        )
        yield Env(app, system.env["ECASE_SECRET_KEY"], request.param)
        app.extensions["ecase"].engine.dispose()
    system.close()


def new_key() -> str:
    return str(uuid.uuid4())


def replayed(response: Any) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


# --- the key's format (no database) ------------------------------------------------------------------
class TestKeyFormat:
    def test_a_uuid_is_accepted_and_made_canonical(self) -> None:
        key = str(uuid.uuid4())
        assert parse_key(key) == key
        assert parse_key(key.upper()) == key
        assert parse_key(None) is None
        assert parse_key("") is None

    @pytest.mark.parametrize(
        "raw",
        [
            "a" * 256,
            str(uuid.uuid4()) + "x" * 220,  # 256 characters that start with a valid UUID
            "not-a-uuid",
            "{" + str(uuid.uuid4()) + "}",
            str(uuid.uuid4()).replace("-", ""),
            "๑" * 8 + "-1234-1234-1234-123456789012",  # Thai digits are not hex digits
            " " + str(uuid.uuid4()),
        ],
    )
    def test_a_malformed_key_is_400(self, raw: str) -> None:
        with pytest.raises(ApiError) as caught:
            parse_key(raw)
        assert caught.value.code == 400
        assert caught.value.body["error"]["code"] == "invalid_idempotency_key"
        assert HEADER in caught.value.body["error"]["fields"]

    def test_a_missing_key_is_400_only_where_required(self) -> None:
        with pytest.raises(ApiError) as caught:
            parse_key(None, required=True)
        assert caught.value.code == 400

    @settings(max_examples=300)
    @given(st.text(max_size=300))
    def test_any_text_is_a_canonical_uuid_or_a_400(self, raw: str) -> None:
        outcome: object
        try:
            outcome = parse_key(raw)
        except ApiError as exc:
            outcome = exc
        if isinstance(outcome, ApiError):
            assert outcome.code == 400
        else:
            assert outcome is None or (len(outcome) == 36 and str(uuid.UUID(outcome)) == outcome)


# --- the mechanism, on both backends ---------------------------------------------------------------
class TestReplay:
    def test_without_a_key_every_request_runs(self, env: Env) -> None:
        value = new_key()
        assert env.post({"value": value}).status_code == 201
        assert env.post({"value": value}).status_code == 201
        assert env.effects(value) == 2

    def test_the_same_request_again_replays_the_first_answer(self, env: Env) -> None:
        key, value = new_key(), new_key()
        first = env.post({"value": value}, key)
        second = env.post({"value": value}, key)
        assert first.status_code == second.status_code == 201
        assert not replayed(first)
        assert replayed(second)
        assert second.get_data() == first.get_data()
        assert second.headers["Content-Type"] == first.headers["Content-Type"]
        assert env.effects(value) == 1

    def test_one_changed_byte_is_422_and_changes_nothing(self, env: Env) -> None:
        key, value = new_key(), new_key()
        client = env.client()
        body = (f'{{"value": "{value}"}}').encode()
        first = client.post(
            "/api/payment/idem-test/effects",
            data=body,
            content_type="application/json",
            headers=env.headers(key),
        )
        assert first.status_code == 201
        changed = body.replace(b'"}', b' "}')  # one byte more inside the value
        again = client.post(
            "/api/payment/idem-test/effects",
            data=changed,
            content_type="application/json",
            headers=env.headers(key),
        )
        assert again.status_code == 422
        assert again.json["error"]["code"] == "idempotency_key_reused"
        assert env.effects(value) == 1
        assert env.effects(value + " ") == 0
        # the same key on another endpoint is another request too
        other = client.post("/api/payment/idem-test/required", headers=env.headers(key))
        assert other.status_code == 422

    def test_keys_are_scoped_to_the_user(self, env: Env) -> None:
        key, value = new_key(), new_key()
        mine = env.post({"value": value}, key, user="finance.1008")
        theirs = env.post({"value": value}, key, user="finance.1001")
        assert mine.status_code == theirs.status_code == 201
        assert not replayed(theirs)
        assert mine.json["job_id"] != theirs.json["job_id"]
        assert env.effects(value) == 2

    def test_a_bad_key_is_400_and_runs_nothing(self, env: Env) -> None:
        value = new_key()
        for bad in ("x" * 256, "1234", new_key() + "0"):
            r = env.post({"value": value}, bad)
            assert r.status_code == 400
            assert r.json["error"]["code"] == "invalid_idempotency_key"
            assert HEADER in r.json["error"]["fields"]
        assert env.effects(value) == 0

    def test_a_required_key_must_be_sent(self, env: Env) -> None:
        client = env.client()
        missing = client.post("/api/payment/idem-test/required", headers=env.headers())
        assert missing.status_code == 400
        assert missing.json["error"]["code"] == "invalid_idempotency_key"
        assert (
            client.post("/api/payment/idem-test/required", headers=env.headers(new_key())).status_code == 201
        )

    def test_a_request_that_committed_nothing_leaves_the_key_free(self, env: Env) -> None:
        key, value = new_key(), new_key()
        refused = env.post({"value": value, "fail": "conflict"}, key)
        assert refused.status_code == 409
        assert refused.json["error"]["code"] == "test_conflict"
        invalid = env.post({"value": 5}, key)  # 400 from the schema: nothing ran
        assert invalid.status_code == 400
        assert env.post({"value": value}, key).status_code == 201
        assert env.effects(value) == 1

    def test_an_answer_lost_after_the_commit_never_runs_the_request_twice(self, env: Env) -> None:
        key, value = new_key(), new_key()
        lost = env.post({"value": value, "fail": "after_commit"}, key)
        assert lost.status_code == 500
        again = env.post({"value": value, "fail": "after_commit"}, key)
        assert again.status_code == 409
        assert again.json["error"]["code"] == "idempotency_in_progress"
        assert env.effects(value) == 1

    def test_multipart_uploads_are_compared_by_their_parts(self, env: Env) -> None:
        key = new_key()
        data = b"ref2,amount,status\nWF000001-000001,600.00,SUCCESS\n"

        def send(content: bytes) -> Any:  # the client picks a new random boundary every time
            return env.client().post(
                "/api/payment/idem-test/upload",
                data={"file": (io.BytesIO(content), "result.csv")},
                headers=env.headers(key),
            )

        first, second = send(data), send(data)
        assert first.status_code == second.status_code == 202
        assert replayed(second)
        assert second.json == first.json
        changed = send(data.replace(b"600.00", b"600.01"))
        assert changed.status_code == 422
        with env.app.extensions["ecase"].sessions() as s:
            uploads = s.scalars(
                select(Job).where(Job.kind == "idem.upload", Job.id == first.json["job_id"])
            ).all()
        assert len(uploads) == 1

    def test_the_header_is_documented_in_openapi(self, env: Env) -> None:
        spec = env.app.extensions["ecase_api"].spec.to_dict()
        params = spec["paths"]["/api/payment/idem-test/effects"]["post"]["parameters"]
        assert any(p["name"] == HEADER and p["in"] == "header" for p in params)


class TestExpiry:
    def test_a_key_expires_after_its_time_to_live(self, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
        start = dt.datetime(2026, 1, 15, 3, 0, tzinfo=dt.UTC)
        clock = {"now": start}
        monkeypatch.setattr(idempotency, "now", lambda: clock["now"])
        key, value = new_key(), new_key()
        first = env.post({"value": value}, key)
        assert first.status_code == 201
        clock["now"] = start + dt.timedelta(hours=23, minutes=59)
        kept = env.post({"value": value}, key)
        assert replayed(kept)
        assert kept.json == first.json
        with env.app.extensions["ecase"].sessions() as s:
            row = s.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).one()
            assert row.expires_at - row.created_at >= dt.timedelta(hours=24)
        clock["now"] = start + dt.timedelta(hours=25)
        fresh = env.post({"value": value}, key)
        assert fresh.status_code == 201
        assert not replayed(fresh)
        assert fresh.json["job_id"] != first.json["job_id"]
        assert env.effects(value) == 2
        # expired keys of other requests are purged by later claims
        clock["now"] = start + dt.timedelta(hours=60)
        env.post({"value": new_key()}, new_key())
        with env.app.extensions["ecase"].sessions() as s:
            assert s.scalar(select(func.count()).where(IdempotencyKey.key == key)) == 0

    @pytest.mark.parametrize(("setting", "kept_hours"), [(48, 48), (1, 24)])
    def test_the_time_to_live_is_configurable_but_never_under_24_hours(
        self, env: Env, setting: int, kept_hours: int
    ) -> None:
        env.app.config["IDEMPOTENCY_TTL_HOURS"] = setting
        key = new_key()
        try:
            assert env.post({"value": new_key()}, key).status_code == 201
        finally:
            env.app.config.pop("IDEMPOTENCY_TTL_HOURS")
        with env.app.extensions["ecase"].sessions() as s:
            row = s.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).one()
        assert row.expires_at - row.created_at == dt.timedelta(hours=kept_hours)


# --- concurrency ----------------------------------------------------------------------------------
def in_parallel(n: int, call: Callable[[int], Any]) -> list[Any]:
    """Run ``call(i)`` in n threads released at the same moment; the answers in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = call(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


class TestConcurrency:
    def test_ten_identical_requests_in_parallel_have_exactly_one_effect(self, env: Env) -> None:
        key, value = new_key(), new_key()
        answers = in_parallel(10, lambda _i: env.post({"value": value, "sleep_ms": 300}, key))
        statuses = sorted(r.status_code for r in answers)
        originals = [r for r in answers if r.status_code == 201 and not replayed(r)]
        assert len(originals) == 1, statuses
        for r in answers:
            assert r.status_code == 409 or (r.status_code == 201 and r.json == originals[0].json), statuses
            if r.status_code == 409:
                assert r.json["error"]["code"] == "idempotency_in_progress"
        assert env.effects(value) == 1
        after = env.post({"value": value, "sleep_ms": 300}, key)
        assert replayed(after)
        assert after.json == originals[0].json
        assert env.effects(value) == 1

    def test_a_claim_taken_over_after_the_lock_timeout_cannot_commit_a_second_effect(self, env: Env) -> None:
        env.app.config["IDEMPOTENCY_LOCK_TIMEOUT_SECONDS"] = 0.2
        try:
            key, value = new_key(), new_key()
            body = {"value": value, "sleep_ms": 900}
            slow: dict[str, Any] = {}
            first = threading.Thread(target=lambda: slow.update(r=env.post(body, key)))
            first.start()
            time.sleep(0.5)  # the first claim is now older than the lock timeout
            second = env.post(body, key)  # same request: takes the stale claim over and runs
            first.join(timeout=60)
        finally:
            env.app.config.pop("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS")
        assert second.status_code == 201
        assert not replayed(second)
        assert slow["r"].status_code == 409  # its commit was refused and rolled back
        assert env.effects(value) == 1
        third = env.post(body, key)
        assert replayed(third)
        assert third.json == second.json


# --- the real endpoints of intake and approval -----------------------------------------------------
@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """intake on PostgreSQL with its reference data."""
    from tests.intake.support import intake_env

    with intake_env(tmp_path_factory.mktemp("idem-intake"), "postgres") as built:
        yield built


class TestIntakeRecordCase:
    def test_a_retried_case_is_recorded_once(self, intake: Any) -> None:
        from services.intake.models import Case
        from tests.intake.support import case_body

        body = case_body()
        key = new_key()
        answers = in_parallel(
            10,
            lambda _i: intake.app.test_client().post(
                "/api/intake/cases", json=body, headers={**intake.headers(), HEADER: key}
            ),
        )
        created = [r for r in answers if r.status_code == 201 and not replayed(r)]
        assert len(created) == 1, [r.status_code for r in answers]
        assert all(r.status_code in (201, 409) for r in answers)
        again = intake.app.test_client().post(
            "/api/intake/cases", json=body, headers={**intake.headers(), HEADER: key}
        )
        assert replayed(again)
        assert again.json["id"] == created[0].json["id"]
        changed = intake.app.test_client().post(
            "/api/intake/cases", json={**body, "amount": "3000.01"}, headers={**intake.headers(), HEADER: key}
        )
        assert changed.status_code == 422
        with intake.sessions() as s:
            assert (
                s.scalar(
                    select(func.count()).select_from(Case).where(Case.national_id == body["national_id"])
                )
                == 1
            )
        # without a key the endpoint behaves as before (the duplicate rules of intake apply)
        plain = intake.app.test_client().post("/api/intake/cases", json=body, headers=intake.headers())
        assert plain.status_code != 500
        assert not replayed(plain)


@pytest.fixture(scope="module")
def approval(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """approval on SQLite, intake answered by the approval tests' stand-in."""
    from services import approval as approval_service
    from services.approval import intake_client
    from tests.approval.helpers import WSGIAdapter, fake_intake

    system = System(Path(tmp_path_factory.mktemp("idem-approval")), backend="embedded")
    system.migrate(("approval",))
    stand_in = fake_intake()
    with system.environment():
        app = approval_service.create_app({"DATABASE_URL": system.database_url("approval"), "TESTING": True})
        intake_client.HTTP.mount(system.env["ECASE_INTAKE_URL"], WSGIAdapter(stand_in.app))
        try:
            yield app, system.env["ECASE_SECRET_KEY"]
        finally:
            intake_client.HTTP.adapters.pop(system.env["ECASE_INTAKE_URL"], None)
            app.extensions["ecase"].engine.dispose()
    system.close()


class TestApprovalCloseAgenda:
    def test_a_retried_closing_makes_one_batch(self, approval: Any) -> None:
        from services.approval.models import Batch
        from tests.approval.helpers import bearer, register

        app, secret = approval
        sessions = app.extensions["ecase"].sessions
        register(sessions)
        key = new_key()
        headers = {**bearer(secret, "head", "1008"), HEADER: key}
        client = app.test_client()
        first = client.post("/api/approval/batches", json={"meeting_date": "2022-10-06"}, headers=headers)
        assert first.status_code == 202, first.json
        second = client.post("/api/approval/batches", json={"meeting_date": "2022-10-06"}, headers=headers)
        assert second.status_code == 202
        assert replayed(second)
        assert second.json == first.json
        other = client.post("/api/approval/batches", json={"meeting_date": "2022-10-07"}, headers=headers)
        assert other.status_code == 422
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Batch)) == 1
