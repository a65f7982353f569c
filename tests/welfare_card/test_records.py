"""Participants by scope, projects, development results, follow-ups, registration places and intents:
roles, scopes, corrections, deadlines, audit and the events reporting builds on."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from services.intake.welfare_card.config import EXTENSION_KEY, load_settings
from shared.audit import AuditEntry
from tests.intake.support import IntakeEnv
from tests.welfare_card.support import central, csv_bytes, events_of, headers, import_list, nid, row

pytestmark = [pytest.mark.integration]
WC = "/api/intake/welfare-card"
THIRTEEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{13}(?![0-9])")
TODAY = dt.date.today().isoformat()


@pytest.fixture(scope="module")
def people(env: IntakeEnv) -> dict[str, Any]:
    """Participants: two in 2401 (cdd), one in 2402 (baac, group 2), one in Bangkok 1008 (gsb)."""
    rng = random.Random(20)
    client = env.app.test_client()
    ids = {"cdd_2401": nid(rng), "cdd2_2401": nid(rng), "baac_2402": nid(rng), "gsb_1008": nid(rng)}
    import_list(env, client, csv_bytes([row(ids["cdd_2401"]), row(ids["cdd2_2401"])]))
    import_list(
        env,
        client,
        csv_bytes([row(ids["baac_2402"], area="2402", agency="ธ.ก.ส.", group="2")]),
        agency="baac",
    )
    import_list(
        env,
        client,
        csv_bytes([row(ids["gsb_1008"], area="1008", agency="ธนาคารออมสิน")]),
        province_code="10",
        agency="gsb",
    )
    return ids


def h(env: IntakeEnv, role: str, **scope: str) -> dict[str, str]:
    return headers(env.secret, role, **scope)


def participant_reads(env: IntakeEnv) -> list[AuditEntry]:
    with env.sessions() as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "welfare_card.participant_read")
                .order_by(AuditEntry.seq)
            )
        )


def test_participants_are_listed_within_each_scope(
    env: IntakeEnv, client: FlaskClient, people: dict[str, Any]
) -> None:
    def listed(hdr: dict[str, str], **params: str) -> set[str]:
        r = client.get(f"{WC}/participants", headers=hdr, query_string={"per_page": 500, **params})
        assert r.status_code == 200, r.json
        for item in r.json["items"]:
            assert "national_id" not in item
            assert item["national_id_masked"].startswith("x-xxxx")
        return {i["area_code"] + "/" + i["agency"] for i in r.json["items"]}

    assert listed(h(env, "district_team", district_code="2401")) == {"2401/cdd"}
    assert listed(h(env, "agency_recorder", agency="baac")) == {"2402/baac"}
    assert "2401/cdd" in listed(h(env, "provincial_secretariat", province_code="24"))
    assert "1008/gsb" not in listed(h(env, "provincial_secretariat", province_code="24"))
    assert listed(h(env, "officer", district_code="1008")) == {"1008/gsb"}
    assert listed(central(env), area_code="2402", group="low_income") == {"2402/baac"}
    one = client.get(f"{WC}/participants", headers=central(env), query_string={"q": people["gsb_1008"]}).json
    assert one["total"] == 1
    # one participant in full; outside the scope it does not exist
    path = f"{WC}/participants/{people['cdd_2401']}"
    reads_before = len(participant_reads(env))
    assert (
        client.get(path, headers=h(env, "district_team", district_code="2401")).json["national_id"]
        == people["cdd_2401"]
    )
    assert client.get(path, headers=h(env, "district_team", district_code="2402")).status_code == 404
    assert client.get(path, headers=h(env, "agency_recorder", agency="baac")).status_code == 404
    # The full record shows the national ID: each read is audited (the ID itself is not logged);
    # the two refused reads above wrote nothing.
    reads = participant_reads(env)[reads_before:]
    assert [(a.actor, a.role, a.district_code, a.fields) for a in reads] == [
        ("district_team.2401", "district_team", "2401", ["national_id"])
    ]
    assert people["cdd_2401"] not in repr([(a.object_id, a.before, a.after) for a in reads])
    bad = people["cdd_2401"][:12] + str((int(people["cdd_2401"][12]) + 1) % 10)
    assert client.get(f"{WC}/participants/{bad}", headers=central(env)).status_code == 400
    assert (
        client.get(f"{WC}/participants", headers=h(env, "finance", district_code="1008")).status_code == 403
    )


def test_agency_records_results_of_its_projects_for_its_participants(
    env: IntakeEnv, client: FlaskClient, people: dict[str, Any]
) -> None:
    cdd = h(env, "agency_recorder", agency="cdd")
    project = client.post(f"{WC}/projects", headers=cdd, json={"name_th": "ฝึกอาชีพการทำขนมไทย"})
    assert project.status_code == 201, project.json
    assert (project.json["kind"], project.json["agency"]) == ("agency", "cdd")
    assert (
        client.post(f"{WC}/projects", headers=cdd, json={"name_th": "ฝึกอาชีพการทำขนมไทย"}).status_code == 409
    )
    pid = project.json["id"]
    body = {"project": pid, "result": "completed", "recorded_on": "2019-06-20"}

    first = client.post(f"{WC}/participants/{people['cdd_2401']}/developments", headers=cdd, json=body)
    assert first.status_code == 201, first.json
    assert (first.json["revision"], first.json["result"]) == (1, "completed")
    assert first.json["late"] is True  # recorded today, long after 15 Jul 2562
    corrected = client.post(
        f"{WC}/participants/{people['cdd_2401']}/developments",
        headers=cdd,
        json={**body, "result": "not_completed", "note": "ไม่จบหลักสูตร"},
    )
    assert corrected.status_code == 200
    assert (corrected.json["id"], corrected.json["revision"]) == (first.json["id"], 2)

    # another agency's participant, another agency's recorder: 404 / 403
    r = client.post(f"{WC}/participants/{people['baac_2402']}/developments", headers=cdd, json=body)
    assert r.status_code == 404
    baac = h(env, "agency_recorder", agency="baac")
    r = client.post(f"{WC}/participants/{people['baac_2402']}/developments", headers=baac, json=body)
    assert r.status_code == 403
    assert "project" in r.json["error"]["fields"]
    # syntax: unknown result, a date in the future
    r = client.post(
        f"{WC}/participants/{people['cdd_2401']}/developments", headers=cdd, json={**body, "result": "x"}
    )
    assert r.status_code == 400
    assert "result" in r.json["error"]["fields"]
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    r = client.post(
        f"{WC}/participants/{people['cdd_2401']}/developments",
        headers=cdd,
        json={**body, "recorded_on": tomorrow},
    )
    assert r.status_code == 400
    assert "recorded_on" in r.json["error"]["fields"]

    events = [
        e
        for e in events_of(env, "welfare_card.development_recorded")
        if e["payload"]["development_id"] == first.json["id"]
    ]
    assert [e["payload"]["revision"] for e in events] == [1, 2]
    payload = events[-1]["payload"]
    assert (payload["result"], payload["project_kind"], payload["area_code"], payload["late"]) == (
        "not_completed",
        "agency",
        "2401",
        True,
    )
    assert payload["record_by"] == "2019-07-15"
    assert not THIRTEEN_DIGITS.search(str(events))
    with env.sessions() as s:
        audits = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "welfare_card.development_record")
        ).all()
        assert any(
            a.before and a.before["result"] == "completed" and a.after["result"] == "not_completed"
            for a in audits
        )


def test_the_secretariat_records_results_of_additional_provincial_projects(
    env: IntakeEnv, client: FlaskClient, people: dict[str, Any]
) -> None:
    sec = h(env, "provincial_secretariat", province_code="24")
    project = client.post(
        f"{WC}/projects", headers=sec, json={"name_th": "โครงการเพิ่มเติมของจังหวัด: ปลูกผักปลอดสาร"}
    )
    assert project.status_code == 201
    assert (project.json["kind"], project.json["province_code"]) == ("provincial", "24")
    body = {"project": project.json["id"], "result": "completed", "recorded_on": "2019-06-25"}
    r = client.post(f"{WC}/participants/{people['baac_2402']}/developments", headers=sec, json=body)
    assert r.status_code == 201, r.json
    # not in another province, and not an agency's project
    other = h(env, "provincial_secretariat", province_code="10")
    assert (
        client.post(
            f"{WC}/participants/{people['gsb_1008']}/developments", headers=other, json=body
        ).status_code
        == 403
    )
    agency_project = client.get(f"{WC}/projects", headers=sec, query_string={"kind": "agency"}).json[0]["id"]
    r = client.post(
        f"{WC}/participants/{people['baac_2402']}/developments",
        headers=sec,
        json={**body, "project": agency_project},
    )
    assert r.status_code == 403


def test_deadlines_come_from_configuration(
    env: IntakeEnv, client: FlaskClient, people: dict[str, Any]
) -> None:
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    saved = env.app.extensions.get(EXTENSION_KEY)
    env.app.extensions[EXTENSION_KEY] = load_settings(
        {
            "phases": {"development": {"due": later, "record_by": later}},
            "rounds": {"2099-01": {"name_th": "รอบทดสอบ", "due": later, "record_by": later}},
        }
    )
    try:
        phases = client.get(f"{WC}/phases", headers=central(env)).json
        assert {p["code"]: p["record_by"] for p in phases["phases"]}["development"] == later
        sec = h(env, "provincial_secretariat", province_code="24")
        pid = client.get(
            f"{WC}/projects", headers=sec, query_string={"kind": "provincial", "province_code": "24"}
        ).json[0]["id"]
        r = client.post(
            f"{WC}/participants/{people['cdd2_2401']}/developments",
            headers=sec,
            json={"project": pid, "result": "completed", "recorded_on": TODAY},
        )
        assert r.status_code == 201
        assert r.json["late"] is False
        team = h(env, "district_team", district_code="2401")
        r = client.post(
            f"{WC}/participants/{people['cdd2_2401']}/follow-ups",
            headers=team,
            json={"round": "2099-01", "progress": "progressing", "recorded_on": TODAY},
        )
        assert r.status_code == 201
        assert r.json["late"] is False
    finally:
        env.app.extensions[EXTENSION_KEY] = saved


def test_district_teams_record_the_june_2562_follow_up(
    env: IntakeEnv, client: FlaskClient, people: dict[str, Any]
) -> None:
    team = h(env, "district_team", district_code="2401")
    path = f"{WC}/participants/{people['cdd_2401']}/follow-ups"
    body = {"round": "2019-06", "progress": "no_progress", "recorded_on": "2019-06-28"}
    first = client.post(path, headers=team, json=body)
    assert first.status_code == 201, first.json
    again = client.post(path, headers=team, json={**body, "progress": "income_above_threshold"})
    assert again.status_code == 200
    assert (again.json["id"], again.json["revision"], again.json["progress"]) == (
        first.json["id"],
        2,
        "income_above_threshold",
    )
    r = client.post(path, headers=team, json={**body, "round": "2020-01"})
    assert r.status_code == 400
    assert "round" in r.json["error"]["fields"]
    assert (
        client.post(path, headers=h(env, "district_team", district_code="2402"), json=body).status_code == 404
    )
    assert client.post(path, headers=h(env, "agency_recorder", agency="cdd"), json=body).status_code == 403
    detail = client.get(f"{WC}/participants/{people['cdd_2401']}", headers=team).json
    assert [f["round"] for f in detail["follow_ups"]] == ["2019-06"]
    assert detail["developments"][0]["project"]["name_th"] == "ฝึกอาชีพการทำขนมไทย"
    payload = events_of(env, "welfare_card.follow_up_recorded")[-1]["payload"]
    assert (payload["round"], payload["progress"], payload["revision"], payload["participant_id"]) == (
        "2019-06",
        "income_above_threshold",
        2,
        detail["participant_id"],
    )


def test_registration_places_per_district(env: IntakeEnv, client: FlaskClient) -> None:
    team = h(env, "district_team", district_code="2401")
    r = client.post(f"{WC}/registration-places", headers=team, json={"name": "ที่ว่าการอำเภอเมืองฉะเชิงเทรา"})
    assert r.status_code == 201, r.json
    assert (r.json["area_code"], r.json["province_code"]) == ("2401", "24")
    place_id = r.json["id"]
    r = client.post(f"{WC}/registration-places", headers=team, json={"area_code": "2402", "name": "อื่น"})
    assert r.status_code == 403
    r = client.post(f"{WC}/registration-places", headers=team, json={"name": "  "})
    assert r.status_code == 400
    sec = h(env, "provincial_secretariat", province_code="24")
    assert (
        client.post(
            f"{WC}/registration-places", headers=sec, json={"area_code": "2402", "name": "ที่ว่าการอำเภอบางคล้า"}
        ).status_code
        == 201
    )
    listed = client.get(f"{WC}/registration-places", headers=team, query_string={"area_code": "2401"}).json
    assert [p["name"] for p in listed] == ["ที่ว่าการอำเภอเมืองฉะเชิงเทรา"]
    assert listed[0]["area_name_th"] == "อำเภอเมืองฉะเชิงเทรา"
    r = client.patch(f"{WC}/registration-places/{place_id}", headers=team, json={"active": False})
    assert r.status_code == 200
    assert (
        client.get(f"{WC}/registration-places", headers=team, query_string={"area_code": "2401"}).json == []
    )
    client.patch(f"{WC}/registration-places/{place_id}", headers=team, json={"active": True})
    other = h(env, "district_team", district_code="2402")
    assert (
        client.patch(
            f"{WC}/registration-places/{place_id}", headers=other, json={"active": False}
        ).status_code
        == 404
    )


def test_intents_are_recorded_once_in_the_callers_district(env: IntakeEnv, client: FlaskClient) -> None:
    officer = h(env, "officer", district_code="1008")
    place = client.post(
        f"{WC}/registration-places",
        headers=central(env),
        json={"area_code": "1008", "name": "สำนักงานเขตป้อมปราบศัตรูพ่าย"},
    ).json["id"]
    person = nid(random.Random(30))
    body = {
        "national_id": person,
        "first_name": "สมหมาย",
        "last_name": "รักดี",
        "agency": "gsb",
        "place_id": place,
        "registered_on": "2019-03-04",
    }
    r = client.post(f"{WC}/intents", headers=officer, json=body)
    assert r.status_code == 201, r.json
    assert (r.json["area_code"], r.json["province_code"], r.json["national_id"]) == ("1008", "10", person)
    again = client.post(f"{WC}/intents", headers=officer, json=body)
    assert again.status_code == 409
    wrong_place = client.post(
        f"{WC}/intents",
        headers=h(env, "district_team", district_code="2401"),
        json={**body, "national_id": nid()},
    )
    assert wrong_place.status_code == 400
    assert "place_id" in wrong_place.json["error"]["fields"]
    bad_id = client.post(f"{WC}/intents", headers=officer, json={**body, "national_id": person[:12] + "x"})
    assert bad_id.status_code == 400
    listed = client.get(f"{WC}/intents", headers=officer).json
    assert listed["total"] == 1
    assert "national_id" not in listed["items"][0]
    assert client.get(f"{WC}/intents", headers=h(env, "officer", district_code="1001")).json["total"] == 0
    payload = events_of(env, "welfare_card.intent_registered")[-1]["payload"]
    assert (payload["area_code"], payload["agency"], payload["place_id"], payload["registered_on"]) == (
        "1008",
        "gsb",
        place,
        "2019-03-04",
    )
    assert person not in str(payload)


def test_reference_data_all_of_thailand(env: IntakeEnv, client: FlaskClient) -> None:
    provinces = client.get(f"{WC}/provinces", headers=central(env)).json
    assert len(provinces) == 77
    areas = client.get(f"{WC}/areas", headers=central(env)).json
    assert len(areas) == 928
    bangkok = client.get(f"{WC}/areas", headers=central(env), query_string={"province_code": "10"}).json
    assert [a["code"] for a in bangkok] == [f"10{n:02d}" for n in range(1, 51)]
    assert bangkok[7]["full_name_th"] == "เขตป้อมปราบศัตรูพ่าย"
    vocab = client.get(f"{WC}/vocabulary", headers=central(env)).json
    assert [a["name_th"] for a in vocab["agencies"]] == [
        "กระทรวงเกษตรและสหกรณ์",
        "กระทรวงแรงงาน",
        "กระทรวงพาณิชย์",
        "กรมการพัฒนาชุมชน",
        "ธ.ก.ส.",
        "ธนาคารออมสิน",
    ]
