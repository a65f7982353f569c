"""Property tests: the sums of a result import equal the file's totals (reliability P7, P11, §6.3).

Two levels, both on the public functions:

* the reader (``reports.parse_report``) — for any report in any of the three shapes the bank
  sends (the normalised CSV, the KTB Excel report, the fixed-width echo), the records add up to
  the total the file states, split exactly into paid and failed; a stated total or count off by
  anything, or a cut file, is refused;
* the import (payment's HTTP API and its import function, in process on SQLite) — for any
  subset of a file's transfers reported paid or failed, the import's reconciliation of that file
  says exactly how many lines and how much money the report carried, and the batch's paid total
  moves by exactly the paid sum.

tests/payment/integration/test_reversals.py checks the batch-level P11 equations after random
sequences of files, reports and reversals; this module checks one import against its own file.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.payment import create_app, ktb, reports
from services.payment.ktb import FileSettings, TransferLine
from shared.testing.system import System
from tests.payment import factories
from tests.payment.conftest import SPEC_SETTINGS, PaymentEnv

LIMITS = reports.ReportLimits()
SETTINGS = FileSettings(**SPEC_SETTINGS)


@st.composite
def report_lines(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=15))
    return [
        {
            "ref2": f"R{i:04d}{draw(st.from_regex(r'[A-Z0-9]{0,6}', fullmatch=True))}",
            "bank_code": draw(st.sampled_from(["002", "004", "014", "025"])),
            "account_no": draw(st.from_regex(r"[0-9]{10}", fullmatch=True)),
            "satang": draw(st.integers(min_value=1, max_value=99_999_999)),
            "status": draw(st.sampled_from(["SUCCESS", "FAILED"])),
        }
        for i in range(count)
    ]


def baht(satang: int) -> str:
    return f"{Decimal(satang).scaleb(-2):.2f}"


def as_csv(lines: list[dict[str, Any]], stated: int | None) -> bytes:
    rows = [{**line, "amount": baht(line["satang"])} for line in lines]
    data = factories.result_csv(rows)
    if stated is not None:
        data += f",รวม,,,,,{baht(stated)},,,,,\r\n".encode()
    return data


def as_xlsx(lines: list[dict[str, Any]], stated: int | None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["รายงานผลการโอนเงิน"])
    sheet.append(
        ["Reference No./ DDA Ref 2", "Receiving Bank Code", "Receiving A/C No.", "Transfer Amount", "Status"]
    )
    for line in lines:
        # amounts as numbers, the way a bank's Excel report holds them
        sheet.append(
            [line["ref2"], line["bank_code"], line["account_no"], baht(line["satang"]), line["status"]]
        )
    if stated is not None:
        sheet.append(["Total", None, None, baht(stated), None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_fixed_width(lines: list[dict[str, Any]]) -> bytes:
    transfers = [
        TransferLine(
            i,
            line["ref2"],
            line["bank_code"],
            None,
            line["account_no"],
            "TEST",
            Decimal(line["satang"]).scaleb(-2),
            line["ref2"],
        )
        for i, line in enumerate(lines)
    ]
    prepared, problems = ktb.prepare_lines(transfers, group="other", settings=SETTINGS)
    assert not problems
    return ktb.write_txt(prepared, group="other", settings=SETTINGS, effective_date=dt.date(2026, 1, 15))


@pytest.mark.unit
@settings(max_examples=30, deadline=None)
@given(report_lines(), st.sampled_from(["csv", "xlsx", "fixed_width"]), st.booleans())
def test_the_records_add_up_to_the_stated_total(
    lines: list[dict[str, Any]], shape: str, state_total: bool
) -> None:
    total = sum(line["satang"] for line in lines)
    if shape == "csv":
        data, name = as_csv(lines, total if state_total else None), "r.csv"
    elif shape == "xlsx":
        data, name = as_xlsx(lines, total if state_total else None), "r.xlsx"
    else:
        data, name = as_fixed_width(lines), "r.txt"
    report = reports.parse_report(data, name, LIMITS)
    assert len(report.records) == len(lines)
    assert sum(r.satang for r in report.records) == total
    assert sum(r.amount for r in report.records) == Decimal(total).scaleb(-2)
    if shape == "fixed_width":
        assert (report.stated_count, report.stated_total_satang) == (len(lines), total)
    else:
        assert report.stated_total_satang == (total if state_total else None)
        paid = sum(r.satang for r in report.records if r.status == reports.SUCCESS)
        failed = sum(r.satang for r in report.records if r.status == reports.FAILED)
        assert paid + failed == total
        assert paid == sum(line["satang"] for line in lines if line["status"] == "SUCCESS")


@pytest.mark.unit
@settings(max_examples=30, deadline=None)
@given(
    report_lines(), st.sampled_from(["csv", "xlsx"]), st.integers(min_value=-10_000_000, max_value=10_000_000)
)
def test_a_stated_total_that_does_not_add_up_is_refused(
    lines: list[dict[str, Any]], shape: str, delta: int
) -> None:
    total = sum(line["satang"] for line in lines)
    paid = sum(line["satang"] for line in lines if line["status"] == "SUCCESS")
    stated = total + delta
    if stated <= 0 or stated in (total, paid):
        return  # the file would be right (a report may state its paid sum only)
    data = as_csv(lines, stated) if shape == "csv" else as_xlsx(lines, stated)
    with pytest.raises(reports.ReportError) as info:
        reports.parse_report(data, f"r.{shape}", LIMITS)
    assert info.value.code == "totals_mismatch"
    assert info.value.status == 422


@pytest.mark.unit
@settings(max_examples=25, deadline=None)
@given(report_lines().filter(lambda lines: len(lines) >= 2), st.data())
def test_a_fixed_width_echo_missing_any_record_is_refused(
    lines: list[dict[str, Any]], data: st.DataObject
) -> None:
    records = as_fixed_width(lines).split(b"\r\n")
    drop = data.draw(st.integers(min_value=1, max_value=len(lines)))  # any detail record
    cut = b"\r\n".join(records[:drop] + records[drop + 1 :])
    with pytest.raises(reports.ReportError) as info:
        reports.parse_report(cut, "r.txt", LIMITS)
    assert info.value.code == "totals_mismatch"


# --- the import, in process ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaymentEnv]:
    system = System(tmp_path_factory.mktemp("reconciliation"), backend="embedded")
    system.migrate(("payment",))
    with system.environment():
        app = create_app(
            {
                "DATABASE_URL": system.database_url("payment"),
                "TESTING": True,
                "PAYMENT_SETTINGS": dict(SPEC_SETTINGS),
            }
        )
        yield PaymentEnv(app=app, system=system, secret=system.env["ECASE_SECRET_KEY"])
        app.extensions["ecase"].engine.dispose()
    system.close()


@pytest.mark.integration
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=5_000_000), min_size=1, max_size=6),
    data=st.data(),
)
def test_an_import_reconciles_exactly_what_its_report_carried(
    env: PaymentEnv, amounts: list[int], data: st.DataObject
) -> None:
    cases = [factories.case(bank_code="004", amount=baht(a)) for a in amounts]
    batch_id = env.approve(cases)
    assert env.download(batch_id, "other.txt").status_code == 200
    lines = env.batch(batch_id)["lines"]
    reported = data.draw(st.lists(st.sampled_from(range(len(lines))), min_size=1, unique=True))
    statuses = data.draw(
        st.lists(st.sampled_from(["SUCCESS", "FAILED"]), min_size=len(reported), max_size=len(reported))
    )
    rows = [
        {
            "ref2": lines[i]["ref2"],
            "bank_code": lines[i]["bank_code"],
            "account_no": lines[i]["account_no"],
            "satang": int(Decimal(lines[i]["amount"]).scaleb(2)),
            "status": status,
        }
        for i, status in zip(reported, statuses, strict=True)
    ]
    stated = sum(r["satang"] for r in rows)
    paid_before = Decimal(env.batch(batch_id)["paid_total"])
    r = env.upload(batch_id, as_csv(rows, stated))
    assert r.status_code == 202, r.json
    env.run_imports()
    result = env.get_import(r.json["import_id"])
    assert result["status"] == "done", result

    success = sum(row["satang"] for row in rows if row["status"] == "SUCCESS")
    failed = stated - success
    assert (result["lines"], result["paid"], result["failed"]) == (
        len(rows),
        statuses.count("SUCCESS"),
        statuses.count("FAILED"),
    )
    [file] = result["reconciliation"]
    file_total = sum(int(Decimal(line["amount"]).scaleb(2)) for line in lines)
    assert file["file_lines"] == len(lines)
    assert file["file_total"] == baht(file_total)
    assert file["reported_count"] == len(rows)
    assert (file["reported_success"], file["reported_failed"]) == (baht(success), baht(failed))
    assert Decimal(file["reported_success"]) + Decimal(file["reported_failed"]) == Decimal(baht(stated))
    assert file["reconciled"] is (len(rows) == len(lines))
    assert Decimal(env.batch(batch_id)["paid_total"]) - paid_before == Decimal(baht(success))
