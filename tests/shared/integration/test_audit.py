"""The hash-chained, append-only audit log (shared.audit), on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import String, delete, event, func, select, text, update
from sqlalchemy.engine import Connection, Engine, RowMapping, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from shared.audit import (
    AUDIT_TABLES,
    GENESIS_HASH,
    PENDING_KEY,
    AuditChainHead,
    AuditEntry,
    ChainReport,
    compute_hash,
    drop_append_only_triggers,
    install_append_only_triggers,
    install_audit_hooks,
    record,
    verify_chain,
)
from shared.db import PlatformBase, drop_database, ensure_database, make_engine, make_sessionmaker

pytestmark = pytest.mark.integration

LOG = AuditEntry.__table__
HEAD = AuditChainHead.__table__
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class _BusinessBase(DeclarativeBase):
    pass


class Widget(_BusinessBase):
    """A stand-in for a service's business table."""

    __tablename__ = "audit_test_widget"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


def _postgres_url() -> str:
    server = make_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER)
    name = f"ecase_test_audit_{secrets.token_hex(6)}"
    return server.set(database=name).render_as_string(hide_password=False)


def _make_engine(kind: str, tmp_path: Any) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'audit.db'}" if kind == "sqlite" else _postgres_url()
    ensure_database(url)  # PostgreSQL must be reachable: these tests are never skipped
    engine = make_engine(url)
    try:
        PlatformBase.metadata.create_all(engine, tables=list(AUDIT_TABLES))
        _BusinessBase.metadata.create_all(engine)
        with engine.begin() as conn:
            install_append_only_triggers(conn)
        yield engine
    finally:
        engine.dispose()
        drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    """A fresh database holding only the audit tables (with triggers) and a business table."""
    yield from _make_engine(request.param, tmp_path)


@pytest.fixture
def pg_engine(tmp_path: Any) -> Iterator[Engine]:
    """The same on PostgreSQL only, for row-lock behaviour SQLite does not have."""
    yield from _make_engine("postgresql", tmp_path)


@pytest.fixture
def pg_factory(pg_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(pg_engine)


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def _record(session: Session, action: str = "case.update", **kwargs: Any) -> None:
    arguments: dict[str, Any] = {
        "object_type": "case",
        "object_id": 42,
        "actor": "somchai",
        "role": "officer",
        "district_code": "1001",
        "ip": "10.0.0.7",
        "request_id": "req-1",
        "fields": ["status"],
        "before": {"status": "draft"},
        "after": {"status": "submitted"},
    }
    arguments.update(kwargs)
    record(session, action=action, **arguments)


def _audit_rows(engine: Engine) -> list[RowMapping]:
    with engine.connect() as conn:
        return list(conn.execute(select(LOG).order_by(LOG.c.seq)).mappings())


def _head(engine: Engine) -> RowMapping | None:
    with engine.connect() as conn:
        return conn.execute(select(HEAD)).mappings().first()


def _verify(factory: sessionmaker[Session]) -> ChainReport:
    with factory() as session:
        return verify_chain(session)


def _seed(factory: sessionmaker[Session], count: int) -> None:
    for n in range(count):
        with factory.begin() as session:
            _record(session, object_id=n)


def _is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def test_entries_are_written_only_at_commit(engine: Engine, factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        session.add(Widget(name="a"))
        _record(session, "case.create")
        session.flush()

        assert len(session.info[PENDING_KEY]) == 1
        assert session.scalar(select(func.count()).select_from(LOG)) == 0

    assert not session.info.get(PENDING_KEY)
    [row] = _audit_rows(engine)
    assert row["seq"] == 1
    assert row["action"] == "case.create"
    assert row["object_id"] == "42"
    assert row["prev_hash"] == GENESIS_HASH
    assert _head(engine)["last_hash"] == row["hash"]  # type: ignore[index]


def test_entry_recorded_before_the_transaction_began(engine: Engine, factory: sessionmaker[Session]) -> None:
    with factory() as session:
        _record(session)
        session.commit()

    assert [row["seq"] for row in _audit_rows(engine)] == [1]


def test_rolled_back_transaction_writes_no_audit_row(engine: Engine, factory: sessionmaker[Session]) -> None:
    def create_then_fail(session: Session) -> None:
        with session.begin():
            session.add(Widget(name="a"))
            _record(session, "case.create")
            session.flush()
            raise RuntimeError("business rule refused the change")

    session = factory()
    with pytest.raises(RuntimeError, match="business rule"):
        create_then_fail(session)

    assert _audit_rows(engine) == []
    assert _head(engine) is None
    with factory() as check:
        assert check.scalar(select(func.count()).select_from(Widget)) == 0

    # The discarded entry must not leak into the session's next transaction.
    with session.begin():
        _record(session, "case.view")
    session.close()
    assert [(r["seq"], r["action"]) for r in _audit_rows(engine)] == [(1, "case.view")]


def test_failed_flush_writes_no_audit_row(engine: Engine, factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        session.add(Widget(name="dup"))

    def create_duplicate(session: Session) -> None:
        with session.begin():
            session.add(Widget(name="dup"))
            _record(session, "case.create")

    session = factory()
    with pytest.raises(DBAPIError):
        create_duplicate(session)

    assert _audit_rows(engine) == []
    session.close()


def test_closing_without_commit_discards_entries(engine: Engine, factory: sessionmaker[Session]) -> None:
    session = factory()
    session.begin()
    _record(session)
    session.close()

    assert not session.info.get(PENDING_KEY)
    assert _audit_rows(engine) == []


def test_savepoint_rollback_discards_only_its_entries(engine: Engine, factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        _record(session, "case.outer")
        savepoint = session.begin_nested()
        _record(session, "case.inner_rolled_back")
        savepoint.rollback()
        with session.begin_nested():
            _record(session, "case.inner_kept")
        _record(session, "case.last")

    assert [r["action"] for r in _audit_rows(engine)] == ["case.outer", "case.inner_kept", "case.last"]
    assert _verify(factory).ok


def test_commit_with_an_open_savepoint_keeps_entries(engine: Engine, factory: sessionmaker[Session]) -> None:
    # Leaving ``with session.begin()`` commits the root while the savepoint is still open.
    with factory.begin() as session:
        _record(session, "case.outer")
        session.begin_nested()
        _record(session, "case.inner")

    assert [r["action"] for r in _audit_rows(engine)] == ["case.outer", "case.inner"]


def test_works_inside_the_test_suite_rollback_recipe(engine: Engine) -> None:
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        with session.begin():
            _record(session)
        assert conn.scalar(select(func.count()).select_from(LOG)) == 1
        session.close()
        outer.rollback()

    assert _audit_rows(engine) == []


def test_commit_without_entries_touches_no_audit_table(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    with factory.begin() as session:
        session.add(Widget(name="plain"))

    assert _audit_rows(engine) == []
    assert _head(engine) is None


def test_hooks_install_once(engine: Engine, factory: sessionmaker[Session]) -> None:
    install_audit_hooks()
    install_audit_hooks()

    with factory.begin() as session:
        _record(session)

    assert len(_audit_rows(engine)) == 1


def test_chain_links_and_verifies(engine: Engine, factory: sessionmaker[Session]) -> None:
    for batch in (1, 3, 2):
        with factory.begin() as session:
            for n in range(batch):
                _record(session, object_id=f"{batch}-{n}")

    rows = _audit_rows(engine)
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["prev_hash"] == GENESIS_HASH
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(rows))
    head = _head(engine)
    assert head is not None
    assert (head["last_seq"], head["last_hash"]) == (6, rows[-1]["hash"])
    assert _verify(factory) == ChainReport(ok=True, checked=6, broken_at_seq=None, reason=None)


def test_hash_follows_the_documented_formula(engine: Engine, factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        _record(
            session,
            "case.update",
            fields=("amount", "note"),
            before={"amount": Decimal("1500.00"), "note": None},
            after={"amount": Decimal("2000.50"), "note": "ย้ายที่อยู่"},
        )

    [row] = _audit_rows(engine)
    assert row["after"] == {"amount": "2000.50", "note": "ย้ายที่อยู่"}
    assert row["fields"] == ["amount", "note"]
    payload = {
        "seq": 1,
        "occurred_at": row["occurred_at"].isoformat(timespec="microseconds"),
        "actor": "somchai",
        "role": "officer",
        "district_code": "1001",
        "ip": "10.0.0.7",
        "request_id": "req-1",
        "action": "case.update",
        "object_type": "case",
        "object_id": "42",
        "fields": ["amount", "note"],
        "before": {"amount": "1500.00", "note": None},
        "after": {"amount": "2000.50", "note": "ย้ายที่อยู่"},
    }
    assert payload["occurred_at"].endswith("+00:00")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    assert row["hash"] == hashlib.sha256((GENESIS_HASH + canonical).encode()).hexdigest()


def test_empty_chain_verifies(factory: sessionmaker[Session]) -> None:
    assert _verify(factory) == ChainReport(ok=True, checked=0)


def test_update_and_delete_are_refused_by_the_database(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    _seed(factory, 2)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(update(LOG).where(LOG.c.seq == 1).values(actor="mallory"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(LOG).where(LOG.c.seq == 2))
    if _is_postgres(engine):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))

    assert [r["actor"] for r in _audit_rows(engine)] == ["somchai", "somchai"]
    assert _verify(factory).ok


def test_trigger_install_is_idempotent_and_reversible(engine: Engine, factory: sessionmaker[Session]) -> None:
    _seed(factory, 1)
    with engine.begin() as conn:
        install_append_only_triggers(conn)
        install_append_only_triggers(conn)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(LOG))

    with engine.begin() as conn:
        drop_append_only_triggers(conn)
        drop_append_only_triggers(conn)
        conn.execute(update(LOG).values(request_id="changed"))

    assert _audit_rows(engine)[0]["request_id"] == "changed"


def _edit_actor(conn: Connection) -> None:
    conn.execute(update(LOG).where(LOG.c.seq == 3).values(actor="mallory"))


def _edit_and_rehash(conn: Connection) -> None:
    row = conn.execute(select(LOG).where(LOG.c.seq == 3)).mappings().one()
    hashed = {k: v for k, v in row.items() if k not in ("id", "prev_hash", "hash")}
    hashed.update(
        occurred_at=row["occurred_at"].isoformat(timespec="microseconds"), after={"status": "approved"}
    )
    new_hash = compute_hash(row["prev_hash"], hashed)
    conn.execute(update(LOG).where(LOG.c.seq == 3).values(after={"status": "approved"}, hash=new_hash))


def _delete_middle(conn: Connection) -> None:
    conn.execute(delete(LOG).where(LOG.c.seq == 3))


def _delete_tail(conn: Connection) -> None:
    conn.execute(delete(LOG).where(LOG.c.seq == 5))


def _swap_rows(conn: Connection) -> None:
    conn.execute(update(LOG).where(LOG.c.seq == 2).values(seq=-2))
    conn.execute(update(LOG).where(LOG.c.seq == 3).values(seq=2))
    conn.execute(update(LOG).where(LOG.c.seq == -2).values(seq=3))


def _renumber(conn: Connection) -> None:
    # Hide a deletion by moving the later rows down.
    conn.execute(delete(LOG).where(LOG.c.seq == 3))
    for seq in (4, 5):
        conn.execute(update(LOG).where(LOG.c.seq == seq).values(seq=seq - 1))
    conn.execute(update(HEAD).values(last_seq=4))


def _head_hash(conn: Connection) -> None:
    conn.execute(update(HEAD).values(last_hash="f" * 64))


def _head_behind(conn: Connection) -> None:
    last_hash = conn.execute(select(LOG.c.hash).where(LOG.c.seq == 4)).scalar_one()
    conn.execute(update(HEAD).values(last_seq=4, last_hash=last_hash))


def _head_deleted(conn: Connection) -> None:
    conn.execute(delete(HEAD))


@pytest.mark.parametrize(
    ("tamper", "broken_at", "checked", "reason"),
    [
        pytest.param(_edit_actor, 3, 2, "entry changed", id="edited-field"),
        pytest.param(_edit_and_rehash, 4, 3, "prev_hash", id="edited-and-rehashed"),
        pytest.param(_delete_middle, 3, 2, "missing", id="deleted-row"),
        pytest.param(_delete_tail, 5, 4, "missing", id="deleted-last-row"),
        pytest.param(_swap_rows, 2, 1, "prev_hash", id="reordered"),
        pytest.param(_renumber, 3, 2, "prev_hash", id="renumbered"),
        pytest.param(_head_hash, 5, 5, "head hash", id="head-hash-edited"),
        pytest.param(_head_behind, 5, 5, "chain head", id="head-moved-back"),
        pytest.param(_head_deleted, 1, 5, "chain head", id="head-deleted"),
    ],
)
def test_tampering_by_a_superuser_is_detected(
    engine: Engine,
    factory: sessionmaker[Session],
    tamper: Callable[[Connection], None],
    broken_at: int,
    checked: int,
    reason: str,
) -> None:
    _seed(factory, 5)
    assert _verify(factory).ok
    with engine.begin() as conn:
        drop_append_only_triggers(conn)  # what an owner or superuser could do
        tamper(conn)

    report = _verify(factory)

    assert not report.ok
    assert report.broken_at_seq == broken_at
    assert reason in (report.reason or "")
    assert report.checked == checked


def test_verify_streams_in_batches(engine: Engine, factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        for n in range(25):
            _record(session, object_id=n)

    with factory() as session:
        report = verify_chain(session, batch_size=4)

    assert report == ChainReport(ok=True, checked=25)


def test_concurrent_writers_build_one_gap_free_chain(engine: Engine, factory: sessionmaker[Session]) -> None:
    threads_count, per_thread = 4, 25
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with factory.begin() as session:
                    session.add(Widget(name=f"w{worker}-{n}"))
                    _record(session, "case.create", actor=f"user{worker}", object_id=f"{worker}-{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    rows = _audit_rows(engine)
    assert [r["seq"] for r in rows] == list(range(1, threads_count * per_thread + 1))
    assert {r["object_id"] for r in rows} == {
        f"{w}-{n}" for w in range(threads_count) for n in range(per_thread)
    }
    assert _verify(factory) == ChainReport(ok=True, checked=threads_count * per_thread)


def test_chain_lock_is_taken_only_at_commit(pg_engine: Engine, pg_factory: sessionmaker[Session]) -> None:
    engine, factory = pg_engine, pg_factory
    _seed(factory, 1)

    slow = factory()
    slow.begin()
    slow.add(Widget(name="slow"))
    _record(slow, "case.slow")
    slow.flush()

    # A second writer commits while the first transaction is open with a pending entry: it must
    # not wait for the chain head (lock_timeout turns a wrong wait into an error, not a hang).
    with factory.begin() as fast:
        fast.execute(text("SET LOCAL lock_timeout = '5s'"))
        _record(fast, "case.fast")
    slow.commit()
    slow.close()

    assert [(r["seq"], r["action"]) for r in _audit_rows(engine)] == [
        (1, "case.update"),
        (2, "case.fast"),
        (3, "case.slow"),
    ]
    assert _verify(factory).ok


def test_head_is_claimed_by_update_and_written_in_two_statements_on_postgres(
    pg_engine: Engine, pg_factory: sessionmaker[Session]
) -> None:
    """The head row is locked by the claiming UPDATE (which queues concurrent writers until the
    commit); the rows and the head's new hash follow in one statement."""
    engine, factory = pg_engine, pg_factory
    with factory.begin() as session:  # the head row exists from here (the first entry creates it)
        _record(session)
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with factory.begin() as session:
            _record(session)
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    audit = [s for s in statements if "audit_chain_head" in s or "audit_log" in s]
    assert len(audit) == 2, audit
    assert audit[0].lstrip().startswith("UPDATE audit_chain_head")
    assert "RETURNING" in audit[0]
    assert "UPDATE audit_chain_head" in audit[1]
    assert "INSERT INTO audit_log" in audit[1]


def test_several_entries_update_the_head_row_twice_on_postgres(
    pg_engine: Engine, pg_factory: sessionmaker[Session]
) -> None:
    """A transaction with many entries (a batch of cases) claims the head and sets its hash once:
    not once per entry, which would leave a version of the head row per entry while every writer
    of the database waits for this commit."""
    engine, factory = pg_engine, pg_factory
    _seed(factory, 1)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE head_updates (n integer)"))
        conn.execute(
            text(
                "CREATE FUNCTION count_head_update() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN INSERT INTO head_updates VALUES (1); RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER count_head_update AFTER UPDATE ON audit_chain_head"
                " FOR EACH ROW EXECUTE FUNCTION count_head_update()"
            )
        )

    with factory.begin() as session:
        for n in range(5):
            _record(session, object_id=f"batch-{n}")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM head_updates")).scalar_one() == 2
    assert [r["seq"] for r in _audit_rows(engine)] == [1, 2, 3, 4, 5, 6]
    assert _verify(factory) == ChainReport(ok=True, checked=6)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        pytest.param({"action": ""}, "action is required", id="empty-action"),
        pytest.param({"actor": ""}, "actor is required", id="empty-actor"),
        pytest.param({"object_id": None}, "object_id is required", id="no-object"),
        pytest.param({"actor": "x" * 151}, "actor must be", id="long-actor"),
        pytest.param({"fields": "status"}, "not a string", id="fields-as-string"),
        pytest.param({"fields": ["status", 3]}, "field names", id="non-string-field"),
        pytest.param({"after": {"amount": float("nan")}}, "JSON", id="nan"),
    ],
)
def test_record_refuses_bad_input(kwargs: dict[str, Any], problem: str) -> None:
    arguments: dict[str, Any] = {"action": "case.update", "object_type": "case", "object_id": 1, "actor": "a"}
    arguments.update(kwargs)

    with Session() as session, pytest.raises(ValueError, match=problem):
        record(session, **arguments)
    assert not session.info.get(PENDING_KEY)
