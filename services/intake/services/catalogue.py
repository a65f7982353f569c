"""The welfare catalogue and its programmes, managed by the central office."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from services.intake.domain import NotFound, StateConflict
from services.intake.models import Programme, WelfareType
from services.intake.services.common import Actor, load_welfare_type
from shared import audit
from shared.db import utcnow


# --- the catalogue -------------------------------------------------------------------------------
def _audit_catalogue(
    session: Session, actor: Actor, *, action: str, object_type: str, code: str, before: Any, after: Any
) -> None:
    fields = sorted(set(before or {}) | set(after or {}))
    audit.record(
        session,
        action=action,
        object_type=object_type,
        object_id=code,
        actor=actor.username,
        role=actor.role,
        ip=actor.ip,
        fields=fields,
        before=before,
        after=after,
    )


_TYPE_FIELDS = (
    "name_th",
    "regulation_ref",
    "ceiling",
    "ceiling_scope",
    "repeat_limit",
    "required_documents",
    "active",
)
_SOURCE_OF = {
    "ceiling": "ceiling_source",
    "ceiling_scope": "ceiling_source",
    "repeat_limit": "repeat_limit_source",
}


def _plain(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def create_welfare_type(session: Session, *, data: Mapping[str, Any], actor: Actor) -> WelfareType:
    """Add a welfare type to the catalogue (central office).

    :raises StateConflict: the code exists already.
    """
    if session.get(WelfareType, data["code"]) is not None:
        raise StateConflict(f"มีประเภทเงินสงเคราะห์รหัส {data['code']} อยู่แล้ว", code="welfare_type_exists")
    wt = WelfareType(
        code=data["code"],
        ceiling_source="configured",
        repeat_limit_source="configured",
        updated_at=utcnow(),
        updated_by=actor.username,
        **{name: data.get(name) for name in _TYPE_FIELDS if name in data},
    )
    wt.active = data.get("active", True)
    wt.ceiling_scope = data.get("ceiling_scope", "per_case")
    wt.required_documents = data.get("required_documents", "related,financial")
    session.add(wt)
    after = {name: _plain(getattr(wt, name)) for name in _TYPE_FIELDS}
    _audit_catalogue(
        session,
        actor,
        action="welfare_type.create",
        object_type="welfare_type",
        code=wt.code,
        before=None,
        after=after,
    )
    session.flush()
    return wt


def update_welfare_type(
    session: Session, *, code: str, changes: Mapping[str, Any], actor: Actor
) -> WelfareType:
    """Change a welfare type (ceiling, scope, limits, documents, active); cases already recorded keep theirs.

    :raises NotFound: no such type.
    """
    wt = session.get(WelfareType, code, with_for_update=True)
    if wt is None:
        raise NotFound(f"ไม่พบประเภทเงินสงเคราะห์ {code}", code="welfare_type_not_found")
    new = {
        name: changes[name] for name in _TYPE_FIELDS if name in changes and changes[name] != getattr(wt, name)
    }
    if not new:
        return wt
    before = {name: _plain(getattr(wt, name)) for name in new}
    for name, value in new.items():
        setattr(wt, name, value)
        if name in _SOURCE_OF:
            setattr(wt, _SOURCE_OF[name], "configured")
    wt.updated_at = utcnow()
    wt.updated_by = actor.username
    _audit_catalogue(
        session,
        actor,
        action="welfare_type.update",
        object_type="welfare_type",
        code=code,
        before=before,
        after={name: _plain(value) for name, value in new.items()},
    )
    session.flush()
    return wt


_PROGRAMME_FIELDS = (
    "name_th",
    "welfare_type_code",
    "reference",
    "rule_code",
    "excluded_welfare_type_code",
    "excluded_fiscal_year",
    "active",
)


def create_programme(session: Session, *, data: Mapping[str, Any], actor: Actor) -> Programme:
    """Add a programme with its exclusion rule (central office).

    :raises StateConflict: the code exists already.
    """
    if session.get(Programme, data["code"]) is not None:
        raise StateConflict(f"มีโครงการรหัส {data['code']} อยู่แล้ว", code="programme_exists")
    for name in ("welfare_type_code", "excluded_welfare_type_code"):
        load_welfare_type(session, data[name])
    programme = Programme(
        code=data["code"],
        source="configured",
        updated_at=utcnow(),
        updated_by=actor.username,
        **{name: data.get(name) for name in _PROGRAMME_FIELDS if name in data},
    )
    programme.rule_code = data.get("rule_code") or f"programme_{data['code'].lower()}_prior_fund"
    programme.active = data.get("active", True)
    session.add(programme)
    after = {name: getattr(programme, name) for name in _PROGRAMME_FIELDS}
    _audit_catalogue(
        session,
        actor,
        action="programme.create",
        object_type="programme",
        code=programme.code,
        before=None,
        after=after,
    )
    session.flush()
    return programme


def update_programme(session: Session, *, code: str, changes: Mapping[str, Any], actor: Actor) -> Programme:
    """Change a programme (its rule, its welfare type, active).

    :raises NotFound: no such programme.
    """
    programme = session.get(Programme, code, with_for_update=True)
    if programme is None:
        raise NotFound(f"ไม่พบโครงการ {code}", code="programme_not_found")
    for name in ("welfare_type_code", "excluded_welfare_type_code"):
        if name in changes:
            load_welfare_type(session, changes[name])
    new = {n: changes[n] for n in _PROGRAMME_FIELDS if n in changes and changes[n] != getattr(programme, n)}
    if not new:
        return programme
    before = {name: getattr(programme, name) for name in new}
    for name, value in new.items():
        setattr(programme, name, value)
    programme.source = "configured"
    programme.updated_at = utcnow()
    programme.updated_by = actor.username
    _audit_catalogue(
        session,
        actor,
        action="programme.update",
        object_type="programme",
        code=code,
        before=before,
        after=new,
    )
    session.flush()
    return programme
