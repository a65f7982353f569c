"""The short chaos run in the suite: 200 events and one fault of each kind, then the money path.

The full run is ``make chaos`` (1,000 events, a pool process killed every 2–5 s; figures in
docs/reliability.md "Faults").  Real processes, a real Redis (this test's own, restarted without
persistence) and real PostgreSQL databases; nothing is mocked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.chaos import events
from tests.chaos.run import ARTIFACTS, Profile, run, summary

pytestmark = [pytest.mark.e2e]
SEED = 20261122  # fixed in CI (reliability.md §6.2); `python -m tests.chaos.run --seed` replays any run


@pytest.mark.timeout(600)
def test_faults_lose_nothing_duplicate_no_effect_and_pay_no_one_twice(tmp_path: Path) -> None:
    profile = Profile.make(200, None, short=True)
    try:
        outcome = run(profile, SEED, tmp_path)
    except BaseException:
        shutil.copytree(tmp_path / "system" / "logs", ARTIFACTS / "pytest-logs", dirs_exist_ok=True)
        raise
    report = summary(outcome)
    print(report)
    if outcome.problems:
        shutil.copytree(tmp_path / "system" / "logs", ARTIFACTS / "pytest-logs", dirs_exist_ok=True)
    assert outcome.problems == [], report
    ev = outcome.events
    # Every kind of fault happened (the schedule really ran), and the guarantees were checked
    # through the operator's API for every key.
    kinds = {f["kind"] for f in ev["faults"]}
    assert kinds == {
        "pool child SIGKILL",
        "worker main SIGKILL",
        "Redis restart (nosave)",
        "PostgreSQL connections terminated",
        "relay SIGKILL",
    }
    assert ev["applied"] == 200
    assert not ev["lost"]
    assert not ev["duplicated"]
    assert ev["poison_dead_letter"]["attempts"] == profile.max_attempts
    assert events.POISON_ERROR in ev["poison_dead_letter"]["last_error"]
    # The faults cost something that the inbox had to absorb or redo: the test can fail.
    assert ev["redeliveries_absorbed"] + ev["events_attempted_more_than_once"] > 0
    assert all(step.get("landed", True) for step in outcome.money["steps"])
