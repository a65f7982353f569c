"""Append-only, hash-chained audit log kept in each service's own database (reliability.md D3).

Callers describe an action with :func:`record`; nothing is written then.  A global
``before_commit`` hook on :class:`~sqlalchemy.orm.Session` writes the pending entries inside
the same transaction as the business change, so a committed change without its audit row is
impossible and a rolled-back one leaves none.  Each row carries
``hash = sha256(prev_hash + canonical_json(row))``; :func:`verify_chain` recomputes the chain
and reports the first broken link.  The single ``audit_chain_head`` row serialises writers: it
is locked (claimed by ``UPDATE … RETURNING``) only while the committing transaction writes its
entries, so concurrent writers get consecutive, gap-free ``seq`` values and the lock is held for
the last moments of the commit only.

``before``/``after`` snapshots and ``fields`` are stored as given: callers pass field *names*
and already-masked values (D1); this module never sees or masks personal data itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from shared.db import PlatformBase, UTCDateTime, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

__all__ = [
    "APPEND_ONLY_DDL",
    "AUDIT_TABLES",
    "DROP_APPEND_ONLY_DDL",
    "GENESIS_HASH",
    "PENDING_KEY",
    "AuditChainHead",
    "AuditEntry",
    "ChainReport",
    "canonical_json",
    "compute_hash",
    "drop_append_only_triggers",
    "install_append_only_triggers",
    "install_audit_hooks",
    "record",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
PENDING_KEY = "pending_audit"
_WRITING_KEY = "_audit_writing"
_HEAD_ID = 1

# Column limits, checked in record() so that an over-long value fails in the caller's code
# rather than aborting the whole commit in the before_commit hook.
_LIMITS = {
    "actor": 150,
    "role": 32,
    "district_code": 16,
    "ip": 45,  # longest textual IPv6 address
    "request_id": 128,
    "action": 64,
    "object_type": 64,
    "object_id": 128,
}


class AuditEntry(PlatformBase):
    """One audit row: who did what to which object, chained to the row before it."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor_occurred_at", "actor", "occurred_at"),
        Index("ix_audit_log_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(_LIMITS["actor"]), nullable=False)
    role: Mapped[str | None] = mapped_column(String(_LIMITS["role"]))
    district_code: Mapped[str | None] = mapped_column(String(_LIMITS["district_code"]))
    ip: Mapped[str | None] = mapped_column(String(_LIMITS["ip"]))
    request_id: Mapped[str | None] = mapped_column(String(_LIMITS["request_id"]))
    action: Mapped[str] = mapped_column(String(_LIMITS["action"]), nullable=False)
    object_type: Mapped[str] = mapped_column(String(_LIMITS["object_type"]), nullable=False)
    object_id: Mapped[str] = mapped_column(String(_LIMITS["object_id"]), nullable=False)
    fields: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    before: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditChainHead(PlatformBase):
    """The single row (id 1) holding the chain's last seq and hash; locked to serialise writers."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


AUDIT_TABLES = (AuditEntry.__table__, AuditChainHead.__table__)

_log = AuditEntry.__table__
_head = AuditChainHead.__table__

# Fields covered by the hash, in the order they are documented (the JSON is key-sorted anyway).
_HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "role",
    "district_code",
    "ip",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "fields",
    "before",
    "after",
)


def canonical_json(value: Any) -> str:
    """The one JSON text a value hashes as: sorted keys, no spaces, UTF-8 kept, ``str`` fallback."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """``sha256(prev_hash_hex + canonical_json(entry))`` as hex; ``entry`` excludes the hashes."""
    return hashlib.sha256((prev_hash + canonical_json(dict(entry))).encode("utf-8")).hexdigest()


def _hash_payload(values: Mapping[str, Any]) -> dict[str, Any]:
    payload = {name: values[name] for name in _HASHED_FIELDS}
    payload["occurred_at"] = _iso(values["occurred_at"])
    return payload


def _iso(value: dt.datetime) -> str:
    # Fixed precision so that a value read back from the database prints exactly as written.
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _json_native(value: Any) -> Any:
    """Round-trip through canonical JSON, so what is stored is exactly what was hashed."""
    if value is None:
        return None
    # NaN/Infinity are not JSON; PostgreSQL would refuse them at commit time.
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, allow_nan=False)
    return json.loads(text)


@dataclass
class _Pending:
    values: dict[str, Any]
    # The innermost transaction open when record() ran (None: before autobegin).  A rollback
    # of that transaction, or of one enclosing it, discards the entry.
    transaction: SessionTransaction | None


def record(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: object,
    actor: str,
    role: str | None = None,
    district_code: str | None = None,
    ip: str | None = None,
    request_id: str | None = None,
    fields: Iterable[str] = (),
    before: Any = None,
    after: Any = None,
) -> None:
    """Queue an audit entry; it is written when ``session`` commits, in the same transaction.

    ``fields`` are field names only, never values; ``before``/``after`` must already be masked.

    :raises ValueError: a required value is empty, a value is too long, or a snapshot is not JSON.
    """
    install_audit_hooks()
    values: dict[str, Any] = {
        "occurred_at": utcnow(),
        "actor": actor,
        "role": role,
        "district_code": district_code,
        "ip": ip,
        "request_id": request_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
    }
    for name in ("actor", "action", "object_type", "object_id"):
        if not values[name] or not isinstance(values[name], str):
            raise ValueError(f"audit {name} is required")
    for name, limit in _LIMITS.items():
        value = values[name]
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            raise ValueError(f"audit {name} must be a string of at most {limit} characters")
    if isinstance(fields, str):
        raise ValueError("audit fields must be a list of field names, not a string")
    field_names = list(fields)
    if not all(isinstance(name, str) and name for name in field_names):
        raise ValueError("audit fields must be non-empty field names")
    values["fields"] = field_names
    values["before"] = _json_native(before)
    values["after"] = _json_native(after)
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING_KEY, []).append(_Pending(values, transaction))


def _write_pending(session: Session) -> None:
    """``before_commit``: chain and insert the session's pending entries.

    It also fires when a savepoint is released; entries are then written inside the savepoint
    (and the head stays locked until the outer commit).  Writing at every commit, rather than
    guessing which commit is the outermost one, is what keeps entries from being lost when a
    root transaction is committed with a savepoint still open.
    """
    if session.info.get(_WRITING_KEY) or not session.info.get(PENDING_KEY):
        return
    session.info[_WRITING_KEY] = True
    try:
        # Flush the business changes first, so the chain lock is taken as late as possible;
        # the loop picks up entries that flush hooks record.  Inserts below run immediately.
        for _guard in range(10):
            session.flush()
            pending: list[_Pending] = session.info.pop(PENDING_KEY, [])
            if not pending:
                return
            _append(session, [item.values for item in pending])
        raise RuntimeError("audit entries keep being recorded while writing audit entries")
    finally:
        session.info.pop(_WRITING_KEY, None)


# Statements built once, so that SQLAlchemy compiles them once (every write of every service).
_CLAIM_HEAD = (
    update(_head)
    .where(_head.c.id == _HEAD_ID)
    .values(last_seq=_head.c.last_seq + bindparam("count"))
    .returning(_head.c.last_seq, _head.c.last_hash)
)
_SET_HEAD = update(_head).where(_head.c.id == _HEAD_ID).values(last_hash=bindparam("new_head_hash"))
_INSERT_AND_SET_HEAD = insert(_log).add_cte(_SET_HEAD.cte("set_audit_head"))


def _append(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Chain and insert entries: two statements for one entry on PostgreSQL, otherwise three.

    The head row is claimed with ``UPDATE … RETURNING`` (it locks the row and reserves the
    seqs; the hash it returns is still the previous one), then the rows are inserted.  On
    PostgreSQL one entry's row and the head's new hash go in one statement (a data-modifying
    CTE), since every writer of the database queues on this row until its commit.  Several
    entries are one executemany, which would run that CTE once per row (a version of the head
    row per entry): the head's hash is then set once, after them.  SQLite needs no row lock:
    the writer already holds the database write lock (BEGIN IMMEDIATE in make_engine).
    """
    count = {"count": len(entries)}
    head = session.execute(_CLAIM_HEAD, count).first()
    if head is None:  # the very first entry of this database
        _seed_head(session)
        head = session.execute(_CLAIM_HEAD, count).one()
    end_seq, last_hash = head
    last_seq = end_seq - len(entries)
    rows = []
    for values in entries:
        last_seq += 1
        row = {**values, "seq": last_seq, "prev_hash": last_hash}
        row["hash"] = last_hash = compute_hash(last_hash, _hash_payload(row))
        rows.append(row)
    if len(rows) == 1 and session.get_bind(AuditEntry).dialect.name == "postgresql":
        session.execute(_INSERT_AND_SET_HEAD, {**rows[0], "new_head_hash": last_hash})
    else:
        session.execute(insert(_log), rows)
        session.execute(_SET_HEAD, {"new_head_hash": last_hash})


def _seed_head(session: Session) -> None:
    """Create the head row without racing another first writer: on conflict the second insert
    waits for the first transaction and then does nothing."""
    seed = {"id": _HEAD_ID, "last_seq": 0, "last_hash": GENESIS_HASH}
    dialect = session.get_bind(AuditEntry).dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(_head).values(seed).on_conflict_do_nothing(index_elements=["id"]))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(_head).values(seed).on_conflict_do_nothing(index_elements=["id"]))
    else:
        session.execute(insert(_head).values(seed))


def _is_within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    if transaction is None:  # recorded before autobegin: belongs to the root transaction
        return ancestor.parent is None
    node: SessionTransaction | None = transaction
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def _discard_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """``after_soft_rollback``: drop entries recorded inside the rolled-back transaction."""
    pending: list[_Pending] | None = session.info.get(PENDING_KEY)
    if pending:
        pending[:] = [item for item in pending if not _is_within(item.transaction, previous_transaction)]


def _discard_on_end(session: Session, transaction: SessionTransaction) -> None:
    """``after_transaction_end``: nothing pending outlives the root transaction (e.g. close())."""
    if transaction.parent is None:
        session.info.pop(PENDING_KEY, None)


_HOOKS = (
    ("before_commit", _write_pending),
    ("after_soft_rollback", _discard_rolled_back),
    ("after_transaction_end", _discard_on_end),
)


def install_audit_hooks() -> None:
    """Register the session hooks globally on :class:`Session`; safe to call any number of times."""
    for name, hook in _HOOKS:
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)


@dataclass(frozen=True)
class ChainReport:
    """The result of :func:`verify_chain`."""

    ok: bool
    checked: int
    broken_at_seq: int | None = None
    reason: str | None = None


class _ChainWalk:
    """Incremental verifier state, so rows can be checked in more than one pass."""

    def __init__(self) -> None:
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.checked = 0
        self.broken: ChainReport | None = None

    def fail(self, seq: int, reason: str) -> ChainReport:
        self.broken = ChainReport(ok=False, checked=self.checked, broken_at_seq=seq, reason=reason)
        return self.broken

    def scan(self, session: Session, *, upto: int | None = None, batch: int) -> None:
        query = select(_log).where(_log.c.seq > self.last_seq).order_by(_log.c.seq)
        if upto is not None:
            query = query.where(_log.c.seq <= upto)
        result = session.execute(query.execution_options(yield_per=batch))
        try:
            for row in result.mappings():
                if not self.check(row):
                    return
        finally:
            result.close()

    def check(self, row: Mapping[str, Any]) -> bool:
        expected = self.last_seq + 1
        if row["seq"] > expected:
            self.fail(expected, f"entry {expected} is missing (next entry is {row['seq']})")
            return False
        if row["prev_hash"] != self.last_hash:
            self.fail(row["seq"], f"prev_hash does not match the hash of entry {self.last_seq}")
            return False
        if compute_hash(self.last_hash, _hash_payload(row)) != row["hash"]:
            self.fail(row["seq"], "hash does not match the entry's contents (entry changed)")
            return False
        self.last_seq, self.last_hash = row["seq"], row["hash"]
        self.checked += 1
        return True


def verify_chain(session: Session, *, batch_size: int = 1000) -> ChainReport:
    """Recompute every hash in seq order and compare the chain head with the last entry.

    Detects edited rows (hash mismatch), deleted rows (seq gap, or a head ahead of the last
    row), reordered or renumbered rows (``seq`` is hashed) and a tampered head.  Works under
    READ COMMITTED while writers keep appending: entries committed after the scan started are
    picked up up to the head read afterwards.  An attacker who can rewrite every later row and
    the head can forge a consistent chain; publish the head hash elsewhere to guard against that.
    """
    walk = _ChainWalk()
    walk.scan(session, batch=batch_size)
    if walk.broken:
        return walk.broken
    head = session.execute(select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == _HEAD_ID)).first()
    head_seq, head_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)
    if head_seq > walk.last_seq:
        # Either entries were committed after the scan began, or the tail was deleted.
        walk.scan(session, upto=head_seq, batch=batch_size)
        if walk.broken:
            return walk.broken
        if walk.last_seq < head_seq:
            return walk.fail(
                walk.last_seq + 1, f"entries {walk.last_seq + 1}–{head_seq} are missing (chain head)"
            )
    elif head_seq < walk.last_seq:
        return walk.fail(head_seq + 1, f"chain head says {head_seq} entries but {walk.last_seq} exist")
    if head_hash != walk.last_hash:
        return walk.fail(head_seq, "chain head hash does not match the last entry")
    return ChainReport(ok=True, checked=walk.checked)


# Append-only enforcement in the database.  The application's DB role should also lack UPDATE
# and DELETE on audit_log (D3); these triggers are the backstop that holds even for the owner.
# The statements contain no "%" or ":" so they run unchanged through exec_driver_sql, text()
# and Alembic's op.execute().
APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        """
        CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING
                MESSAGE = 'audit_log is append-only (' || TG_OP || ' refused)',
                ERRCODE = 'insufficient_privilege';
        END;
        $$
        """,
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()",
        # Row triggers do not fire on TRUNCATE.
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
        " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()",
    ),
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
}

DROP_APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log",
        "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
        "DROP FUNCTION IF EXISTS audit_log_refuse_change()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_log_no_update",
        "DROP TRIGGER IF EXISTS audit_log_no_delete",
    ),
}


def _run_ddl(connection: Connection, ddl: Mapping[str, tuple[str, ...]]) -> None:
    statements = ddl.get(connection.dialect.name)
    if statements is None:
        raise ValueError(f"no append-only triggers for the {connection.dialect.name} dialect")
    for statement in statements:
        connection.exec_driver_sql(statement)


def install_append_only_triggers(connection: Connection) -> None:
    """Create the triggers that refuse UPDATE and DELETE on audit_log (idempotent; for migrations)."""
    _run_ddl(connection, APPEND_ONLY_DDL)


def drop_append_only_triggers(connection: Connection) -> None:
    """Remove the append-only triggers (migration downgrades)."""
    _run_ddl(connection, DROP_APPEND_ONLY_DDL)


install_audit_hooks()
