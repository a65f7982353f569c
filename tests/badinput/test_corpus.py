"""The bad-input corpus against a live E-Case on PostgreSQL (reliability.md S4, S6, P12).

Every malformed request of tests/badinput/corpus.py goes to the gateway with a real token and
must be refused with 4xx, the CONTRACT's error shape, a Thai message and (where the entry says)
the field named; no 5xx, no stack trace.  A snapshot of every service database (each table's
rows, by checksum) and of the document store, taken before and after the whole corpus, must be
identical.  Result reports that only the import itself can judge are refused by the payment
worker: their own import record is all that changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from shared.testing.system import wait_for
from tests.badinput import corpus, runner
from tests.badinput.live import World, quiet_snapshot

pytestmark = [pytest.mark.e2e]

#: Tables an import refused by the worker may touch: its own record, its job, the audit of the
#: upload and the refusal, and payment's own message bookkeeping for the import request.
ASYNC_TOUCHES = {
    "payment.result_imports",
    "payment.jobs",
    "payment.audit_log",
    "payment.outbox_messages",
    "payment.processed_messages",
    "payment.message_attempts",
}


def _tokens(world: World) -> dict[str, str]:
    return {user: client.token for user, client in world.clients.items()}


def test_every_malformed_request_is_refused_and_changes_nothing(world: World) -> None:
    entries = corpus.build()
    assert len(entries) >= 150
    before = quiet_snapshot(world.system)
    outcomes = runner.run(world.base_url, _tokens(world), world.ids, entries)
    after = quiet_snapshot(world.system)
    failures = [f"{o.entry.name}: {'; '.join(o.problems)} :: {o.body[:300]}" for o in outcomes if o.problems]
    statuses: dict[int, int] = {}
    for o in outcomes:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    print(f"\nbad-input corpus: {len(entries)} requests, answers {dict(sorted(statuses.items()))},")
    print(
        f"{len(failures)} not refused as expected; tables compared: {sum(map(len, before.tables.values()))}"
    )
    assert not failures, "\n".join(failures)
    assert before.diff(after) == []


def test_reports_refused_by_the_import_change_nothing_but_their_own_record(world: World) -> None:
    finance = world.client("finance.1008")
    batch = world.ids["payout_batch_id"]
    uploads = corpus.async_uploads()
    before = quiet_snapshot(world.system)
    refused = []
    for upload in uploads:
        r = finance.call(
            "POST",
            f"/api/payment/batches/{batch}/results",
            files={"file": (upload.filename, upload.content, "text/csv")},
        )
        assert r.status_code == 202, f"{upload.name}: {r.status_code} {r.text[:300]}"
        accepted = r.json()
        assert accepted["duplicate_of"] is None, upload.name

        def finished(import_id: int = accepted["import_id"]) -> dict[str, Any] | None:
            body = finance.get(f"/api/payment/result-imports/{import_id}")
            return body if body["status"] != "queued" else None

        result = wait_for(finished, timeout=60, interval=0.2, what=upload.name)
        job = finance.get(f"/api/jobs/{accepted['job_id']}")
        refused.append((upload, result, job))
    after = quiet_snapshot(world.system)

    problems = []
    for upload, result, job in refused:
        if result["status"] != "rejected":
            problems.append(
                f"{upload.name}: {result['status']} {json.dumps(result, ensure_ascii=False)[:300]}"
            )
            continue
        if job["status"] != "failed" or job["error"]["code"] != upload.code:
            problems.append(
                f"{upload.name}: job {job['status']} {(job.get('error') or {}).get('code')}"
                f", expected {upload.code}"
            )
        messages = [result["error_message"], *(e["message"] for e in result["errors"])]
        if not all(runner.THAI.search(m or "") for m in messages):
            problems.append(f"{upload.name}: messages not in Thai: {messages}")
        if any(leak in json.dumps(result) for leak in runner.LEAKS):
            problems.append(f"{upload.name}: the answer shows internals")
    print(f"\nresult reports refused by the import: {len(refused) - len(problems)} of {len(uploads)}")
    assert not problems, "\n".join(problems)

    changed = {line.split(":")[0] for line in before.diff(after)}
    assert changed <= ASYNC_TOUCHES, sorted(changed - ASYNC_TOUCHES)
    engine = create_engine(world.system.database_url("payment"))
    try:
        with engine.connect() as conn:
            statuses = conn.execute(
                text("SELECT status, count(*) FROM result_imports WHERE id = ANY(:ids) GROUP BY status"),
                {"ids": [r["id"] for _, r, _ in refused]},
            ).all()
    finally:
        engine.dispose()
    assert dict(statuses) == {"rejected": len(uploads)}


def test_path_tricks_in_file_names_never_reach_the_file_system(world: World) -> None:
    """S6(e): accepted uploads are stored under server-made names; the user's name is only a label."""
    officer = world.client("officer.1008")
    case_id = world.ids["case_id"]
    root = world.system.data_dir
    before = {p for p in root.rglob("*") if p.is_file()}
    names = [
        "../../../../tmp/ecase-escape.pdf",
        "/etc/ecase-passwd.pdf",
        "..\\..\\windows\\evil.pdf",
        "a\x00b.pdf",
    ]
    for name in names:
        r = officer.call(
            "POST",
            f"/api/intake/cases/{case_id}/documents",
            files={"file": (name, corpus.f.PDF + name.encode("utf-8", "replace"), "application/pdf")},
            data={"kind": "financial"},
        )
        assert r.status_code in (201, 400), f"{name!r}: {r.status_code} {r.text[:300]}"
        if r.status_code == 400:
            assert runner.THAI.search(r.json()["error"]["message"])
            continue
        download = officer.call("GET", f"/api/intake/cases/{case_id}/documents/financial")
        assert download.status_code == 200
        assert download.content.endswith(name.encode("utf-8", "replace"))
        disposition = download.headers.get("Content-Disposition", "")
        assert disposition.startswith("attachment"), disposition
        assert ".." not in disposition, disposition
        assert "/" not in disposition.split("filename", 1)[-1], disposition
    new = {p for p in root.rglob("*") if p.is_file()} - before
    assert all(".." not in p.name and "evil" not in p.name and "passwd" not in p.name for p in new), new
    for escaped in ("/tmp/ecase-escape.pdf", "/etc/ecase-passwd.pdf"):
        assert not Path(escaped).exists(), escaped
