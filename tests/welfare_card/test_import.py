"""Importing the participants list: line checks, all or nothing, idempotent re-import, corrections,
the participants_changed event (counts without national IDs), scopes and file refusals."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services.intake.welfare_card.models import Participant
from shared.audit import AuditEntry
from tests.intake.support import IntakeEnv
from tests.welfare_card.support import (
    central,
    csv_bytes,
    events_of,
    headers,
    import_list,
    nid,
    participant_count,
    row,
    upload,
    wrong_check_digit,
    xlsx_bytes,
)

pytestmark = [pytest.mark.integration]
THIRTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{13}(?![0-9])")


def people(env: IntakeEnv, ids: list[str]) -> dict[str, Participant]:
    with env.sessions() as s:
        return {
            p.national_id: p for p in s.scalars(select(Participant).where(Participant.national_id.in_(ids)))
        }


def counts_of(event: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int]]:
    return {
        (c["area_code"], c["agency"], c["group"]): (c["delta"], c["total"])
        for c in event["payload"]["counts"]
    }


def test_a_list_is_imported_and_counted(env: IntakeEnv, client: FlaskClient) -> None:
    rng = random.Random(1)
    ids = [nid(rng) for _ in range(6)]
    rows = [
        row(i, area="2401" if k < 4 else "2402", group="1" if k % 2 == 0 else "2") for k, i in enumerate(ids)
    ]
    before_events = len(events_of(env, "welfare_card.participants_changed"))

    result = import_list(env, client, csv_bytes(rows))

    assert result["status"] == "done"
    assert (result["lines"], result["accepted"], result["added"], result["updated"], result["unchanged"]) == (
        6,
        6,
        6,
        0,
        0,
    )
    assert result["rejected"] == []
    found = people(env, ids)
    assert len(found) == 6
    assert found[ids[0]].area_code == "2401"
    assert found[ids[0]].province_code == "24"
    assert found[ids[0]].agency == "cdd"
    assert found[ids[1]].group == "low_income"
    events = events_of(env, "welfare_card.participants_changed")
    assert len(events) == before_events + 1
    event = events[-1]
    assert event["payload"]["import_id"] == result["id"]
    assert (event["payload"]["added"], event["payload"]["updated"]) == (6, 0)
    got = counts_of(event)
    assert got[("2401", "cdd", "not_developed")][0] == 2
    assert got[("2401", "cdd", "low_income")][0] == 2
    assert got[("2402", "cdd", "not_developed")][0] == 1
    assert got[("2402", "cdd", "low_income")][0] == 1
    assert not THIRTEEN_DIGITS.search(str(event)), "no national ID in the event"
    with env.sessions() as s:
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "welfare_card.import_apply", AuditEntry.object_id == str(result["id"])
            )
        ).one()
        assert entry.after["added"] == 6


def test_reimporting_the_same_file_changes_nothing(env: IntakeEnv, client: FlaskClient) -> None:
    rng = random.Random(2)
    data = csv_bytes([row(nid(rng), area="2403") for _ in range(5)])
    import_list(env, client, data)
    with env.sessions() as s:
        stamps = {p.national_id: (p.updated_at, p.import_id) for p in s.scalars(select(Participant))}
    events = len(events_of(env, "welfare_card.participants_changed"))

    again = import_list(env, client, data)

    assert again["status"] == "done"
    assert (again["added"], again["updated"], again["unchanged"], again["accepted"]) == (0, 0, 5, 5)
    with env.sessions() as s:
        assert {p.national_id: (p.updated_at, p.import_id) for p in s.scalars(select(Participant))} == stamps
    assert len(events_of(env, "welfare_card.participants_changed")) == events, "no event for no change"


def test_a_corrected_file_changes_only_what_changed(env: IntakeEnv, client: FlaskClient) -> None:
    rng = random.Random(3)
    ids = [nid(rng) for _ in range(4)]
    first = import_list(env, client, csv_bytes([row(i, area="2404") for i in ids]))
    # correction: ids[0] moves to 2405, ids[1] gets a new last name, ids[2] unchanged, ids[3] to group 2,
    # and one new person
    new = nid(rng)
    corrected = [
        row(ids[0], area="2405"),
        row(ids[1], area="2404", last="ใจงาม"),
        row(ids[2], area="2404"),
        row(ids[3], area="2404", group="ผ่านการพัฒนาแล้ว แต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี"),
        row(new, area="2405"),
    ]
    second = import_list(env, client, csv_bytes(corrected))

    assert (second["added"], second["updated"], second["unchanged"]) == (1, 3, 1)
    found = people(env, [*ids, new])
    assert found[ids[0]].area_code == "2405"
    assert found[ids[1]].last_name == "ใจงาม"
    assert found[ids[2]].import_id == first["id"], "an unchanged line is not touched"
    assert found[ids[3]].group == "low_income"
    assert found[new].import_id == second["id"]
    event = events_of(env, "welfare_card.participants_changed")[-1]
    got = counts_of(event)
    # 2404/not_developed lost ids[0] (moved) and ids[3] (other group); the name change moves nothing
    assert got[("2404", "cdd", "not_developed")] == (-2, 2)
    assert got[("2405", "cdd", "not_developed")] == (2, 2)
    assert got[("2404", "cdd", "low_income")] == (1, 1)
    assert (event["payload"]["added"], event["payload"]["updated"], event["payload"]["unchanged"]) == (
        1,
        3,
        1,
    )


def test_a_file_with_bad_lines_keeps_nothing_and_names_every_line(
    env: IntakeEnv, client: FlaskClient
) -> None:
    rng = random.Random(4)
    good = [nid(rng) for _ in range(3)]
    dup = good[0]
    rows = [
        row(good[0]),  # line 2
        row(wrong_check_digit(good[1])),  # 3: check digit
        row(good[2], area="9999"),  # 4: unknown area
        row(nid(rng), area="1008"),  # 5: Bangkok, not Chachoengsao
        row(nid(rng), agency="ธนาคารออมสิน"),  # 6: another agency than the file's
        row(nid(rng), agency="กระทรวงการคลัง"),  # 7: no such agency
        row(nid(rng), group="3"),  # 8: no such group
        row(nid(rng), first=""),  # 9: no first name
        row(dup),  # 10: repeats line 2
        row("12345"),  # 11: not 13 digits
    ]
    before = participant_count(env)
    result = import_list(env, client, csv_bytes(rows))

    assert result["status"] == "rejected"
    assert result["accepted"] == 0
    assert participant_count(env) == before, "nothing of a rejected file is kept"
    by_line = {(e["line"], e["field"]) for e in result["rejected"]}
    assert by_line == {
        (3, "national_id"),
        (4, "area_code"),
        (5, "area_code"),
        (6, "agency"),
        (7, "agency"),
        (8, "group"),
        (9, "first_name"),
        (10, "national_id"),
        (11, "national_id"),
    }
    assert result["rejected_count"] == 9
    messages = {(e["line"], e["field"]): e["message"] for e in result["rejected"]}
    assert "เลขตรวจสอบ" in messages[(3, "national_id")]
    assert "บรรทัดที่ 2" in messages[(10, "national_id")]
    assert "ไม่รู้จักหน่วยงานพัฒนา" in messages[(7, "agency")]
    assert "ไม่รู้จักกลุ่ม" in messages[(8, "group")]
    assert "ไม่นำเข้า" in result["message"] or "ไม่ได้นำเข้า" in result["message"]
    job = client.get(f"/api/intake/jobs/{result['job_id']}", headers=central(env)).json
    assert job["status"] == "failed"
    assert job["result"]["rejected_count"] == 9


def test_xlsx_with_numbers_and_a_tis620_csv(env: IntakeEnv, client: FlaskClient) -> None:
    rng = random.Random(5)
    a, b = nid(rng), nid(rng)
    # Excel keeps a typed national ID as a number, and an area code too
    result = import_list(
        env, client, xlsx_bytes([(int(a), "นาย", "สมชาย", "ดีงาม", 2406, "พช.", 1)]), filename="list.xlsx"
    )
    assert (result["status"], result["kind"], result["added"]) == ("done", "xlsx", 1)
    spaced = f"{b[0]} {b[1:5]} {b[5:10]} {b[10:12]} {b[12]}"  # as printed on the card
    result = import_list(env, client, csv_bytes([row(spaced, area="2406")], encoding="cp874"))
    assert (result["status"], result["added"]) == ("done", 1)
    assert people(env, [b])[b].first_name == "สมศรี"


def test_names_are_kept_exactly_as_written(env: IntakeEnv, client: FlaskClient) -> None:
    person = nid(random.Random(7))
    odd = "ณัฐ\\ธิดา N"  # a backslash (COPY's escape character) and a trailing letter
    result = import_list(env, client, csv_bytes([row(person, area="2407", first=odd, title="")]))
    assert result["status"] == "done"
    found = people(env, [person])[person]
    assert (found.first_name, found.title) == (odd, None)


def test_a_file_without_the_columns_fails_with_a_message(env: IntakeEnv, client: FlaskClient) -> None:
    result = import_list(env, client, csv_bytes([("1", "2")], header=("ชื่อ", "นามสกุล")))
    assert result["status"] == "failed"
    assert "เลขประจำตัวประชาชน" in result["message"]


def test_uploads_that_are_refused_at_once(env: IntakeEnv, client: FlaskClient) -> None:
    h = central(env)
    r = upload(client, h, b"%PDF-1.4 not a list", filename="list.pdf")
    assert r.status_code == 415
    r = upload(client, h, b"   ")
    assert r.status_code == 400
    assert "file" in r.json["error"]["fields"]
    r = upload(client, h, b"x" * (3 * 1024 * 1024))  # the env's limit is 2 MB
    assert r.status_code == 413
    assert "MB" in r.json["error"]["message"]
    r = upload(client, h, csv_bytes([]), agency="xyz")
    assert r.status_code == 400
    assert "agency" in r.json["error"]["fields"]
    r = upload(client, headers(env.secret, "officer", district_code="1008"), csv_bytes([]))
    assert r.status_code == 403


def test_importers_are_kept_to_their_province_and_agency(env: IntakeEnv, client: FlaskClient) -> None:
    rng = random.Random(6)
    baac = headers(env.secret, "agency_recorder", agency="baac", province_code="24")
    secretariat = headers(env.secret, "provincial_secretariat", province_code="34")
    assert upload(client, baac, csv_bytes([row(nid(rng))]), agency="cdd").status_code == 403
    assert (
        upload(client, baac, csv_bytes([row(nid(rng))]), province_code="34", agency="baac").status_code == 403
    )
    assert upload(client, secretariat, csv_bytes([row(nid(rng))]), province_code="24").status_code == 403
    mine = upload(client, baac, csv_bytes([row(nid(rng), agency="ธ.ก.ส.", group="2")]), agency="baac")
    assert mine.status_code == 202
    # the uploader follows the job and the import; another province's secretariat does not see them
    assert client.get(f"/api/intake/jobs/{mine.json['job_id']}", headers=baac).status_code == 200
    assert client.get(f"/api/intake/jobs/{mine.json['job_id']}", headers=secretariat).status_code == 404
    path = f"/api/intake/welfare-card/imports/{mine.json['import_id']}"
    assert client.get(path, headers=baac).status_code == 200
    assert client.get(path, headers=secretariat).status_code == 404
    listed = client.get("/api/intake/welfare-card/imports", headers=baac).json
    assert {i["agency"] for i in listed["items"]} == {"baac"}
