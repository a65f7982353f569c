"""The measure's records: participants, projects, development results, follow-ups, registration
places, intents and the public self-check.

Each function takes the caller's session, flushes but never commits, audits every change and
publishes the ``welfare_card.*`` events (no national ID in them) through the outbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.intake.welfare_card import domain
from services.intake.welfare_card.config import WelfareCardSettings
from services.intake.welfare_card.domain import Conflict, Forbidden, NotFound, WelfareCardError
from services.intake.welfare_card.models import (
    Area,
    Development,
    FollowUp,
    Intent,
    Participant,
    Project,
    Province,
    RegistrationPlace,
)
from services.intake.welfare_card.scope import WcActor
from shared import areas as thai_areas
from shared import audit, messaging
from shared.db import utcnow
from shared.thai import is_valid_national_id, mask_national_id, parse_national_id

PRODUCER = "intake"
NOT_A_PARTICIPANT = "ไม่พบผู้เข้าร่วมมาตรการรายนี้ในพื้นที่ที่ท่านรับผิดชอบ"


# --- reference data ------------------------------------------------------------------------------
def load_areas(session: Session) -> int:
    """Insert the provinces and districts of Thailand that are missing (idempotent); return how many."""
    known_provinces = set(session.scalars(select(Province.code)))
    known_areas = set(session.scalars(select(Area.code)))
    added = 0
    for p in thai_areas.provinces():
        if p.code not in known_provinces:
            session.add(Province(code=p.code, name_th=p.name_th, name_en=p.name_en))
            added += 1
    session.flush()
    for p in thai_areas.provinces():
        for a in thai_areas.districts_of(p.code):
            if a.code not in known_areas:
                session.add(Area(code=a.code, province_code=p.code, name_th=a.name_th, name_en=a.name_en))
                added += 1
    session.flush()
    return added


def area_view(area: Area | thai_areas.Area) -> dict[str, Any]:
    """An area as the API answers it."""
    kind = "เขต" if area.province_code == thai_areas.BANGKOK else "อำเภอ"
    return {
        "code": area.code,
        "province_code": area.province_code,
        "name_th": area.name_th,
        "name_en": area.name_en,
        "kind_th": kind,
        "full_name_th": f"{kind}{area.name_th}",
    }


def _area(session: Session, code: str, field: str = "area_code") -> Area:
    area = session.get(Area, code) if isinstance(code, str) else None
    if area is None:
        raise WelfareCardError(f"ไม่พบรหัสเขต/อำเภอ {code}", field=field, code="unknown_area")
    return area


# --- participants --------------------------------------------------------------------------------
def _participant(session: Session, national_id: str, actor: WcActor, *, lock: bool = False) -> Participant:
    """The participant with this national ID within the caller's scope.

    :raises shared.errors.ValidationError: not a valid national ID (check digit first).
    :raises NotFound: unknown, or outside the caller's scope.
    """
    parse_national_id(national_id)
    stmt = select(Participant).where(Participant.national_id == national_id)
    if lock:
        stmt = stmt.with_for_update()
    found = session.scalars(stmt).first()
    if found is None or not actor.can_see_area(found.area_code, found.agency):
        raise NotFound(NOT_A_PARTICIPANT)
    return found


def participant_ref(p: Participant) -> dict[str, Any]:
    """What the events say of a participant (no national ID, no name)."""
    return {
        "participant_id": str(p.id),
        "province_code": p.province_code,
        "area_code": p.area_code,
        "agency": p.agency,
        "group": p.group,
    }


def participant_view(p: Participant, *, masked: bool = True) -> dict[str, Any]:
    """A participant in a list (masked national ID) or alone (in full: the caller typed it)."""
    view = {
        "participant_id": str(p.id),
        "national_id_masked": mask_national_id(p.national_id),
        "title": p.title,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "province_code": p.province_code,
        "area_code": p.area_code,
        "agency": p.agency,
        "group": p.group,
        "import_id": p.import_id,
        "updated_at": p.updated_at,
    }
    if not masked:
        view["national_id"] = p.national_id
    return view


def find_participants(
    session: Session, actor: WcActor, filters: Mapping[str, Any], *, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """Participants within the caller's scope, by area, agency, group or province; newest first."""
    stmt = actor.filter_participants(select(Participant))
    for name, column in (
        ("area_code", Participant.area_code),
        ("agency", Participant.agency),
        ("group", Participant.group),
        ("province_code", Participant.province_code),
    ):
        if filters.get(name):
            stmt = stmt.where(column == filters[name])
    query = (filters.get("q") or "").strip()
    if query:
        if is_valid_national_id(query):
            stmt = stmt.where(Participant.national_id == query)
        else:
            stmt = stmt.where(
                (Participant.first_name == query) | (Participant.last_name == query)
            )  # exact: a prefix search over millions of names needs an index of its own
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Participant.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [participant_view(p) for p in rows], total


def participant_detail(session: Session, national_id: str, actor: WcActor) -> dict[str, Any]:
    """A participant with their development results and follow-ups.

    The answer shows the national ID in full, so every read is audited (as intake's case detail:
    reliability D1/D3); the caller commits ``session``.
    """
    p = _participant(session, national_id, actor)
    _audit(
        session,
        actor,
        "welfare_card.participant_read",
        "welfare_card_participant",
        p.id,
        p.area_code,
        fields=("national_id",),
    )
    developments = session.execute(
        select(Development, Project)
        .join(Project, Project.id == Development.project_id)
        .where(Development.participant_id == p.id)
        .order_by(Development.recorded_on, Development.id)
    ).all()
    follow_ups = session.scalars(
        select(FollowUp).where(FollowUp.participant_id == p.id).order_by(FollowUp.round)
    ).all()
    return {
        **participant_view(p, masked=False),
        "developments": [development_view(d, pr) for d, pr in developments],
        "follow_ups": [follow_up_view(f) for f in follow_ups],
    }


# --- projects ---------------------------------------------------------------------------------------
def project_view(p: Project) -> dict[str, Any]:
    """A project as the API answers it."""
    return {
        "id": p.id,
        "kind": p.kind,
        "agency": p.agency,
        "province_code": p.province_code,
        "name_th": p.name_th,
        "active": p.active,
    }


def list_projects(session: Session, actor: WcActor, filters: Mapping[str, Any]) -> list[Project]:
    """Projects, filtered by kind, agency or province; an agency recorder sees their agency's."""
    stmt = select(Project)
    if actor.role == "agency_recorder":
        stmt = stmt.where(Project.agency == actor.agency)
    for name, column in (
        ("kind", Project.kind),
        ("agency", Project.agency),
        ("province_code", Project.province_code),
    ):
        if filters.get(name):
            stmt = stmt.where(column == filters[name])
    if filters.get("active") is not None:
        stmt = stmt.where(Project.active.is_(filters["active"]))
    return list(session.scalars(stmt.order_by(Project.kind, Project.name_th, Project.id)))


def create_project(session: Session, actor: WcActor, data: Mapping[str, Any]) -> Project:
    """Add a project: an agency recorder's for their agency, a secretariat's for their province.

    :raises Forbidden: another agency's or province's project.
    :raises Conflict: the same project exists already.
    """
    kind, agency, province = data.get("kind"), data.get("agency"), data.get("province_code")
    if actor.role == "agency_recorder":
        kind, agency, province = "agency", actor.agency, data.get("province_code") or actor.province_code
        if actor.province_code and province != actor.province_code:
            raise Forbidden("ท่านเพิ่มโครงการได้เฉพาะจังหวัดของท่าน", field="province_code")
    elif actor.role == "provincial_secretariat":
        kind, province = "provincial", actor.province_code
    if kind not in ("agency", "provincial"):
        raise WelfareCardError("กรุณาระบุประเภทโครงการ (agency หรือ provincial)", field="kind")
    if kind == "agency" and not agency:
        raise WelfareCardError("โครงการของหน่วยงานพัฒนาต้องระบุหน่วยงาน", field="agency")
    if kind == "provincial" and not province:
        raise WelfareCardError("โครงการเพิ่มเติมของจังหวัดต้องระบุจังหวัด", field="province_code")
    if province and thai_areas.get_province(province) is None:
        raise WelfareCardError(f"ไม่พบจังหวัดรหัส {province}", field="province_code")
    name = " ".join(str(data["name_th"]).split())
    existing = session.scalars(
        select(Project).where(
            Project.kind == kind,
            Project.agency.is_(agency) if agency is None else Project.agency == agency,
            Project.province_code.is_(province) if province is None else Project.province_code == province,
            Project.name_th == name,
        )
    ).first()
    if existing is not None:
        raise Conflict(f"มีโครงการนี้แล้ว (รหัส {existing.id})", field="name_th", code="duplicate_project")
    project = Project(
        kind=kind, agency=agency, province_code=province, name_th=name, active=True, created_by=actor.username
    )
    session.add(project)
    session.flush()
    _audit(
        session,
        actor,
        "welfare_card.project_create",
        "welfare_card_project",
        project.id,
        province,
        after=project_view(project),
    )
    return project


def _project_for(session: Session, actor: WcActor, project_id: int, participant: Participant) -> Project:
    project = session.get(Project, project_id)
    if project is None or not project.active:
        raise WelfareCardError(f"ไม่พบโครงการรหัส {project_id}", field="project", code="unknown_project")
    if actor.role == "agency_recorder" and (project.kind != "agency" or project.agency != actor.agency):
        raise Forbidden("ท่านบันทึกผลได้เฉพาะโครงการของหน่วยงานของท่าน", field="project")
    if actor.role == "provincial_secretariat" and (
        project.kind != "provincial" or project.province_code != actor.province_code
    ):
        raise Forbidden("ฝ่ายเลขานุการ คอจ. บันทึกผลได้เฉพาะโครงการเพิ่มเติมของจังหวัด", field="project")
    if project.province_code and project.province_code != participant.province_code:
        raise WelfareCardError("โครงการนี้เป็นของจังหวัดอื่น", field="project", code="other_province_project")
    return project


# --- development results ----------------------------------------------------------------------------
def development_view(d: Development, project: Project) -> dict[str, Any]:
    """A development result with its project."""
    return {
        "id": d.id,
        "project": project_view(project),
        "result": d.result,
        "recorded_on": d.recorded_on,
        "note": d.note,
        "revision": d.revision,
        "late": d.late,
        "recorded_by": d.recorded_by,
        "recorded_by_role": d.recorded_by_role,
        "recorded_at": d.recorded_at,
    }


def record_development(
    session: Session,
    actor: WcActor,
    national_id: str,
    data: Mapping[str, Any],
    settings: WelfareCardSettings,
) -> tuple[Development, Project, bool]:
    """Record (or correct) a project's result for a participant; return (record, project, created).

    :raises NotFound: not a participant the caller develops.
    :raises Forbidden: another agency's or province's project.
    """
    p = _participant(session, national_id, actor, lock=True)
    project = _project_for(session, actor, data["project"], p)
    now = utcnow()
    domain.check_recorded_on(data["recorded_on"], now)
    record_by = settings.development.record_by
    row = session.scalars(
        select(Development).where(Development.participant_id == p.id, Development.project_id == project.id)
    ).first()
    created = row is None
    before = None
    if row is None:
        row = Development(participant_id=p.id, project_id=project.id, revision=1)
        session.add(row)
    else:
        before = {"result": row.result, "recorded_on": row.recorded_on.isoformat(), "note": row.note}
        row.revision += 1
    row.result = data["result"]
    row.recorded_on = data["recorded_on"]
    row.note = data.get("note")
    row.recorded_by = actor.username
    row.recorded_by_role = actor.role
    row.recorded_at = now
    row.late = domain.is_late(now, record_by)
    session.flush()
    after = {
        "result": row.result,
        "recorded_on": row.recorded_on.isoformat(),
        "note": row.note,
        "project_id": project.id,
        "revision": row.revision,
    }
    _audit(
        session,
        actor,
        "welfare_card.development_record",
        "welfare_card_participant",
        p.id,
        p.area_code,
        before=before,
        after=after,
    )
    messaging.publish(
        session,
        "welfare_card.development_recorded",
        {
            **participant_ref(p),
            "development_id": row.id,
            "revision": row.revision,
            "project_id": project.id,
            "project_name": project.name_th,
            "project_kind": project.kind,
            "project_agency": project.agency,
            "project_province_code": project.province_code,
            "result": row.result,
            "recorded_on": row.recorded_on.isoformat(),
            "recorded_at": now.isoformat(),
            "recorded_by_role": actor.role,
            "record_by": record_by.isoformat() if record_by else None,
            "late": row.late,
        },
        producer=PRODUCER,
    )
    return row, project, created


# --- follow-ups ---------------------------------------------------------------------------------------
def follow_up_view(f: FollowUp) -> dict[str, Any]:
    """A follow-up record."""
    return {
        "id": f.id,
        "round": f.round,
        "progress": f.progress,
        "recorded_on": f.recorded_on,
        "note": f.note,
        "revision": f.revision,
        "late": f.late,
        "recorded_by": f.recorded_by,
        "recorded_at": f.recorded_at,
    }


def record_follow_up(
    session: Session,
    actor: WcActor,
    national_id: str,
    data: Mapping[str, Any],
    settings: WelfareCardSettings,
) -> tuple[FollowUp, bool]:
    """Record (or correct) a participant's progress for a follow-up round; return (record, created).

    :raises NotFound: not a participant of the caller's district.
    :raises WelfareCardError: a round that is not configured.
    """
    p = _participant(session, national_id, actor, lock=True)
    round_ = settings.rounds.get(data["round"])
    if round_ is None:
        known = ", ".join(f"{r.code} ({r.name_th})" for r in settings.rounds.values())
        raise WelfareCardError(
            f"ไม่มีรอบการติดตาม {data['round']} (รอบที่มี: {known})", field="round", code="unknown_round"
        )
    now = utcnow()
    domain.check_recorded_on(data["recorded_on"], now)
    row = session.scalars(
        select(FollowUp).where(FollowUp.participant_id == p.id, FollowUp.round == round_.code)
    ).first()
    created = row is None
    before = None
    if row is None:
        row = FollowUp(participant_id=p.id, round=round_.code, revision=1)
        session.add(row)
    else:
        before = {"progress": row.progress, "recorded_on": row.recorded_on.isoformat(), "note": row.note}
        row.revision += 1
    row.progress = data["progress"]
    row.recorded_on = data["recorded_on"]
    row.note = data.get("note")
    row.recorded_by = actor.username
    row.recorded_at = now
    row.late = domain.is_late(now, round_.record_by)
    session.flush()
    after = {
        "round": row.round,
        "progress": row.progress,
        "recorded_on": row.recorded_on.isoformat(),
        "note": row.note,
        "revision": row.revision,
    }
    _audit(
        session,
        actor,
        "welfare_card.follow_up_record",
        "welfare_card_participant",
        p.id,
        p.area_code,
        before=before,
        after=after,
    )
    messaging.publish(
        session,
        "welfare_card.follow_up_recorded",
        {
            **participant_ref(p),
            "follow_up_id": row.id,
            "revision": row.revision,
            "round": row.round,
            "progress": row.progress,
            "recorded_on": row.recorded_on.isoformat(),
            "recorded_at": now.isoformat(),
            "record_by": round_.record_by.isoformat(),
            "late": row.late,
        },
        producer=PRODUCER,
    )
    return row, created


# --- registration places --------------------------------------------------------------------------------
def place_view(place: RegistrationPlace, area: Area | None = None) -> dict[str, Any]:
    """A registration place (with its district's name when known)."""
    view = {
        "id": place.id,
        "area_code": place.area_code,
        "province_code": place.province_code,
        "name": place.name,
        "address": place.address,
        "active": place.active,
    }
    if area is not None:
        view["area_name_th"] = area_view(area)["full_name_th"]
    return view


def list_places(session: Session, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Registration places of a district or province (active ones unless ``all``)."""
    stmt = select(RegistrationPlace, Area).join(Area, Area.code == RegistrationPlace.area_code)
    if filters.get("area_code"):
        stmt = stmt.where(RegistrationPlace.area_code == filters["area_code"])
    if filters.get("province_code"):
        stmt = stmt.where(RegistrationPlace.province_code == filters["province_code"])
    if not filters.get("all"):
        stmt = stmt.where(RegistrationPlace.active.is_(True))
    rows = session.execute(stmt.order_by(RegistrationPlace.area_code, RegistrationPlace.id).limit(2000)).all()
    return [place_view(p, a) for p, a in rows]


def add_place(session: Session, actor: WcActor, data: Mapping[str, Any]) -> RegistrationPlace:
    """Add a registration place to a district within the caller's scope.

    :raises Forbidden: another district or province.
    """
    area_code = data.get("area_code") or actor.district_code
    if not area_code:
        raise WelfareCardError("กรุณาระบุเขต/อำเภอของสถานที่รับแจ้ง", field="area_code")
    area = _area(session, area_code)
    if not actor.can_see_area(area.code):
        raise Forbidden("ท่านบันทึกสถานที่รับแจ้งได้เฉพาะพื้นที่ที่ท่านรับผิดชอบ", field="area_code")
    name = " ".join(str(data["name"]).split())
    place = RegistrationPlace(
        area_code=area.code,
        province_code=area.province_code,
        name=name,
        address=data.get("address"),
        active=True,
        created_by=actor.username,
    )
    session.add(place)
    session.flush()
    _audit(
        session,
        actor,
        "welfare_card.place_add",
        "welfare_card_place",
        place.id,
        area.code,
        after=place_view(place),
    )
    return place


def update_place(
    session: Session, actor: WcActor, place_id: int, changes: Mapping[str, Any]
) -> RegistrationPlace:
    """Rename a place, change its address, or take it off the public page (``active: false``).

    :raises NotFound: unknown or outside the caller's scope.
    """
    place = session.get(RegistrationPlace, place_id)
    if place is None or not actor.can_see_area(place.area_code):
        raise NotFound("ไม่พบสถานที่รับแจ้งที่ต้องการ")
    before = place_view(place)
    for name in ("name", "address", "active"):
        if name in changes:
            value = changes[name]
            setattr(place, name, " ".join(value.split()) if name == "name" else value)
    place.updated_at = utcnow()
    session.flush()
    after = place_view(place)
    changed = sorted(k for k in after if after[k] != before[k])
    _audit(
        session,
        actor,
        "welfare_card.place_update",
        "welfare_card_place",
        place.id,
        place.area_code,
        fields=changed,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return place


# --- intents --------------------------------------------------------------------------------------------
def intent_view(i: Intent, *, masked: bool = True) -> dict[str, Any]:
    """An intent (masked national ID in lists)."""
    view = {
        "id": i.id,
        "national_id_masked": mask_national_id(i.national_id),
        "title": i.title,
        "first_name": i.first_name,
        "last_name": i.last_name,
        "phone": i.phone,
        "province_code": i.province_code,
        "area_code": i.area_code,
        "agency": i.agency,
        "place_id": i.place_id,
        "registered_on": i.registered_on,
        "recorded_by": i.recorded_by,
        "recorded_at": i.recorded_at,
    }
    if not masked:
        view["national_id"] = i.national_id
    return view


def register_intent(session: Session, actor: WcActor, data: Mapping[str, Any]) -> Intent:
    """Record a citizen's wish to join (แบบย่อ) in the caller's district.

    :raises Conflict: this person's wish is recorded already.
    :raises WelfareCardError: a place of another district.
    """
    national_id = parse_national_id(data["national_id"])
    if not actor.district_code:
        raise Forbidden("การแจ้งความประสงค์บันทึกโดยเจ้าหน้าที่ของเขต/อำเภอ", field="area_code")
    area = _area(session, actor.district_code)
    place_id = data.get("place_id")
    if place_id is not None:
        place = session.get(RegistrationPlace, place_id)
        if place is None or place.area_code != area.code or not place.active:
            raise WelfareCardError("ไม่พบสถานที่รับแจ้งนี้ในเขต/อำเภอของท่าน", field="place_id", code="unknown_place")
    now = utcnow()
    domain.check_recorded_on(data["registered_on"], now, field="registered_on")
    existing = session.scalars(select(Intent).where(Intent.national_id == national_id)).first()
    if existing is not None:
        raise Conflict(
            f"บุคคลนี้แจ้งความประสงค์ไว้แล้วเมื่อ {existing.registered_on.isoformat()}",
            field="national_id",
            code="intent_exists",
        )
    intent = Intent(
        national_id=national_id,
        title=data.get("title"),
        first_name=data["first_name"].strip(),
        last_name=data["last_name"].strip(),
        phone=data.get("phone"),
        province_code=area.province_code,
        area_code=area.code,
        agency=data.get("agency"),
        place_id=place_id,
        registered_on=data["registered_on"],
        recorded_by=actor.username,
        recorded_at=now,
    )
    session.add(intent)
    session.flush()
    after = {k: v for k, v in intent_view(intent).items() if k not in ("recorded_at", "registered_on")}
    after["registered_on"] = intent.registered_on.isoformat()
    _audit(
        session,
        actor,
        "welfare_card.intent_register",
        "welfare_card_intent",
        intent.id,
        area.code,
        after=after,
    )
    messaging.publish(
        session,
        "welfare_card.intent_registered",
        {
            "intent_id": intent.id,
            "province_code": intent.province_code,
            "area_code": intent.area_code,
            "agency": intent.agency,
            "place_id": intent.place_id,
            "registered_on": intent.registered_on.isoformat(),
            "registered_at": now.isoformat(),
        },
        producer=PRODUCER,
    )
    return intent


def find_intents(
    session: Session, actor: WcActor, filters: Mapping[str, Any], *, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """Intents within the caller's scope, newest first."""
    stmt = select(Intent)
    if not actor.is_central:
        if actor.district_code:
            stmt = stmt.where(Intent.area_code == actor.district_code)
        elif actor.province_code:
            stmt = stmt.where(Intent.province_code == actor.province_code)
        else:
            stmt = stmt.where(Intent.id.is_(None))
    if filters.get("area_code"):
        stmt = stmt.where(Intent.area_code == filters["area_code"])
    if filters.get("registered_on"):
        stmt = stmt.where(Intent.registered_on == filters["registered_on"])
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Intent.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [intent_view(i) for i in rows], total


# --- the public self-check ---------------------------------------------------------------------------------
#: One round trip: the person's group and their district's active places (hot path of the public page).
_PUBLIC_CHECK = text(
    "SELECT p.grp, p.area_code, r.name, r.address FROM wc_participants p"
    " LEFT JOIN wc_registration_places r ON r.area_code = p.area_code AND r.active"
    " WHERE p.national_id = :national_id ORDER BY r.id"
)


def public_check(session: Session, national_id: str) -> dict[str, Any]:
    """Whether a 13-digit ID is a participant, their group and their district's registration places.

    The answer has the same shape for an unknown ID and one whose check digit is wrong (which is
    checked first and never reaches the database), so the check reveals nothing else.
    """
    answer: dict[str, Any] = {"participant": False, "group": None, "registration_places": []}
    if not is_valid_national_id(national_id):
        return answer
    rows = session.execute(_PUBLIC_CHECK, {"national_id": national_id}).all()
    if not rows:
        return answer
    area = thai_areas.get_area(rows[0][1])
    area_name = area.full_name_th if area else rows[0][1]
    return {
        "participant": True,
        "group": rows[0][0],
        "registration_places": [
            {"name": name, "address": address, "area_name_th": area_name}
            for _, _, name, address in rows
            if name is not None
        ],
    }


# --- audit -----------------------------------------------------------------------------------------
def _audit(
    session: Session,
    actor: WcActor,
    action: str,
    object_type: str,
    object_id: object,
    area_code: str | None,
    *,
    fields: Any = (),
    before: Any = None,
    after: Any = None,
) -> None:
    audit.record(
        session,
        action=action,
        object_type=object_type,
        object_id=object_id,
        actor=actor.username,
        role=actor.role,
        district_code=area_code,
        ip=actor.ip,
        fields=list(fields) or sorted((after or {}).keys()),
        before=_jsonable(before),
        after=_jsonable(after),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value
