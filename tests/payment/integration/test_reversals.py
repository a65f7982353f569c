"""Reversals (reliability P10) and the reconciliation counters (P11), on both backends.

The bank reports a credit that came back after it was paid with a reversal status word
(``REVERSED`` in the normalised CSV; the words are configurable, docs/payment.md).  A reversal of
a paid transfer moves it and its payee to ``reversed``; a reversal of a transfer never paid is an
``invalid_reversal`` exception; a second reversal is a duplicate.  The state machine at the end
drives files, reports (random subsets, duplicates, unknown references, reversals), re-runs,
corrections and closings against a small reference model and checks after every step that
``pending + paid + failed + reversed + exceptions_open`` equals the batch's count and total.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from services.payment import services
from services.payment.models import FileLine, PaymentAlert, PayoutLine, ResultImport
from shared.models import OutboxMessage
from tests.payment import factories
from tests.payment.conftest import PaymentEnv

pytestmark = [pytest.mark.integration]
_tags = itertools.count(1)


def report(rows: list[dict[str, str]]) -> bytes:
    """A normalised result CSV; every file gets its own bank_txn_ref so no two are the same file."""
    tag = f"T{next(_tags)}"
    return factories.result_csv([{"batch_id": "B", "bank_txn_ref": tag, **r} for r in rows])


def row(line: dict[str, Any], status: str, ref2: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "ref2": ref2 or line["ref2"],
        "bank_code": line["bank_code"],
        "account_no": line["account_no"],
        "amount": line["amount"],
        "status": status,
        **extra,
    }


def imported(env: PaymentEnv, batch_id: int, data: bytes) -> dict[str, Any]:
    r = env.upload(batch_id, data)
    assert r.status_code == 202, r.json
    env.run_imports()
    return env.get_import(r.json["import_id"])


def lines_of(env: PaymentEnv, batch_id: int) -> list[dict[str, Any]]:
    return list(env.batch(batch_id)["lines"])


def paid_batch(env: PaymentEnv, n: int = 2) -> tuple[int, list[dict[str, Any]]]:
    """A batch of n other-bank payees, sent and reported paid."""
    batch_id = env.approve([factories.case(bank_code="004") for _ in range(n)])
    assert env.download(batch_id, "other.txt").status_code == 200
    lines = lines_of(env, batch_id)
    result = imported(env, batch_id, report([row(line, "SUCCESS") for line in lines]))
    assert result["paid"] == n
    return batch_id, lines_of(env, batch_id)


def alerts(env: PaymentEnv, batch_id: int, kind: str) -> list[PaymentAlert]:
    with env.sessions() as s:
        return list(
            s.scalars(
                select(PaymentAlert).where(PaymentAlert.batch_id == batch_id, PaymentAlert.kind == kind)
            )
        )


class TestReversal:
    def test_a_reversed_payment_is_tracked_with_reason_and_date_and_counted(self, env: PaymentEnv) -> None:
        batch_id, (first, second) = paid_batch(env)
        before = env.batch(batch_id)["reconciliation"]
        assert (before["paid"]["count"], before["reversed"]["count"]) == (2, 0)
        result = imported(
            env,
            batch_id,
            report([row(first, "REVERSED", reason_text="บัญชีปิดหลังโอน", value_date="2026-01-20")]),
        )
        assert (result["reversed"], result["invalid_reversals"], result["duplicates"]) == (1, 0, 0)
        assert result["status"] == "done"
        body = env.batch(batch_id)
        got = {line["id"]: line for line in body["lines"]}
        assert got[first["id"]]["state"] == "reversed"
        assert got[first["id"]]["paid_at"] is None
        assert got[first["id"]]["reversal_reason"] == "บัญชีปิดหลังโอน"
        assert got[first["id"]]["reversal_value_date"] == "2026-01-20"
        assert got[first["id"]]["reversed_at"] is not None
        assert "บัญชีปิดหลังโอน" in got[first["id"]]["last_outcome"]
        assert got[second["id"]]["state"] == "paid"
        rec = body["reconciliation"]
        assert (rec["paid"]["count"], rec["reversed"]["count"], rec["balanced"]) == (1, 1, True)
        assert Decimal(rec["reversed"]["amount"]) == Decimal(first["amount"])
        assert body["counts"]["reversed"]["count"] == 1
        with env.sessions() as s:
            transfer = s.scalars(select(FileLine).where(FileLine.ref2 == first["ref2"])).one()
            assert (transfer.outcome, transfer.reversal_value_date) == ("reversed", "2026-01-20")
            assert transfer.outcome_import_id is not None  # the original success is kept
            assert transfer.reversal_import_id == result["id"]
        assert len(alerts(env, batch_id, "reversal")) == 1
        # a reversed payee blocks settlement until finance acts on it
        settle = env.client().post(f"/api/payment/batches/{batch_id}/settle", headers=env.headers())
        assert settle.status_code == 409
        assert settle.json["error"]["code"] == "lines_outstanding"

    def test_a_reversal_publishes_payout_reversed_once_without_account_data(self, env: PaymentEnv) -> None:
        batch_id, (first, second) = paid_batch(env)
        imported(
            env,
            batch_id,
            report(
                [
                    row(
                        first,
                        "REVERSED",
                        reason_code="R03",
                        reason_text="บัญชีปิดหลังโอน",
                        value_date="2026-01-20",
                    )
                ]
            ),
        )
        sent = [p for p in env.events("payout.reversed") if p["case_id"] == first["case_id"]]
        assert len(sent) == 1
        payload = sent[0]
        assert set(payload) == {
            "case_id",
            "district_code",
            "approval_batch_id",
            "amount",
            "ref2",
            "reason",
            "reason_code",
            "value_date",
            "at",
        }  # no account number, no national ID
        assert (payload["district_code"], payload["amount"], payload["ref2"]) == (
            "1008",
            first["amount"],
            first["ref2"],
        )
        assert (payload["reason"], payload["reason_code"], payload["value_date"]) == (
            "R03 บัญชีปิดหลังโอน",
            "R03",
            "2026-01-20",
        )
        with env.sessions() as s:
            rows = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "payout.reversed")).all()
            queues = {r.destination for r in rows if r.body["payload"]["case_id"] == first["case_id"]}
        assert queues == {"intake", "reporting"}
        # the same reversal reported again is a duplicate: no further event
        imported(env, batch_id, report([row(first, "REVERSED", reason_text="ซ้ำ")]))
        assert [p["case_id"] for p in env.events("payout.reversed")].count(first["case_id"]) == 1
        assert [p for p in env.events("payout.reversed") if p["case_id"] == second["case_id"]] == []
        # paid again after the correction: payout.paid once more, no further payout.reversed
        fixed = env.client().patch(
            f"/api/payment/lines/{first['id']}/bank",
            json={"bank_code": "014", "account_name": first["account_name"], "account_no": "2223334445"},
            headers=env.headers(),
        )
        assert fixed.status_code == 200, fixed.json
        assert env.download(batch_id, "other.txt").status_code == 200
        again = {line["id"]: line for line in lines_of(env, batch_id)}[first["id"]]
        imported(env, batch_id, report([row(again, "SUCCESS")]))
        paid = [p for p in env.events("payout.paid") if p["case_id"] == first["case_id"]]
        assert [p["ref2"] for p in paid] == [first["ref2"], again["ref2"]]
        assert [p["case_id"] for p in env.events("payout.reversed")].count(first["case_id"]) == 1

    def test_a_second_reversal_is_a_duplicate(self, env: PaymentEnv) -> None:
        batch_id, (first, _) = paid_batch(env)
        imported(env, batch_id, report([row(first, "REVERSED")]))
        again = imported(env, batch_id, report([row(first, "REVERSED", reason_text="ซ้ำ")]))
        assert (again["reversed"], again["duplicates"], again["invalid_reversals"]) == (0, 1, 0)
        assert len(alerts(env, batch_id, "reversal")) == 1
        assert env.batch(batch_id)["reconciliation"]["reversed"]["count"] == 1

    def test_a_reversal_without_a_prior_debit_is_an_exception_for_finance(self, env: PaymentEnv) -> None:
        batch_id = env.approve([factories.case(bank_code="004"), factories.case(bank_code="004")])
        assert env.download(batch_id, "other.txt").status_code == 200
        sent, failed = lines_of(env, batch_id)
        imported(env, batch_id, report([row(failed, "FAILED", reason_text="บัญชีไม่ถูกต้อง")]))
        result = imported(env, batch_id, report([row(sent, "REVERSED"), row(failed, "REVERSED")]))
        assert (result["reversed"], result["invalid_reversals"]) == (0, 2)
        assert [line["state"] for line in lines_of(env, batch_id)] == ["sent", "failed"]
        invalid = alerts(env, batch_id, "invalid_reversal")
        assert sorted(a.line_id for a in invalid) == sorted([sent["id"], failed["id"]])
        assert all("ไม่เคยบันทึกว่าโอนสำเร็จ" in a.message for a in invalid)
        # the debit arriving later is still applied
        late = imported(env, batch_id, report([row(sent, "SUCCESS")]))
        assert late["paid"] == 1

    def test_success_then_reversal_in_one_report_ends_reversed_and_never_publishes_paid(
        self, env: PaymentEnv
    ) -> None:
        batch_id = env.approve([factories.case(bank_code="004")])
        assert env.download(batch_id, "other.txt").status_code == 200
        (line,) = lines_of(env, batch_id)
        result = imported(env, batch_id, report([row(line, "SUCCESS"), row(line, "REVERSED")]))
        assert (result["paid"], result["reversed"], result["applied"]) == (0, 1, 1)
        assert lines_of(env, batch_id)[0]["state"] == "reversed"
        assert [p for p in env.events("payout.paid") if p["case_id"] == line["case_id"]] == []
        # the money went out and came back: intake and reporting learn that the case waits
        reversed_ = [p for p in env.events("payout.reversed") if p["case_id"] == line["case_id"]]
        assert [p["ref2"] for p in reversed_] == [line["ref2"]]

    def test_a_reversed_payee_is_corrected_and_paid_again_with_a_new_ref2_or_closed(
        self, env: PaymentEnv
    ) -> None:
        batch_id, (first, second) = paid_batch(env)
        imported(env, batch_id, report([row(first, "REVERSED"), row(second, "REVERSED")]))
        assert env.download(batch_id, "other.txt").status_code == 409  # reversed lines wait for finance
        c = env.client()
        fixed = c.patch(
            f"/api/payment/lines/{first['id']}/bank",
            json={"bank_code": "014", "account_name": first["account_name"], "account_no": "2223334445"},
            headers=env.headers(),
        )
        assert fixed.status_code == 200
        assert fixed.json["state"] == "pending"
        closed = c.post(
            f"/api/payment/lines/{second['id']}/close-failed",
            json={"reason": "ผู้รับเสียชีวิต"},
            headers=env.headers(),
        )
        assert closed.status_code == 200
        assert closed.json["state"] == "closed_failed"
        resent = env.download(batch_id, "other.txt")
        assert resent.status_code == 200
        again = {line["id"]: line for line in lines_of(env, batch_id)}[first["id"]]
        assert again["ref2"] != first["ref2"]
        paid = imported(env, batch_id, report([row(again, "SUCCESS")]))
        assert paid["paid"] == 1
        with env.sessions() as s:
            outcomes = dict(
                s.execute(
                    select(FileLine.ref2, FileLine.outcome).where(FileLine.line_id == first["id"])
                ).all()
            )
        assert outcomes == {first["ref2"]: "reversed", again["ref2"]: "paid"}
        assert c.post(f"/api/payment/batches/{batch_id}/settle", headers=env.headers()).status_code == 200

    def test_a_reversal_that_does_not_match_what_was_paid_changes_nothing(self, env: PaymentEnv) -> None:
        batch_id, (first, _) = paid_batch(env)
        wrong = row(first, "REVERSED", amount=str(Decimal(first["amount"]) + Decimal("0.01")))
        result = imported(env, batch_id, report([wrong]))
        assert (result["reversed"], result["contradictions"]) == (0, 1)
        assert lines_of(env, batch_id)[0]["state"] == "paid"


# --- the state machine (P10 + P11) -------------------------------------------------------------------
@dataclass
class Transfer:
    ref2: str
    payee: int
    outcome: str = "pending"  # pending | paid | failed | reversed


@dataclass
class Payee:
    id: int
    bank_code: str
    account_no: str
    amount: str
    account_name: str
    state: str = "pending"  # pending | sent | paid | failed | reversed | closed_failed


@dataclass
class Model:
    """The reference: what each report line must do, written independently of domain.decide."""

    payees: list[Payee] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)

    def apply(self, status: str, t: Transfer) -> str:
        p = self.payees[t.payee]
        if status == "SUCCESS":
            if t.outcome == "pending":
                t.outcome, p.state = "paid", "paid"
                return "applied"
            return "duplicates" if t.outcome in ("paid", "reversed") else "contradictions"
        if status == "FAILED":
            if t.outcome == "pending":
                t.outcome, p.state = "failed", "failed"
                return "applied"
            return "duplicates" if t.outcome == "failed" else "contradictions"
        assert status == "REVERSED"
        if t.outcome == "paid":
            t.outcome, p.state = "reversed", "reversed"
            return "reversed"
        return "duplicates" if t.outcome == "reversed" else "invalid_reversals"

    def buckets(self) -> dict[str, tuple[int, Decimal]]:
        of = {
            "pending": "pending",
            "sent": "pending",
            "paid": "paid",
            "failed": "failed",
            "closed_failed": "failed",
            "reversed": "reversed",
        }
        out = {b: (0, Decimal("0")) for b in ("pending", "paid", "failed", "reversed", "exceptions_open")}
        for p in self.payees:
            count, amount = out[of[p.state]]
            out[of[p.state]] = (count + 1, amount + Decimal(p.amount))
        return out


STATUSES = st.sampled_from(["SUCCESS", "FAILED", "REVERSED"])
MACHINE_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_reversal_sequences_keep_the_reconciliation_totals(env: PaymentEnv) -> None:
    """P10/P11: random debit / failure / reversal / duplicate / unknown-reference sequences."""

    class Reconciliation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            cases = [factories.case(bank_code="004") for _ in range(3)]
            self.batch_id = env.approve(cases)
            self.model = Model()
            for line in lines_of(env, self.batch_id):
                self.model.payees.append(
                    Payee(
                        line["id"],
                        line["bank_code"],
                        line["account_no"],
                        line["amount"],
                        line["account_name"],
                    )
                )
            self.last_report: bytes | None = None
            self.last_import: int | None = None
            self.send_file()

        # -- helpers ------------------------------------------------------------------------------
        def send_file(self) -> None:
            """Download the next file; the model predicts whether one is made and for whom."""
            due = [p for p in self.model.payees if p.state in ("pending", "failed")]
            r = env.download(self.batch_id, "other.txt")
            if not due:
                if any(p.state == "sent" for p in self.model.payees):
                    assert r.status_code == 200, r.json  # the unresolved file again
                    assert r.headers["X-Payment-File-Created"] == "0"
                else:
                    assert r.status_code == 409, r.json
                    assert r.json["error"]["code"] == "nothing_outstanding"
                return
            assert r.status_code == 200, r.json
            assert r.headers["X-Payment-File-Created"] == "1"
            assert int(r.headers["X-Payment-File-Lines"]) == len(due)
            current = {line["id"]: line["ref2"] for line in lines_of(env, self.batch_id)}
            for p in due:
                p.state = "sent"
                self.model.transfers.append(Transfer(current[p.id], self.model.payees.index(p)))

        def upload(self, data: bytes, expected: dict[str, int]) -> None:
            r = env.upload(self.batch_id, data)
            assert r.status_code == 202, r.json
            assert r.json["duplicate_of"] is None
            env.run_imports()
            got = env.get_import(r.json["import_id"])
            assert got["status"] == "done", got
            for name in (
                "applied",
                "reversed",
                "duplicates",
                "contradictions",
                "invalid_reversals",
                "unknown",
            ):
                assert got[name] == expected.get(name, 0), (name, got, expected)
            assert got["review"] == got["ambiguous"] == 0
            self.last_report, self.last_import = data, got["id"]

        # -- rules ------------------------------------------------------------------------------
        @precondition(lambda self: self.model.transfers)
        @rule(data=st.data(), size=st.integers(min_value=1, max_value=4))
        def report_lines(self, data: st.DataObject, size: int) -> None:
            """A report of random lines: any transfer ever made, any status, repeats allowed."""
            rows, expected = [], {}
            for _ in range(size):
                t = data.draw(st.sampled_from(self.model.transfers))
                status = data.draw(STATUSES)
                rows.append(self.line_for(t, status))
                outcome = self.model.apply(status, t)
                event(f"{status} -> {outcome}")
                expected[outcome] = expected.get(outcome, 0) + 1
            self.upload(report(rows), expected)

        def line_for(self, t: Transfer, status: str) -> dict[str, str]:
            p = self.model.payees[t.payee]
            return {
                "ref2": t.ref2,
                "bank_code": p.bank_code,
                "account_no": p.account_no,
                "amount": p.amount,
                "status": status,
                "reason_text": "จากธนาคาร",
                "value_date": "2026-01-20",
            }

        @precondition(lambda self: any(t.outcome == "pending" for t in self.model.transfers))
        @rule(data=st.data())
        def debit(self, data: st.DataObject) -> None:
            """SUCCESS for some transfers still waiting for their outcome."""
            waiting = [t for t in self.model.transfers if t.outcome == "pending"]
            chosen = data.draw(
                st.lists(
                    st.sampled_from(waiting), min_size=1, max_size=len(waiting), unique_by=lambda t: t.ref2
                )
            )
            expected = {"applied": len(chosen)}
            for t in chosen:
                self.model.apply("SUCCESS", t)
            self.upload(report([self.line_for(t, "SUCCESS") for t in chosen]), expected)

        @precondition(lambda self: any(t.outcome in ("paid", "reversed") for t in self.model.transfers))
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            """A reversal of a paid transfer (or of one reversed already: a duplicate)."""
            t = data.draw(
                st.sampled_from([t for t in self.model.transfers if t.outcome in ("paid", "reversed")])
            )
            outcome = self.model.apply("REVERSED", t)
            event(f"REVERSED -> {outcome}")
            self.upload(report([self.line_for(t, "REVERSED")]), {outcome: 1})

        @precondition(lambda self: self.model.transfers)
        @rule(status=STATUSES)
        def unknown_reference(self, status: str) -> None:
            p = self.model.payees[0]
            bogus = {
                "ref2": "WF999999-000001",
                "bank_code": p.bank_code,
                "account_no": p.account_no,
                "amount": p.amount,
                "status": status,
            }
            self.upload(report([bogus]), {"unknown": 1})

        @precondition(lambda self: self.last_report is not None)
        @rule()
        def same_file_again(self) -> None:
            assert self.last_report is not None
            r = env.upload(self.batch_id, self.last_report)
            assert r.status_code == 202
            assert r.json["duplicate_of"] is not None

        @precondition(lambda self: self.last_import is not None)
        @rule()
        def import_runs_again(self) -> None:
            """A redelivered import message: nothing happens twice."""
            with env.sessions.begin() as session:
                services.run_result_import(session, import_id=self.last_import, settings=env.settings)

        @rule()
        def next_file(self) -> None:
            self.send_file()

        @rule(data=st.data())
        def correct(self, data: st.DataObject) -> None:
            choices = [p for p in self.model.payees if p.state in ("pending", "failed", "reversed")]
            if not choices:
                return
            p = data.draw(st.sampled_from(choices))
            r = env.client().patch(
                f"/api/payment/lines/{p.id}/bank",
                json={"bank_code": p.bank_code, "account_name": p.account_name, "account_no": p.account_no},
                headers=env.headers(),
            )
            assert r.status_code == 200, r.json
            p.state = "pending"

        @rule(data=st.data())
        def close(self, data: st.DataObject) -> None:
            choices = [p for p in self.model.payees if p.state in ("pending", "failed", "reversed")]
            if not choices:
                return
            p = data.draw(st.sampled_from(choices))
            r = env.client().post(
                f"/api/payment/lines/{p.id}/close-failed", json={"reason": "ปิด"}, headers=env.headers()
            )
            assert r.status_code == 200, r.json
            p.state = "closed_failed"

        # -- invariants -------------------------------------------------------------------------
        @invariant()
        def totals_add_up(self) -> None:
            body = env.batch(self.batch_id)
            rec = body["reconciliation"]
            assert rec["balanced"] is True
            names = ("pending", "paid", "failed", "reversed", "exceptions_open")
            assert sum(rec[b]["count"] for b in names) == body["line_count"] == len(self.model.payees)
            assert sum(Decimal(rec[b]["amount"]) for b in names) == Decimal(body["total_amount"])
            want = self.model.buckets()
            assert {b: (rec[b]["count"], Decimal(rec[b]["amount"])) for b in names} == want
            assert [line["state"] for line in body["lines"]] == [p.state for p in self.model.payees]

        @invariant()
        def one_payout_reversed_per_reversed_transfer(self) -> None:
            """payout.reversed is published exactly when a paid transfer becomes reversed, once."""
            refs = {t.ref2 for t in self.model.transfers}
            sent = [p["ref2"] for p in env.events("payout.reversed") if p["ref2"] in refs]
            assert sorted(sent) == sorted(t.ref2 for t in self.model.transfers if t.outcome == "reversed")

        @invariant()
        def paid_at_most_once(self) -> None:
            with env.sessions() as s:
                per_payee = (
                    select(func.count().label("n"))
                    .select_from(FileLine)
                    .join(PayoutLine, PayoutLine.id == FileLine.line_id)
                    .where(PayoutLine.batch_id == self.batch_id, FileLine.outcome == "paid")
                    .group_by(FileLine.line_id)
                    .subquery()
                )
                worst = s.scalar(select(func.max(per_payee.c.n)))
                assert (worst or 0) <= 1
                imports = s.scalars(select(ResultImport).where(ResultImport.batch_id == self.batch_id)).all()
                for imp in imports:
                    c = imp.counts
                    if imp.duplicate_of is None and imp.status == "done":
                        parts = (
                            "applied",
                            "reversed",
                            "review",
                            "duplicates",
                            "contradictions",
                            "invalid_reversals",
                            "unknown",
                            "ambiguous",
                        )
                        assert sum(c[k] for k in parts) == c["lines"]  # P8

    run_state_machine_as_test(Reconciliation, settings=MACHINE_SETTINGS)
