"""Payment's migrations create exactly the tables of models.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.payment.models import Base
from shared.db import make_engine
from shared.migrate import downgrade, upgrade
from shared.testing.system import System

pytestmark = [pytest.mark.integration]
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "payment" / "migrations"


def _table(diff: Any) -> str | None:
    """The table a difference is about (platform tables are checked by the platform's tests)."""
    if isinstance(diff, list):
        diff = diff[0]
    kind, *rest = diff
    if kind.endswith("_table"):
        return str(rest[0].name)
    if kind.endswith("_index") or kind.endswith("_constraint"):
        return str(rest[0].table.name)
    return str(rest[1])  # add_column / remove_column / modify_*: (schema, table, ...)


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_migrations_match_the_models_and_go_down_and_up(backend: str, tmp_path: Path) -> None:
    system = System(tmp_path, backend=backend)
    try:
        url = system.database_url("payment")
        with system.environment():
            upgrade(MIGRATIONS, url)
            downgrade(MIGRATIONS, url, "0001")
            upgrade(MIGRATIONS, url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = [
                    d for d in compare_metadata(context, Base.metadata) if _table(d) in Base.metadata.tables
                ]
        finally:
            engine.dispose()
        assert diff == []
    finally:
        system.close()


@pytest.mark.parametrize("backend", ["embedded", "postgres"])
def test_reversed_is_an_allowed_state_and_nothing_else_is(backend: str, tmp_path: Path) -> None:
    """0004 widens the CHECK constraints (on SQLite by editing the schema text) and keeps them."""
    import datetime as dt

    from sqlalchemy import insert, select
    from sqlalchemy.exc import IntegrityError

    from services.payment.models import FileLine, PaymentFile, PayoutBatch, PayoutLine
    from shared.db import utcnow

    system = System(tmp_path, backend=backend)
    try:
        url = system.database_url("payment")
        with system.environment():
            upgrade(MIGRATIONS, url)
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                batch_id = conn.execute(
                    insert(PayoutBatch)
                    .values(
                        approval_batch_id="b1",
                        district_code="1008",
                        fiscal_year=2569,
                        number=1,
                        title="t",
                        approved_at=utcnow(),
                        approved_by="h",
                        status="open",
                        line_count=1,
                        total_satang=100,
                        source_event_id="e",
                        created_at=utcnow(),
                    )
                    .returning(PayoutBatch.id)
                ).scalar_one()

            def line(case_id: str, state: str) -> None:
                with engine.begin() as conn:
                    conn.execute(
                        insert(PayoutLine).values(
                            batch_id=batch_id,
                            case_id=case_id,
                            case_no=case_id,
                            district_code="1008",
                            payee_name="x",
                            account_name="x",
                            bank_code="004",
                            account_no="1234567890",
                            amount_satang=100,
                            state=state,
                            bank_updated_at=utcnow(),
                            created_at=utcnow(),
                            updated_at=utcnow(),
                        )
                    )

            line("c1", "reversed")
            with pytest.raises(IntegrityError):
                line("c2", "bogus")
            with pytest.raises(IntegrityError):
                line("c3", "paid")  # the paid marker CHECK is still there (paid_at is NULL)
            with engine.begin() as conn:
                file_id = conn.execute(
                    insert(PaymentFile)
                    .values(
                        batch_id=batch_id,
                        bank_group="other",
                        status="active",
                        effective_date=dt.date(2026, 1, 15),
                        service_type="59",
                        company_id="X",
                        debit_account="1234567890",
                        sender_name="S",
                        placeholder_config=False,
                        line_count=1,
                        total_satang=100,
                        txt_name="f",
                        txt_content=b"x",
                        txt_sha256="h",
                        xlsx_content=b"x",
                        xlsx_sha256="h",
                        created_by="u",
                        created_at=utcnow(),
                    )
                    .returning(PaymentFile.id)
                ).scalar_one()
                line_id = conn.execute(select(PayoutLine.id)).scalar_one()

            def transfer(running_no: int, outcome: str) -> None:
                with engine.begin() as conn:
                    conn.execute(
                        insert(FileLine).values(
                            file_id=file_id,
                            line_id=line_id,
                            running_no=running_no,
                            ref2=f"WF1-{running_no}",
                            amount_satang=100,
                            bank_code="004",
                            account_no="1234567890",
                            recv_branch="0000",
                            recv_account="01234567890",
                            receiver_name="x",
                            outcome=outcome,
                            reversed_at=utcnow(),
                            reversal_reason="บัญชีปิด",
                        )
                    )

            transfer(1, "reversed")
            with pytest.raises(IntegrityError):
                transfer(2, "bogus")
        finally:
            engine.dispose()
    finally:
        system.close()
