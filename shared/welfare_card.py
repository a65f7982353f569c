"""The state welfare card measure's vocabulary, shared by intake (which records it) and reporting.

Seed 002 (Chachoengsao, May 2562) and seed 003 (Ubon Ratchathani, 2561) describe phase 2 of the
"มาตรการพัฒนาคุณภาพชีวิตผู้มีบัตรสวัสดิการแห่งรัฐ": the developing agencies, the two groups of
participants, recording development results and the June 2562 follow-up round.  The codes below
travel in the API and in the ``welfare_card.*`` events; people read the Thai names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

__all__ = [
    "AGENCIES",
    "AGENCY_CODES",
    "DEFAULT_PHASES",
    "DEFAULT_ROUNDS",
    "GROUPS",
    "GROUP_CODES",
    "INCOME_THRESHOLD",
    "PROGRESS",
    "PROGRESS_CODES",
    "PROJECT_KINDS",
    "PUBLIC_CHECK_HEADER",
    "RESULTS",
    "RESULT_CODES",
    "Agency",
    "Phase",
    "Round",
    "agency_from_text",
    "group_from_text",
    "public_check_key",
]

#: Seed 002 §1.1 2): the second group earns at most 30,000 baht a year.
INCOME_THRESHOLD = 30_000


@dataclass(frozen=True, slots=True)
class Agency:
    """A developing agency (หน่วยงานพัฒนา) of seed 002's note."""

    code: str
    name_th: str  # as the lists name it
    full_name_th: str
    aliases: tuple[str, ...] = ()


AGENCIES: tuple[Agency, ...] = (
    Agency("moac", "กระทรวงเกษตรและสหกรณ์", "กระทรวงเกษตรและสหกรณ์", ("กษ.",)),
    Agency("mol", "กระทรวงแรงงาน", "กระทรวงแรงงาน", ("รง.",)),
    Agency("moc", "กระทรวงพาณิชย์", "กระทรวงพาณิชย์", ("พณ.",)),
    Agency(
        "cdd",
        "กรมการพัฒนาชุมชน",
        "กระทรวงมหาดไทย (กรมการพัฒนาชุมชน)",
        ("พช.", "กระทรวงมหาดไทย"),
    ),
    Agency("baac", "ธ.ก.ส.", "ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร", ("ธกส",)),
    Agency("gsb", "ธนาคารออมสิน", "ธนาคารออมสิน", ("ธ.ออมสิน", "ออมสิน")),
)
AGENCY_CODES: tuple[str, ...] = tuple(a.code for a in AGENCIES)

#: The two groups of participants (seed 002 §1.1).
GROUPS: dict[str, str] = {
    "not_developed": "ผู้เข้าร่วมมาตรการฯ ที่ยังไม่ได้รับการพัฒนา",
    "low_income": "ผู้ที่ผ่านการพัฒนาแล้ว แต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี",
}
GROUP_CODES: tuple[str, ...] = tuple(GROUPS)
_GROUP_ALIASES = {
    "1": "not_developed",
    "ยังไม่ได้รับการพัฒนา": "not_developed",
    "2": "low_income",
    "ผ่านการพัฒนาแล้ว แต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี": "low_income",
    "ผ่านการพัฒนาแล้วแต่ยังมีรายได้ไม่เกิน 30,000 บาทต่อปี": "low_income",
}

#: The result of a development project for one participant.
RESULTS: dict[str, str] = {
    "completed": "ผ่านการพัฒนาแล้วเสร็จ",
    "not_completed": "เข้าร่วมแต่ไม่ผ่านการพัฒนา",
    "declined": "ไม่ประสงค์เข้ารับการพัฒนา",
    "unreachable": "ติดต่อไม่ได้",
}
RESULT_CODES: tuple[str, ...] = tuple(RESULTS)

#: A participant's self-development progress at a follow-up round (seed 002 §3).
PROGRESS: dict[str, str] = {
    "income_above_threshold": "มีรายได้เกิน 30,000 บาทต่อปีแล้ว",
    "progressing": "มีความคืบหน้าในการพัฒนาตนเอง",
    "no_progress": "ยังไม่มีความคืบหน้า",
    "unreachable": "ติดต่อไม่ได้",
}
PROGRESS_CODES: tuple[str, ...] = tuple(PROGRESS)

#: Who runs a project: a developing agency, or the province (โครงการเพิ่มเติมของจังหวัด, seed 002 §2.1 2).
PROJECT_KINDS: dict[str, str] = {
    "agency": "โครงการของหน่วยงานพัฒนา",
    "provincial": "โครงการเพิ่มเติมของจังหวัด",
}


@dataclass(frozen=True, slots=True)
class Phase:
    """A phase of the measure with its deadlines (configuration; the defaults are seed 002's)."""

    code: str
    name_th: str
    due: dt.date  # the work is done by then
    record_by: dt.date | None  # and recorded in the system by then


@dataclass(frozen=True, slots=True)
class Round:
    """A follow-up round (รอบการติดตาม); the code is the ISO year-month of the round."""

    code: str
    name_th: str
    due: dt.date
    record_by: dt.date


DEFAULT_PHASES: tuple[Phase, ...] = (
    Phase("preparation", "การเตรียมการ (จัดส่งรายชื่อกลุ่มเป้าหมาย)", dt.date(2019, 1, 30), None),
    Phase("development", "การพัฒนาผู้เข้าร่วมมาตรการฯ", dt.date(2019, 6, 30), dt.date(2019, 7, 15)),
    Phase("follow_up", "การติดตามความคืบหน้าการพัฒนาตนเอง", dt.date(2019, 6, 30), dt.date(2019, 7, 15)),
)
DEFAULT_ROUNDS: tuple[Round, ...] = (
    Round("2019-06", "รอบเดือนมิถุนายน 2562", dt.date(2019, 6, 30), dt.date(2019, 7, 15)),
)


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


_AGENCY_LOOKUP: dict[str, str] = {}
for _a in AGENCIES:
    for _name in (_a.code, _a.name_th, _a.full_name_th, *_a.aliases):
        _AGENCY_LOOKUP[_squash(_name)] = _a.code
_GROUP_LOOKUP: dict[str, str] = {_squash(k): v for k, v in _GROUP_ALIASES.items()}
_GROUP_LOOKUP.update({_squash(code): code for code in GROUPS})
_GROUP_LOOKUP.update({_squash(name): code for code, name in GROUPS.items()})


def agency_from_text(text: str) -> str | None:
    """The agency code a list names (code, Thai name or a known short form), or None."""
    return _AGENCY_LOOKUP.get(_squash(text)) if isinstance(text, str) else None


def group_from_text(text: str) -> str | None:
    """The group code a list names (``1``/``2``, the code or the Thai wording), or None."""
    return _GROUP_LOOKUP.get(_squash(text)) if isinstance(text, str) else None


#: The header by which the gateway's rate-limited public route proves itself to intake's public-check
#: endpoint.  The gateway's generic forwarding never passes it on, so ``/api/intake/...`` cannot be
#: used to skip the rate limit.
PUBLIC_CHECK_HEADER = "X-Ecase-Public-Check"


def public_check_key(secret: str) -> str:
    """The value of ``PUBLIC_CHECK_HEADER``: derived from the services' shared secret."""
    return hmac.new(secret.encode("utf-8"), b"ecase:welfare-card:public-check", hashlib.sha256).hexdigest()
