"""Reporting folds the welfare card measure's events into aggregate tables: delivered through the
platform inbox, idempotent, order-tolerant, rebuildable, and the summary's figures follow.

Every test runs on SQLite and on PostgreSQL (the ``system`` fixture of tests/reporting/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from services.reporting.welfare_card import services, summary
from services.reporting.welfare_card.models import (
    WC_TABLES,
    RptWcDaily,
    RptWcDevelopedTotal,
    RptWcDevelopment,
    RptWcDevelopmentTotal,
    RptWcFollowUp,
    RptWcFollowUpTotal,
    RptWcParticipantTotal,
)
from shared.testing.system import System
from tests.reporting import welfare_card_factories as f

pytestmark = [pytest.mark.integration]
AFTER_DEADLINE = dt.date(2019, 8, 1)
BEFORE_DEADLINE = dt.date(2019, 7, 1)


@pytest.fixture
def sessions(system: System) -> sessionmaker[Session]:
    """Write sessions on reporting's database, the measure's tables and the inbox emptied first."""
    factory = system.sessions("reporting", write=True)
    f.empty(factory)
    return factory


def figures(sessions: sessionmaker[Session], **kw: Any) -> dict[str, Any]:
    with sessions() as s:
        return summary.summary(s, today=kw.pop("today", AFTER_DEADLINE), **kw)


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


def test_a_province_phase_delivered_through_the_inbox_gives_the_summary(
    sessions: sessionmaker[Session],
) -> None:
    envs, _people = f.story()
    assert f.deliver(sessions, *envs) == ["applied"] * len(envs)
    data = figures(sessions)

    totals = data["totals"]
    assert {
        k: totals[k] for k in ("participants", "developed", "not_developed", "recorded", "not_recorded")
    } == {
        "participants": 6,
        "developed": 2,
        "not_developed": 4,
        "recorded": 4,
        "not_recorded": 2,
    }
    assert (totals["development_records"], totals["late_records"], totals["missing_records"]) == (5, 1, 2)
    assert totals["intents"] == 3
    assert totals["developed_percent"] == "33.33"

    areas = by(data["by_area"], "area_code")
    assert set(areas) == {"2401", "2402"}
    assert areas["2401"]["area_name"] == "อำเภอเมืองฉะเชิงเทรา"
    assert areas["2401"]["province_name"] == "ฉะเชิงเทรา"
    assert (
        areas["2401"]["participants"],
        areas["2401"]["developed"],
        areas["2401"]["development_records"],
    ) == (
        3,
        2,
        4,
    )
    assert (areas["2402"]["participants"], areas["2402"]["recorded"], areas["2402"]["missing_records"]) == (
        3,
        1,
        2,
    )
    assert by(data["by_province"], "province_code")["24"]["participants"] == 6

    agencies = by(data["by_agency"], "agency")
    assert agencies["cdd"]["participants"] == 3
    assert agencies["cdd"]["developed"] == 2
    assert agencies["moac"]["late_records"] == 1
    assert agencies["baac"]["agency_name"] == "ธ.ก.ส."
    assert agencies["gsb"]["intents"] == 1
    assert agencies[""]["intents"] == 1

    groups = by(data["by_group"], "group")
    assert groups["low_income"]["participants"] == 2
    assert groups["low_income"]["developed"] == 0
    assert groups["not_developed"]["group_name"] == "ผู้เข้าร่วมมาตรการฯ ที่ยังไม่ได้รับการพัฒนา"

    projects = by(data["by_project"], "project_id")
    assert projects[1]["records"] == 3  # a1, a2 (corrected to completed), b1
    assert (
        projects[1]["result_completed"],
        projects[1]["result_declined"],
        projects[1]["result_unreachable"],
    ) == (
        2,
        0,
        1,
    )
    assert projects[3]["project_kind_name"] == "โครงการเพิ่มเติมของจังหวัด"
    assert projects[3]["project_province_name"] == "ฉะเชิงเทรา"
    assert projects[2]["late_records"] == 1
    assert by(data["by_result"], "result")["completed"]["records"] == 3

    (june,) = data["follow_up_rounds"]
    assert (june["round"], june["round_name"]) == ("2019-06", "รอบเดือนมิถุนายน 2562")
    assert (june["participants"], june["followed_up"], june["coverage_percent"], june["missing"]) == (
        6,
        3,
        "50.00",
        3,
    )
    assert by(june["by_area"], "area_code")["2401"]["coverage_percent"] == "66.67"
    assert by(june["by_progress"], "progress")["income_above_threshold"]["participants"] == 1

    days = by(data["daily"], "date")
    assert days[dt.date(2019, 2, 1)]["participants"] == 6
    assert dt.date(2019, 2, 4) not in days  # the corrected file moved one person: no net change
    assert days[dt.date(2019, 6, 3)]["developments"] == 1  # a2's record counts on its first day only
    assert dt.date(2019, 6, 11) not in days  # the correction is not a new record
    assert days[dt.date(2019, 3, 3)]["intents"] == 2
    assert days[dt.date(2019, 6, 21)]["follow_ups"] == 1
    assert sum(d["developments"] for d in data["daily"]) == 5


def test_missing_records_are_counted_only_once_the_recording_deadline_has_passed(
    sessions: sessionmaker[Session],
) -> None:
    envs, _ = f.story()
    f.deliver(sessions, *envs)
    before = figures(sessions, today=BEFORE_DEADLINE)
    assert before["deadlines"]["development"] | {"passed": None} == {
        "phase": "development",
        "name": "การพัฒนาผู้เข้าร่วมมาตรการฯ",
        "due": dt.date(2019, 6, 30),
        "record_by": dt.date(2019, 7, 15),
        "passed": None,
    }
    assert before["deadlines"]["development"]["passed"] is False
    assert before["totals"]["missing_records"] == 0
    assert before["totals"]["not_recorded"] == 2
    assert before["follow_up_rounds"][0]["missing"] == 0
    after = figures(sessions, today=AFTER_DEADLINE)
    assert after["deadlines"]["development"]["passed"] is True
    assert after["totals"]["missing_records"] == 2


def test_the_deadline_in_force_comes_from_intakes_latest_event(sessions: sessionmaker[Session]) -> None:
    later = dt.date(2019, 8, 31)
    f.deliver(
        sessions,
        f.participants_changed(1, [f.count("2401", "cdd", "not_developed", 4, 4)], f.at(0)),
        f.participants_changed(2, [f.count("2401", "cdd", "not_developed", 1, 5)], f.at(1), record_by=later),
    )
    data = figures(sessions, today=dt.date(2019, 8, 1))
    assert data["deadlines"]["development"]["record_by"] == later
    assert data["totals"]["missing_records"] == 0  # not yet due under the extended deadline
    assert figures(sessions, today=dt.date(2019, 9, 1))["totals"]["missing_records"] == 5


def test_scoped_summaries_hold_only_their_area_and_agency(sessions: sessionmaker[Session]) -> None:
    envs, _ = f.story()
    f.deliver(
        sessions,
        *envs,
        f.participants_changed(9, [f.count("1008", "gsb", "not_developed", 7, 7)], f.at(5)),
        f.intent("1008", f.at(6)),
    )
    district = figures(sessions, province_code="24", area_code="2402")
    assert [a["area_code"] for a in district["by_area"]] == ["2402"]
    assert district["totals"]["participants"] == 3
    assert district["area_name"] == "อำเภอบางคล้า"
    assert [a["area_code"] for a in district["follow_up_rounds"][0]["by_area"]] == ["2402"]
    bangkok = figures(sessions, province_code="10")
    assert bangkok["totals"]["participants"] == 7
    assert bangkok["totals"]["intents"] == 1
    assert by(bangkok["by_area"], "area_code")["1008"]["area_name"] == "เขตป้อมปราบศัตรูพ่าย"
    cdd = figures(sessions, agency="cdd")
    assert cdd["totals"]["participants"] == 3
    assert cdd["totals"]["developed"] == 2
    assert {a["agency"] for a in cdd["by_agency"]} == {"cdd"}
    assert by(figures(sessions)["by_province"], "province_code").keys() == {"10", "24"}


def test_every_event_delivered_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    envs, _ = f.story()
    f.deliver(sessions, *envs)
    once = f.dump(sessions)
    assert f.deliver(sessions, *envs) == ["duplicate"] * len(envs)
    assert f.dump(sessions) == once
    # The handlers alone (a rebuild, or an inbox that lost its memory) are idempotent too.
    f.apply_directly(sessions, *envs)
    assert f.dump(sessions) == once


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_delivery_in_another_order_gives_the_same_tables(
    sessions: sessionmaker[Session], seed: int
) -> None:
    envs, _ = f.story()
    f.deliver(sessions, *envs)
    in_order = f.dump(sessions)
    f.empty(sessions)
    shuffled = envs[:]
    random.Random(seed).shuffle(shuffled)
    f.deliver(sessions, *shuffled)
    assert f.dump(sessions) == in_order


def test_an_older_import_delivered_late_does_not_overwrite_a_newer_total(
    sessions: sessionmaker[Session],
) -> None:
    newer = f.participants_changed(2, [f.count("2401", "cdd", "not_developed", -2, 3)], f.at(2))
    older = f.participants_changed(1, [f.count("2401", "cdd", "not_developed", 5, 5)], f.at(1))
    f.deliver(sessions, newer, older)
    with sessions() as s:
        row = s.get(RptWcParticipantTotal, ("24", "2401", "cdd", "not_developed"))
        assert row is not None
        assert (row.participants, row.import_id) == (3, 2)


def test_a_correction_moves_the_record_between_results_and_an_older_revision_is_ignored(
    sessions: sessionmaker[Session],
) -> None:
    person = f.participant("2401", "mol")
    first = f.development(person, f.at(120), project=1, result="declined", development_id=900)
    second = f.development(person, f.at(125), project=1, result="completed", development_id=900, revision=2)
    f.deliver(sessions, second, first)  # the correction arrives first
    with sessions() as s:
        row = s.get(RptWcDevelopment, 900)
        assert row is not None
        assert (row.revision, row.result) == (2, "completed")
        assert row.first_recorded_at == f.at(120)  # the day the record was first made
        totals = {r.result: r.records for r in s.scalars(select(RptWcDevelopmentTotal))}
        assert totals == {"completed": 1}
        developed = s.scalars(select(RptWcDevelopedTotal)).one()
        assert (developed.recorded, developed.developed) == (1, 1)
        days = {(r.kind, r.day): r.count for r in s.scalars(select(RptWcDaily))}
        assert days == {("developments", dt.date(2019, 6, 1)): 1}


def test_a_follow_up_correction_moves_the_participant_between_progress_values(
    sessions: sessionmaker[Session],
) -> None:
    person = f.participant("2401")
    f.deliver(
        sessions,
        f.follow_up(person, f.at(140), progress="no_progress", follow_up_id=50),
        f.follow_up(person, f.at(141), progress="progressing", follow_up_id=50, revision=2),
    )
    with sessions() as s:
        rows = {r.progress: r.participants for r in s.scalars(select(RptWcFollowUpTotal))}
    assert rows == {"progressing": 1}


def test_the_aggregates_equal_a_group_by_over_the_records(sessions: sessionmaker[Session]) -> None:
    envs, _ = f.story()
    extra = []
    rng = random.Random(7)
    people = [
        f.participant(rng.choice(["2401", "2402", "1008"]), rng.choice(["cdd", "gsb"])) for _ in range(12)
    ]
    for i, person in enumerate(people):
        dev_id = 10_000 + i
        extra.append(
            f.development(person, f.at(100 + i), project=rng.choice([1, 2, 3]), development_id=dev_id)
        )
        if rng.random() < 0.5:
            result = rng.choice(["not_completed", "declined", "completed"])
            extra.append(
                f.development(person, f.at(150 + i), result=result, development_id=dev_id, revision=2)
            )
        if rng.random() < 0.5:
            extra.append(
                f.follow_up(person, f.at(140 + i), progress=rng.choice(["progressing", "no_progress"]))
            )
    everything = envs + extra
    rng.shuffle(everything)
    f.deliver(sessions, *everything)
    with sessions() as s:
        d = RptWcDevelopment
        keys = (d.province_code, d.area_code, d.agency, d.group_code, d.project_id, d.result)
        late = func.sum(case((d.late, 1), else_=0))
        slow = {
            tuple(r[:6]): (r[6], int(r[7]))
            for r in s.execute(select(*keys, func.count(), late).group_by(*keys))
        }
        kept = {
            (r.province_code, r.area_code, r.agency, r.group_code, r.project_id, r.result): (
                r.records,
                r.late_records,
            )
            for r in s.scalars(select(RptWcDevelopmentTotal))
        }
        assert kept == slow
        records = s.scalars(select(d)).all()
        developed = s.scalars(select(RptWcDevelopedTotal)).all()
        assert sum(r.recorded for r in developed) == len({r.participant_id for r in records})
        assert sum(r.developed for r in developed) == len(
            {r.participant_id for r in records if r.result == "completed"}
        )
        fu = RptWcFollowUp
        fu_keys = (fu.province_code, fu.area_code, fu.agency, fu.group_code, fu.round, fu.progress)
        slow_fu = {tuple(r[:6]): r[6] for r in s.execute(select(*fu_keys, func.count()).group_by(*fu_keys))}
        kept_fu = {
            (r.province_code, r.area_code, r.agency, r.group_code, r.round, r.progress): r.participants
            for r in s.scalars(select(RptWcFollowUpTotal))
        }
        assert kept_fu == slow_fu
        daily = s.scalars(select(RptWcDaily).where(RptWcDaily.kind.in_(["developments", "follow_ups"]))).all()
        assert sum(r.count for r in daily if r.kind == "developments") == len(records)
        assert sum(r.count for r in daily if r.kind == "follow_ups") == len(s.scalars(select(fu)).all())


def test_rebuild_from_a_replay_gives_the_same_tables(sessions: sessionmaker[Session]) -> None:
    envs, _ = f.story()
    f.deliver(sessions, *envs)
    built = f.dump(sessions)
    unrelated = f.envelope("ops.probe", {"key": "x", "sent_at": f.at(0).isoformat()}, f.at(0))
    with sessions.begin() as s:
        counts = services.rebuild(s, [*envs, envs[0], unrelated])
    assert counts == {"applied": len(envs), "duplicates": 1, "ignored": 1}
    assert f.dump(sessions) == built


def test_no_table_holds_a_national_id_or_a_name(sessions: sessionmaker[Session]) -> None:
    envs, _ = f.story()
    f.deliver(sessions, *envs)
    columns = {c.name for model in WC_TABLES for c in model.__table__.columns}
    assert not columns & {"national_id", "first_name", "last_name", "title", "name_th", "phone"}
