"""Thai bank table (KTB spec §6) and payee account validation/normalisation (KTB spec §7)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import ValidationError

__all__ = [
    "BAAC_CODE",
    "BANKS",
    "GHB_CODE",
    "GSB_CODE",
    "HSBC_CODE",
    "IBANK_CODE",
    "KKP_CODE",
    "KTB_CODE",
    "TISCO_CODE",
    "Bank",
    "clean_account_no",
    "get_bank",
    "ktb_receiving_fields",
    "payable_banks",
    "validate_bank_details",
]

KTB_CODE = "006"
GSB_CODE = "030"
HSBC_CODE = "031"
GHB_CODE = "033"
BAAC_CODE = "034"
IBANK_CODE = "066"
TISCO_CODE = "067"
KKP_CODE = "069"

RECEIVING_ACCOUNT_WIDTH = 11
NO_BRANCH = "0000"


@dataclass(frozen=True, slots=True)
class Bank:
    """One row of the Thai bank-code table (spec §6); ``payable`` banks are the ones offered to payees."""

    code: str
    short_name: str
    name_th: str
    name_en: str
    active: bool
    retail: bool
    branch_code_required: bool
    account_lengths: tuple[int, ...]
    name_verified: bool = True

    @property
    def payable(self) -> bool:
        """True for active retail banks: the list offered when recording a payee's account."""
        return self.active and self.retail


_TEN = (10,)


def _b(
    code: str,
    short: str,
    th: str,
    en: str,
    *,
    active: bool = True,
    retail: bool = False,
    branch: bool = False,
    lengths: tuple[int, ...] = _TEN,
    verified: bool = True,
) -> Bank:
    return Bank(code, short, th, en, active, retail, branch, lengths, verified)


# Spec §6.  ``retail=True`` is the realistic set of payee banks for welfare recipients named there
# (002, 004, 006, 011, 014, 022, 024, 025, 030, 033, 034, 066, 067, 069, 071, 073, 098); those are
# offered by ``payable_banks()``.  Validation (spec §9) only requires a known, active code, so an
# account at another active bank (e.g. HSBC, Citi) is still accepted.  Account lengths follow §7:
# 10 digits unless stated (lengths of 071, 098 and the wholesale banks are not confirmed by any source).
BANKS: tuple[Bank, ...] = (
    _b("001", "BOT", "ธนาคารแห่งประเทศไทย", "Bank of Thailand", active=False),
    _b("002", "BBL", "ธนาคารกรุงเทพ", "Bangkok Bank", retail=True),
    _b("004", "KBANK", "ธนาคารกสิกรไทย", "Kasikornbank", retail=True),
    _b(
        "005",
        "RBS",
        "ธนาคารเดอะรอยัลแบงก์อ๊อฟสกอตแลนด์",
        "The Royal Bank of Scotland N.V. (ex-ABN AMRO)",
        active=False,
    ),
    _b("006", "KTB", "ธนาคารกรุงไทย", "Krung Thai Bank", retail=True),
    _b("008", "JPMC", "ธนาคารเจพีมอร์แกน เชส", "JPMorgan Chase Bank, Bangkok Branch"),
    _b(
        "009",
        "OCBC",
        "ธนาคารโอเวอร์ซี-ไชนีส แบงกิ้ง คอร์ปอเรชั่น",
        "Oversea-Chinese Banking Corporation",
        verified=False,
    ),
    _b(
        "010",
        "MUFG",
        "ธนาคารแห่งโตเกียว-มิตซูบิชิ ยูเอฟเจ",
        "The Bank of Tokyo-Mitsubishi UFJ (now MUFG Bank), Bangkok Branch",
    ),
    _b("011", "TTB", "ธนาคารทหารไทยธนชาต", "TMBThanachart Bank", retail=True),
    _b("014", "SCB", "ธนาคารไทยพาณิชย์", "Siam Commercial Bank", retail=True),
    _b("015", "SCIB", "ธนาคารนครหลวงไทย", "Siam City Bank", active=False),
    _b("017", "CITI", "ธนาคารซิตี้แบงก์", "Citibank N.A., Bangkok Branch"),
    _b(
        "018",
        "SMBC",
        "ธนาคารซูมิโตโม มิตซุย แบงกิ้ง คอร์ปอเรชั่น",
        "Sumitomo Mitsui Banking Corporation",
    ),
    _b("020", "SCBT", "ธนาคารสแตนดาร์ดชาร์เตอร์ด (ไทย)", "Standard Chartered Bank (Thai)"),
    _b("022", "CIMBT", "ธนาคารซีไอเอ็มบี ไทย", "CIMB Thai Bank", retail=True),
    _b("023", "RHB", "ธนาคารอาร์เอชบี", "RHB Bank Berhad", verified=False),
    _b("024", "UOBT", "ธนาคารยูโอบี", "United Overseas Bank (Thai)", retail=True),
    _b("025", "BAY", "ธนาคารกรุงศรีอยุธยา", "Bank of Ayudhya (Krungsri)", retail=True),
    _b("026", "MEGA ICBC", "ธนาคารเมกะ สากลพาณิชย์", "Mega International Commercial Bank"),
    _b("027", "BOA", "ธนาคารแห่งอเมริกา", "Bank of America, N.A."),
    _b(
        "028",
        "CACIB",
        "ธนาคารเครดิต อะกริกอล คอร์ปอเรทแอนด์อินเวสเมนท์แบงก์",
        "Crédit Agricole CIB, Bangkok Branch",
    ),
    _b("029", "IOB", "ธนาคารอินเดียนโอเวอร์ซีส์", "Indian Overseas Bank", verified=False),
    _b("030", "GSB", "ธนาคารออมสิน", "Government Savings Bank", retail=True, lengths=(12, 15)),
    _b(
        "031",
        "HSBC",
        "ธนาคารฮ่องกงและเซี่ยงไฮ้แบงกิ้งคอร์ปอเรชั่น",
        "The Hongkong and Shanghai Banking Corporation, Bangkok Branch",
        lengths=(12,),
    ),
    _b("032", "DB", "ธนาคารดอยซ์แบงก์", "Deutsche Bank AG"),
    _b("033", "GHB", "ธนาคารอาคารสงเคราะห์", "Government Housing Bank", retail=True, lengths=(12, 15)),
    _b(
        "034",
        "BAAC",
        "ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร (ธ.ก.ส.)",
        "Bank for Agriculture and Agricultural Cooperatives",
        retail=True,
        branch=True,
        lengths=(12,),
    ),
    _b("035", "EXIM", "ธนาคารเพื่อการส่งออกและนำเข้าแห่งประเทศไทย", "Export-Import Bank of Thailand"),
    _b("039", "MHCB", "ธนาคารมิซูโฮ", "Mizuho Bank, Bangkok Branch"),
    _b("045", "BNPP", "ธนาคารบีเอ็นพี พารีบาส์", "BNP Paribas, Bangkok Branch"),
    _b("052", "BOC", "ธนาคารแห่งประเทศจีน (ไทย)", "Bank of China (Thai)"),
    _b("065", "TBANK", "ธนาคารธนชาต", "Thanachart Bank", active=False),
    _b(
        "066",
        "IBANK",
        "ธนาคารอิสลามแห่งประเทศไทย",
        "Islamic Bank of Thailand",
        retail=True,
        lengths=(10, 12),
    ),
    _b("067", "TISCO", "ธนาคารทิสโก้", "TISCO Bank", retail=True, lengths=(14,)),
    _b(
        "069",
        "KKP",
        "ธนาคารเกียรตินาคินภัทร",
        "Kiatnakin Phatra Bank",
        retail=True,
        lengths=(10, 14),
    ),
    _b("070", "ICBCT", "ธนาคารไอซีบีซี (ไทย)", "Industrial and Commercial Bank of China (Thai)"),
    _b("071", "TCRB", "ธนาคารไทยเครดิต", "Thai Credit Bank", retail=True),
    _b("073", "LHB", "ธนาคารแลนด์ แอนด์ เฮ้าส์", "Land and Houses Bank", retail=True),
    _b("079", "ANZ", "ธนาคารเอเอ็นแซด (ไทย)", "ANZ Bank (Thai)", verified=False),
    _b("080", "SMTB", "ธนาคารซูมิโตโม มิตซุย ทรัสต์ (ไทย)", "Sumitomo Mitsui Trust Bank (Thai)", verified=False),
    _b(
        "098",
        "SME D",
        "ธนาคารพัฒนาวิสาหกิจขนาดกลางและขนาดย่อมแห่งประเทศไทย",
        "SME Development Bank of Thailand",
        retail=True,
    ),
)

_BY_CODE: dict[str, Bank] = {bank.code: bank for bank in BANKS}
assert len(_BY_CODE) == len(BANKS), "duplicate bank code"

_BANK_CODE_RE = re.compile(r"[0-9]{3}", re.ASCII)
_BRANCH_CODE_RE = re.compile(r"[0-9]{4}", re.ASCII)
_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
# Separators people type or paste into account numbers: spaces (incl. no-break), hyphens/dashes, dots.
_ACCOUNT_SEPARATORS_RE = re.compile("[ \t\u00a0\u2007\u202f\\-\u2010-\u2015\u2212\uff0d.]")


def get_bank(code: str) -> Bank | None:
    """Return the bank with this 3-digit code, or None if the code is not in the table."""
    return _BY_CODE.get(code) if isinstance(code, str) else None


def payable_banks() -> list[Bank]:
    """Return the banks offered for welfare payees (active and retail), by code."""
    return [bank for bank in BANKS if bank.payable]


def clean_account_no(raw: str) -> str:
    """Remove spaces, hyphens and dots from an account number; the rest must be ASCII digits."""
    if not isinstance(raw, str):
        raise ValidationError("เลขที่บัญชีต้องเป็นข้อความตัวเลข", field="account_no", code="invalid_account_no")
    cleaned = _ACCOUNT_SEPARATORS_RE.sub("", raw)
    if not cleaned:
        raise ValidationError("กรุณาระบุเลขที่บัญชี", field="account_no", code="required")
    if _DIGITS_RE.fullmatch(cleaned) is None:
        raise ValidationError(
            "เลขที่บัญชีต้องเป็นตัวเลขอารบิก (0-9) เท่านั้น คั่นได้ด้วยช่องว่าง ขีด หรือจุด",
            field="account_no",
            code="invalid_account_no",
        )
    return cleaned


def _active_bank(bank_code: str) -> Bank:
    if not isinstance(bank_code, str) or _BANK_CODE_RE.fullmatch(bank_code) is None:
        raise ValidationError(
            "รหัสธนาคารต้องเป็นตัวเลขอารบิก 3 หลัก เช่น 006", field="bank_code", code="invalid_bank_code"
        )
    bank = _BY_CODE.get(bank_code)
    if bank is None:
        raise ValidationError(f"ไม่พบรหัสธนาคาร {bank_code}", field="bank_code", code="unknown_bank")
    if not bank.active:
        raise ValidationError(
            f"รหัสธนาคาร {bank.code} ({bank.name_th}) ไม่เปิดให้รับโอนเงินแล้ว",
            field="bank_code",
            code="inactive_bank",
        )
    return bank


def _lengths_th(lengths: tuple[int, ...]) -> str:
    return " หรือ ".join(str(n) for n in lengths)


def validate_bank_details(
    bank_code: str, branch_code: str | None, account_no: str
) -> tuple[str, str | None, str]:
    """Validate a payee's bank (known, active), branch and account; return (bank, branch or None, digits)."""
    bank = _active_bank(bank_code)

    branch: str | None = None
    if branch_code is not None and branch_code != "":
        if not isinstance(branch_code, str) or _BRANCH_CODE_RE.fullmatch(branch_code) is None:
            raise ValidationError(
                "รหัสสาขาต้องเป็นตัวเลขอารบิก 4 หลัก", field="branch_code", code="invalid_branch_code"
            )
        branch = branch_code
    if bank.branch_code_required and (branch is None or branch == NO_BRANCH):
        label = "ธ.ก.ส." if bank.code == BAAC_CODE else bank.name_th
        raise ValidationError(f"{label} ต้องระบุรหัสสาขา", field="branch_code", code="branch_code_required")

    account = clean_account_no(account_no)
    if len(account) not in bank.account_lengths:
        raise ValidationError(
            f"เลขที่บัญชีของ{bank.name_th}ต้องมี {_lengths_th(bank.account_lengths)} หลัก"
            f" (ที่กรอกมี {len(account)} หลัก)",
            field="account_no",
            code="invalid_account_length",
        )
    return bank.code, branch, account


def ktb_receiving_fields(bank_code: str, branch_code: str | None, account_no: str) -> tuple[str, str]:
    """Return the KTB file's 4-digit receiving branch and 11-digit receiving account fields (spec §7)."""
    code, branch, account = validate_bank_details(bank_code, branch_code, account_no)
    branch_field = branch or NO_BRANCH
    n = len(account)

    if code in (GSB_CODE, GHB_CODE):
        if n == 12:
            # d1..d12: account field d2..d12, branch field "999" + d1.
            return "999" + account[0], account[1:]
        if n == 15:
            return account[:4], account[-11:]
    elif code in (BAAC_CODE, HSBC_CODE) and n == 12:
        account = account[1:]
    elif code in (TISCO_CODE, KKP_CODE) and n == 14:
        account = account[4:]
    elif code == IBANK_CODE and n == 12:
        account = account[2:]

    if len(account) > RECEIVING_ACCOUNT_WIDTH:
        raise ValidationError(
            f"เลขที่บัญชี {n} หลักของธนาคารรหัส {code} ใส่ในไฟล์โอนเงินของกรุงไทยไม่ได้",
            field="account_no",
            code="account_not_transferable",
        )
    return branch_field, account.zfill(RECEIVING_ACCOUNT_WIDTH)


def mask_account_no(account_no: str | None) -> str | None:
    """An account number with only its last 4 digits shown (reliability.md D1)."""
    if not account_no:
        return account_no
    return "x" * max(0, len(account_no) - 4) + account_no[-4:]
