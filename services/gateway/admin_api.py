"""User management for the central office: list, create, change, disable and reset passwords.

Users live in the gateway's database.  Every change is audited in the gateway's audit log, and a
change that makes a user's sessions wrong (disabled, new role or district, password reset) ends
their web sessions at once: a session's token carries the role and district it was issued for.
It also bumps the user's token generation, so that their bearer tokens are refused by the
gateway within ``ECASE_TOKEN_CHECK_SECONDS`` (``tokens.py``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.gateway.domain import check_password_rules, hash_password, scope_problems
from services.gateway.models import User
from services.gateway.tokens import revoke_tokens
from services.gateway.web import sessions
from shared import areas, audit, errors
from shared.auth import AGENCY_ROLES, CITY_WIDE_ROLES, DISTRICT_ROLES, PROVINCE_ROLES, ROLES
from shared.db import utcnow
from shared.districts import get_district
from shared.web import ApiError, Blueprint, PageArgs, current_principal, get_session, require_roles
from shared.welfare_card import AGENCIES, AGENCY_CODES

admin_blp = Blueprint(
    "admin", __name__, url_prefix="/api/admin", description="Users and roles (central office)"
)

ROLE_TH = {
    "officer": "เจ้าหน้าที่ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม",
    "head": "หัวหน้าฝ่ายพัฒนาชุมชนและสวัสดิการสังคม",
    "finance": "ผู้ทำหน้าที่โอนเงิน",
    "central_admin": "สำนักพัฒนาสังคม (ผู้ดูแลระบบ)",
    "operator": "ผู้ดูแลระบบปฏิบัติการ",
    "agency_recorder": "ผู้บันทึกผลการพัฒนาของหน่วยงานพัฒนา (มาตรการบัตรสวัสดิการแห่งรัฐ)",
    "provincial_secretariat": "ฝ่ายเลขานุการ คอจ. (มาตรการบัตรสวัสดิการแห่งรัฐ)",
    "district_team": "ทีม ปรจ. ประจำเขต/อำเภอ (มาตรการบัตรสวัสดิการแห่งรัฐ)",
}
AGENCY_TH = {a.code: a.name_th for a in AGENCIES}
USERNAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9._-]{2,79}$",
    error="ชื่อผู้ใช้ต้องเป็นอักษรภาษาอังกฤษตัวเล็ก ตัวเลข จุด ขีดล่าง หรือขีดกลาง 3-80 ตัว ขึ้นต้นด้วยอักษรหรือตัวเลข",
)
ROLE = validate.OneOf(ROLES, error="บทบาทต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(ROLES))
DISTRICT = validate.Regexp(r"^[0-9]{4}$", error="รหัสสำนักงานเขตต้องเป็นตัวเลข 4 หลัก เช่น 1008")
PROVINCE = validate.Regexp(r"^[0-9]{2}$", error="รหัสจังหวัดต้องเป็นตัวเลข 2 หลัก เช่น 24")
AGENCY = validate.OneOf(AGENCY_CODES, error="หน่วยงานพัฒนาต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: " + ", ".join(AGENCY_CODES))
NO_DISTRICT = "บทบาทนี้ดูแลทั้งกรุงเทพมหานคร ไม่ต้องระบุสำนักงานเขต"


def _full_name(value: str) -> None:
    if not value.strip():
        raise ValidationError("กรุณากรอกชื่อ-นามสกุล")
    if len(value) > 200:
        raise ValidationError("ชื่อ-นามสกุลยาวได้ไม่เกิน 200 ตัวอักษร")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError("มีอักขระควบคุมที่ไม่อนุญาต")


# --- schemas ------------------------------------------------------------------------------------
class AdminUserSchema(Schema):
    """A user as the central office sees it (never the password hash)."""

    username = fields.String()
    full_name = fields.String()
    role = fields.String()
    role_th = fields.Function(lambda u: ROLE_TH.get(u.role, u.role))
    district_code = fields.String(allow_none=True)
    district_name = fields.Function(
        lambda u: (
            d.name_th
            if (d := get_district(u.district_code or "") or areas.get_area(u.district_code))
            else None
        ),
        allow_none=True,
    )
    province_code = fields.String(allow_none=True)
    province_name = fields.Function(
        lambda u: p.name_th if (p := areas.get_province(u.province_code)) else None, allow_none=True
    )
    agency = fields.String(allow_none=True)
    agency_name = fields.Function(lambda u: AGENCY_TH.get(u.agency or ""), allow_none=True)
    active = fields.Boolean()
    is_demo = fields.Boolean()
    created_at = fields.DateTime()
    password_changed_at = fields.DateTime()


class AdminUserListSchema(Schema):
    """A page of users."""

    items = fields.List(fields.Nested(AdminUserSchema))
    total = fields.Integer()


class UserListArgs(PageArgs):
    """``?role=&district_code=&q=&active=&page=&per_page=``."""

    role = fields.String(validate=ROLE)
    district_code = fields.String(validate=DISTRICT)
    q = fields.String(validate=validate.Length(max=80), metadata={"description": "username or name"})
    active = fields.Boolean()


class UserCreateSchema(Schema):
    """A new user: district roles name their district; city-wide roles name none."""

    username = fields.String(required=True, validate=USERNAME)
    full_name = fields.String(required=True, validate=_full_name)
    role = fields.String(required=True, validate=ROLE)
    district_code = fields.String(load_default=None, allow_none=True, validate=DISTRICT)
    province_code = fields.String(load_default=None, allow_none=True, validate=PROVINCE)
    agency = fields.String(load_default=None, allow_none=True, validate=AGENCY)
    password = fields.String(required=True, load_only=True)


class UserPatchSchema(Schema):
    """The fields of a user to change; ``active: false`` disables the account."""

    full_name = fields.String(validate=_full_name)
    role = fields.String(validate=ROLE)
    district_code = fields.String(allow_none=True, validate=DISTRICT)
    province_code = fields.String(allow_none=True, validate=PROVINCE)
    agency = fields.String(allow_none=True, validate=AGENCY)
    active = fields.Boolean()


class PasswordResetSchema(Schema):
    """The new password (8-128 characters)."""

    password = fields.String(required=True, load_only=True)


# --- helpers -------------------------------------------------------------------------------------
def _acting_admin(session: Session) -> User:
    """The caller, checked against the database: a disabled or demoted admin's token is refused."""
    me = session.scalars(select(User).where(User.username == current_principal().username)).first()
    if me is None or not me.active or me.role != "central_admin":
        raise ApiError(403, "บทบาทของท่านไม่มีสิทธิ์ทำรายการนี้", code="wrong_role")
    return me


def _load_user(session: Session, username: str, *, for_update: bool = False) -> User:
    stmt = select(User).where(User.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    user = session.scalars(stmt).first()
    if user is None:
        raise ApiError(404, f"ไม่พบผู้ใช้ {username[:80]}", code="user_not_found")
    return user


#: Which scope fields each kind of role keeps.
SCOPE_FIELDS = {
    "district_code": DISTRICT_ROLES,
    "province_code": PROVINCE_ROLES + AGENCY_ROLES,
    "agency": AGENCY_ROLES,
}


def _scope_for(
    role: str,
    district_code: str | None,
    province_code: str | None = None,
    agency: str | None = None,
    *,
    password: str | None = None,
) -> dict[str, str | None]:
    """The district, province and agency a user of ``role`` keeps; 400 naming every field that does not fit.

    ``password``, when given, is checked against the password rules in the same answer.
    """
    problems: dict[str, str] = {}
    if role in CITY_WIDE_ROLES and district_code:
        problems["district_code"] = NO_DISTRICT
    problems = {**scope_problems(role, district_code, province_code, agency), **problems}
    scope = {"district_code": district_code, "province_code": province_code, "agency": agency}
    scope = {k: (v if role in SCOPE_FIELDS[k] else None) for k, v in scope.items()}
    if password is not None:
        try:
            check_password_rules(password)
        except errors.ValidationError as exc:
            problems["password"] = exc.message
    if problems:
        message = (
            next(iter(problems.values())) if len(problems) == 1 else "ข้อมูลไม่ถูกต้อง: " + ", ".join(problems)
        )
        raise ApiError(400, message, fields=problems)
    return scope


def _audit(session: Session, me: User, *, action: str, user: User, **kw: Any) -> None:
    audit.record(
        session,
        action=action,
        object_type="user",
        object_id=user.username,
        actor=me.username,
        role=me.role,
        district_code=me.district_code,
        ip=request.remote_addr,
        request_id=request.headers.get("X-Request-Id"),
        **kw,
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- endpoints -----------------------------------------------------------------------------------
@admin_blp.route("/users")
@admin_blp.arguments(UserListArgs, location="query")
@admin_blp.response(200, AdminUserListSchema)
@require_roles("central_admin")
def list_users(args: dict[str, Any]) -> Any:
    """Users, by username; filters: role, district, active, and ``q`` (part of the username or name)."""
    session = get_session()
    _acting_admin(session)
    stmt = select(User)
    if "role" in args:
        stmt = stmt.where(User.role == args["role"])
    if "district_code" in args:
        stmt = stmt.where(User.district_code == args["district_code"])
    if "active" in args:
        stmt = stmt.where(User.active.is_(args["active"]))
    if args.get("q", "").strip():
        pattern = _like(args["q"].strip().lower())
        stmt = stmt.where(
            or_(
                func.lower(User.username).like(pattern, escape="\\"),
                func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    page, per_page = args["page"], args["per_page"]
    items = session.scalars(stmt.order_by(User.username).offset((page - 1) * per_page).limit(per_page)).all()
    return {"items": items, "total": total}


@admin_blp.route("/users/<username>")
@admin_blp.response(200, AdminUserSchema)
@require_roles("central_admin")
def get_user(username: str) -> Any:
    """One user."""
    session = get_session()
    _acting_admin(session)
    return _load_user(session, username)


@admin_blp.route("/users", methods=["POST"])
@admin_blp.arguments(UserCreateSchema)
@admin_blp.response(201, AdminUserSchema)
@admin_blp.alt_response(409, description="The username is taken")
@require_roles("central_admin")
def create_user(data: dict[str, Any]) -> Any:
    """Create a user (audited ``user.create``)."""
    session = get_session()
    with session.begin():
        me = _acting_admin(session)
        scope = _scope_for(
            data["role"],
            data["district_code"],
            data["province_code"],
            data["agency"],
            password=data["password"],
        )
        password_hash = hash_password(data["password"])
        if session.scalars(select(User.id).where(User.username == data["username"])).first():
            raise _taken(data["username"])
        user = User(
            username=data["username"],
            full_name=data["full_name"].strip(),
            role=data["role"],
            **scope,
            password_hash=password_hash,
            active=True,
            is_demo=False,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # created by someone else in the meantime
            raise _taken(data["username"]) from None
        after = {"full_name": user.full_name, "role": user.role, "district_code": user.district_code}
        after.update({k: v for k, v in scope.items() if v is not None})
        _audit(
            session,
            me,
            action="user.create",
            user=user,
            fields=(*after, "active", "password"),
            after={**after, "active": True},
        )
    return user, 201


def _taken(username: str) -> ApiError:
    message = f"มีชื่อผู้ใช้ {username} อยู่แล้ว กรุณาใช้ชื่ออื่น"
    return ApiError(409, message, code="username_taken", fields={"username": message})


@admin_blp.route("/users/<username>", methods=["PATCH"])
@admin_blp.arguments(UserPatchSchema)
@admin_blp.response(200, AdminUserSchema)
@require_roles("central_admin")
def update_user(changes: dict[str, Any], username: str) -> Any:
    """Change name, role, district or active (audited); disabling ends the user's sessions at once."""
    session = get_session()
    with session.begin():
        me = _acting_admin(session)
        user = _load_user(session, username, for_update=True)
        role = changes.get("role", user.role)
        # A scope field not sent keeps its value when the role still uses it, and is cleared otherwise.
        given = {
            name: changes[name] if name in changes else (getattr(user, name) if role in roles else None)
            for name, roles in SCOPE_FIELDS.items()
        }
        scope = _scope_for(role, given["district_code"], given["province_code"], given["agency"])
        wanted = {**changes, "role": role, **scope}
        if "full_name" in wanted:
            wanted["full_name"] = wanted["full_name"].strip()
        new = {k: v for k, v in wanted.items() if getattr(user, k) != v}
        changes_scope = bool((set(SCOPE_FIELDS) | {"role"}) & set(new))
        if user.id == me.id and (changes_scope or new.get("active") is False):
            message = "ไม่สามารถระงับหรือเปลี่ยนบทบาทของบัญชีที่ท่านใช้อยู่เองได้"
            raise ApiError(409, message, code="own_account")
        if not new:
            return user
        before = {k: getattr(user, k) for k in new}
        for name, value in new.items():
            setattr(user, name, value)
        if changes_scope or new.get("active") is False:
            sessions.end_all_for(session, user.id)
            revoke_tokens(session, user)  # bearer tokens too, within ECASE_TOKEN_CHECK_SECONDS
        action = "user.update"
        if "active" in new:
            action = "user.enable" if new["active"] else "user.disable"
        _audit(session, me, action=action, user=user, fields=sorted(new), before=before, after=new)
    return user


@admin_blp.route("/users/<username>/password", methods=["POST"])
@admin_blp.arguments(PasswordResetSchema)
@admin_blp.response(200, AdminUserSchema)
@require_roles("central_admin")
def reset_password(data: dict[str, Any], username: str) -> Any:
    """Set a new password for a user (audited ``user.password_reset``); their sessions end."""
    session = get_session()
    with session.begin():
        me = _acting_admin(session)
        user = _load_user(session, username, for_update=True)
        user.password_hash = hash_password(data["password"])
        user.password_changed_at = utcnow()
        sessions.end_all_for(session, user.id)
        revoke_tokens(session, user)
        _audit(session, me, action="user.password_reset", user=user, fields=("password",))
    return user
