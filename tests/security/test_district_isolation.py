"""District isolation (reliability.md S5): every endpoint × every role × district 1008's ids.

The operations come from the OpenAPI documents of the live system (the gateway's own and the four
services' through the gateway), so a new endpoint is swept as soon as it exists — or the test fails
until it is classified here.  For every operation and every caller of district 1001 (officer,
head, finance), the central office and the operator, district 1008's ids are put into the path
(every combination of enum values), district 1008's references into the query and the body, and
the answer is judged:

* a district-1001 user: a 2xx on a 1008 id is a leak; so is a list or query answer that contains
  any 1008 marker (case ids, names, national IDs, account numbers, batch ids, ref2s) or an object
  with ``district_code`` 1008.  The answer must also be the one an id that does not exist gets
  (same status and code), or the refusal reveals that the object exists;
* the central office reads every district by design, but must not change a district's cases,
  agenda or payments: a 2xx on such a mutation is a leak;
* the operator must see no personal data (names, national IDs, account numbers, documents) and
  change nothing of a district.

Mutations are sent with a *valid* body (tests/security/surface.py), and every table of every
service database is compared before and after each mutating operation: nothing may change.
Self-check: the same GETs as district 1008's own users succeed (at least one id per operation),
and a sample of the same mutations succeeds for them, so the substituted ids are real.
"""

from __future__ import annotations

import io
import json
import random
import uuid
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.security.conftest import ARTIFACTS, Client, Live, World, national_id
from tests.security.surface import Operation, body_for, choices, expand, fill, operations

pytestmark = [pytest.mark.e2e]

DEBUG = False
OWN, OTHER = "1008", "1001"
DISTRICT_USERS = (f"officer.{OTHER}", f"head.{OTHER}", f"finance.{OTHER}")
CITY_WIDE = ("central.admin", "operator")

#: Operations with nothing of a district to substitute (the caller's own district, the caller
#: itself, city-wide tooling).  GETs among them are still checked for 1008 data in the answer.
NOT_APPLICABLE = {
    ("POST", "/api/auth/token"): "public login",
    ("POST", "/api/intake/cases"): "records a case in the caller's own district",
    ("POST", "/api/approval/meetings"): "records a meeting of the caller's own district",
    ("POST", "/api/intake/welfare-types"): "city-wide catalogue (central office)",
    ("POST", "/api/intake/programmes"): "city-wide catalogue (central office)",
    ("POST", "/api/admin/users"): "user management (central office)",
    ("POST", "/api/intake/welfare-card/imports"): "a province's and agency's list (importers only)",
    ("POST", "/api/intake/welfare-card/projects"): "an agency's or a province's project",
}
OPS_PARAMS = {"dead_letter_id", "key"}  # operator tooling: dead letters and probes carry no district
#: Cross-district by design: the history check lists a person's cases in every district (DESIGN.md
#: "Check"); only personal data in the answer counts as a leak there.
BY_DESIGN_CROSS_DISTRICT = {
    ("GET", "/api/intake/citizens/{national_id}/history"),
    # The welfare card's public self-check (no login) and intake's end of it (the gateway's key only).
    ("GET", "/api/public/welfare-card/{national_id}"),
    ("GET", "/api/intake/welfare-card/public/{national_id}"),
    # Registration places are public: the self-check shows them to anyone.
    ("GET", "/api/intake/welfare-card/registration-places"),
}
#: What the central office may change in a district (documented in reporting.md / api.md).
CENTRAL_MAY_CHANGE = {
    ("PUT", "/api/reporting/budgets/{fiscal_year}/{district_code}"),
    ("PUT", "/api/reporting/templates/{doc}"),
    ("POST", "/api/intake/cases/{case_id}/check-amendment"),  # a check that changes nothing
    ("PATCH", "/api/intake/welfare-types/{code}"),
    ("PATCH", "/api/intake/programmes/{code}"),
    ("PATCH", "/api/admin/users/{username}"),
    ("POST", "/api/admin/users/{username}/password"),
    # The welfare card measure: the central office records results and follow-ups, manages places.
    ("POST", "/api/intake/welfare-card/participants/{national_id}/developments"),
    ("POST", "/api/intake/welfare-card/participants/{national_id}/follow-ups"),
    ("POST", "/api/intake/welfare-card/registration-places"),
    ("PATCH", "/api/intake/welfare-card/registration-places/{place_id}"),
}
#: Query parameters that can name another district's data.
QUERY_REFS = ("district_code", "area_code", "province_code", "batch_id", "national_id", "q")
DISTRICT_NAMES = {"1008": "ป้อมปราบศัตรูพ่าย", "1001": "พระนคร"}
FILE_TYPES = ("application/pdf", "application/vnd.openxmlformats", "text/plain", "application/octet")


def bogus(op: Operation, params: dict[str, Any]) -> dict[str, Any]:
    """The same parameters with every district object replaced by one that does not exist."""
    out = dict(params)
    for name, _enum in op.path_params:
        if _enum:
            continue
        value = params[name]
        if name == "job_id":
            out[name] = f"{str(value).split('-')[0]}-{'0' * 32}"
        elif name == "national_id":
            out[name] = national_id(random.Random(7))
        elif name == "district_code":
            out[name] = "1049"
        elif name == "username":
            out[name] = "officer.9999"
        elif isinstance(value, int):
            out[name] = 987654
        elif name not in ("fiscal_year", "code", "kind"):
            out[name] = str(uuid.uuid4())
    return out


def query_variants(op: Operation, world: World, district: str) -> list[dict[str, Any]]:
    ids = world.ids[district]
    welfare_card = "/welfare-card/" in op.path
    refs = {
        "district_code": district,
        "area_code": district,
        "province_code": "10",  # Bangkok: a district's users must still get their district only
        "batch_id": ids["payout_batch"],
        "national_id": world.people[district][0]["national_id"],
        "q": world.participants[district][0]["national_id"]
        if welfare_card
        else world.people[district][0]["first_name"],
    }
    return [{name: refs[name]} for name in QUERY_REFS if name in op.query_params]


def is_file(r: requests.Response) -> bool:
    return r.headers.get("Content-Type", "").startswith(FILE_TYPES)


def file_text(r: requests.Response) -> str | None:
    """The text inside a workbook answer (its XML parts); None for other files (PDF, KTB text)."""
    if not r.content.startswith(b"PK"):
        return None
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))


def markers_in(r: requests.Response, markers: set[str], district: str) -> list[str]:
    """Which of ``markers`` (or objects of ``district``) an answer shows; any PDF or text file counts."""
    if is_file(r):
        text = file_text(r)
        if text is None:
            return ["<a document>"]
        names = {DISTRICT_NAMES[district]} if district in DISTRICT_NAMES else set()
        return sorted(m for m in markers | names if m in text)
    try:
        body = r.json()
    except ValueError:
        return sorted(m for m in markers if m in r.text)
    text = json.dumps(body, ensure_ascii=False)  # Thai is \u-escaped on the wire
    found = sorted(m for m in markers if m in text)

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if district in (node.get("district_code"), node.get("area_code")):
                return True
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    if walk(body):
        found.append(f"an object of district {district}")
    return found


def error_code(r: requests.Response) -> str | None:
    try:
        return str(r.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class Sweep:
    tried: int = 0
    leaks: list[str] = field(default_factory=list)
    revealing: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    per_role: Counter[str] = field(default_factory=Counter)
    operations: int = 0
    not_applicable: list[str] = field(default_factory=list)
    self_checked: int = 0
    self_ok: int = 0

    def record(self, who: str, r: requests.Response) -> None:
        self.tried += 1
        self.statuses[r.status_code] += 1
        self.per_role[who] += 1


def _role(client: Client) -> str:
    return str(client.user["role"])


def judge(
    sweep: Sweep,
    op: Operation,
    client: Client,
    r: requests.Response,
    world: World,
    *,
    substituted: bool,
) -> None:
    """Record one call and decide whether it leaked."""
    sweep.record(client.username, r)
    where = f"{client.username} {op.method} {r.request.path_url} -> {r.status_code}"
    role = _role(client)
    ok = 200 <= r.status_code < 300
    if role == "operator":
        if ok and op.mutating and substituted:
            sweep.leaks.append(f"{where}: the operator changed a district's data")
        elif ok and substituted and is_file(r):
            sweep.leaks.append(f"{where}: the operator downloads a district's document")
        elif ok and (shown := markers_in(r, world.personal(OWN), "-")):
            sweep.leaks.append(f"{where}: the operator sees personal data {shown[:3]}")
        return
    if role == "central_admin":
        if ok and op.mutating and substituted and op.key not in CENTRAL_MAY_CHANGE:
            sweep.leaks.append(f"{where}: the central office changed a district's data")
        return
    if not ok:
        return
    if op.key in BY_DESIGN_CROSS_DISTRICT:
        if shown := markers_in(r, world.personal(OWN), "-"):
            sweep.leaks.append(f"{where}: personal data {shown[:3]}")
    elif substituted:
        sweep.leaks.append(f"{where}: another district's object answered")
    elif shown := markers_in(r, world.markers(OWN), OWN):
        sweep.leaks.append(f"{where}: shows {shown[:3]}")


def attackers(live: Live, op: Operation, substituted: bool) -> list[Client]:
    users = [*DISTRICT_USERS, "operator"]
    if substituted and op.mutating and op.key not in CENTRAL_MAY_CHANGE:
        users.append("central.admin")
    return [live.client(u) for u in users]


@dataclass
class Call:
    """One request of the sweep, and the answer once sent."""

    client: Client
    method: str
    path: str
    kwargs: dict[str, Any]
    substituted: bool
    unknown_path: str | None = None  # the same request for an object that does not exist
    response: requests.Response | None = None
    unknown: requests.Response | None = None

    def send(self) -> None:
        self.response = self.client.probe(self.method, self.path, **self.kwargs)
        ok = 200 <= self.response.status_code < 300
        if self.unknown_path and self.client.username in DISTRICT_USERS and not ok:
            self.unknown = self.client.probe(self.method, self.unknown_path, **self.kwargs)


def plan(live: Live, world: World, op: Operation, free: list[str]) -> list[Call]:
    """Every request the sweep makes for one operation."""
    calls: list[Call] = []
    if free:
        for n, params in enumerate(expand(op, choices(world, OWN, op))):
            # The first combination is also asked for an object that does not exist.
            path, unknown = fill(op.path, params), fill(op.path, bogus(op, params)) if n == 0 else None
            for client in attackers(live, op, True):
                calls.append(Call(client, op.method, path, body_for(op, world, OWN), True, unknown))
    elif op.method == "GET":
        for client in attackers(live, op, False):
            calls.append(Call(client, op.method, op.path, {}, False))
            for query in query_variants(op, world, OWN):
                calls.append(Call(client, op.method, op.path, {"params": query}, False))
    elif op.has_body:  # a mutation whose body names a district object (a meeting, a district code)
        for client in attackers(live, op, True):
            calls.append(Call(client, op.method, op.path, body_for(op, world, OWN), True))
    else:
        raise AssertionError(f"{op}: unclassified (no path parameter, no body): add it to NOT_APPLICABLE")
    return calls


def run_sweep(live: Live, world: World, threads: int = 4) -> Sweep:
    sweep = Sweep()
    ops = operations(live.client("central.admin"))
    sweep.operations = len(ops)
    state = live.digest()
    with ThreadPoolExecutor(threads) as pool:
        for op in ops:
            free = [name for name, enum in op.path_params if not enum]
            if op.key in NOT_APPLICABLE or OPS_PARAMS & set(free) or (op.mutating and "/ops/" in op.path):
                sweep.not_applicable.append(str(op))
                if op.method != "GET" or free:
                    continue
            elif any(not choices(world, OWN, op).get(name) for name in free):
                sweep.not_applicable.append(f"{op} (district {OWN} has no such object)")
                continue
            calls = plan(live, world, op, free)
            list(pool.map(Call.send, calls))
            for call in calls:
                assert call.response is not None
                if DEBUG and call.response.status_code == 400:
                    print(
                        "400:",
                        call.client.username,
                        call.method,
                        call.path,
                        call.kwargs.get("params"),
                        call.response.text[:200],
                    )
                judge(sweep, op, call.client, call.response, world, substituted=call.substituted)
                r, other = call.response, call.unknown
                if other is not None and (other.status_code, error_code(other)) != (
                    r.status_code,
                    error_code(r),
                ):
                    sweep.revealing.append(
                        f"{call.client.username} {call.method} {call.path}: {r.status_code}/{error_code(r)}"
                        f" for 1008's object, {other.status_code}/{error_code(other)} for none"
                    )
            if op.mutating:
                after = live.digest()
                changed = sorted(
                    f"{svc}.{table}" for (svc, table), d in after.items() if state.get((svc, table)) != d
                )
                if changed:
                    sweep.leaks.append(f"{op}: another district's call changed {changed}")
                state = after
    return sweep


def owner_for(op: Operation) -> str:
    if op.document == "payment" and op.mutating:
        return f"finance.{OWN}"
    if (op.document == "gateway" and "/admin/" in op.path) or "/welfare-card/imports" in op.path:
        return "central.admin"
    return f"head.{OWN}"


#: Answered to nobody but the gateway (its public check carries a key no user has).
GATEWAY_ONLY = {("GET", "/api/intake/welfare-card/public/{national_id}")}


def self_check(live: Live, world: World, sweep: Sweep) -> list[str]:
    """The same GETs as district 1008's own users: at least one id per operation must answer 2xx."""
    missing = []
    for op in operations(live.client("central.admin")):
        free = [name for name, enum in op.path_params if not enum]
        if op.mutating or not free or op.key in NOT_APPLICABLE or op.key in GATEWAY_ONLY:
            continue
        if OPS_PARAMS & set(free) or any(not choices(world, OWN, op).get(name) for name in free):
            continue
        owner = live.client(owner_for(op))
        answered = 0
        for params in expand(op, choices(world, OWN, op)):
            r = owner.probe(op.method, fill(op.path, params))
            if DEBUG and not r.ok:
                print("self:", owner.username, op.method, fill(op.path, params), r.status_code, r.text[:150])
            sweep.self_checked += 1
            if 200 <= r.status_code < 300:
                answered += 1
                sweep.self_ok += 1
        if not answered:
            missing.append(str(op))
    return missing


def test_no_endpoint_shows_or_changes_another_districts_data(live: Live, world: World) -> None:
    live.quiesce()
    sweep = run_sweep(live, world)
    missing = self_check(live, world, sweep)
    # The owners' own mutations with the same bodies succeed (sample): the ids and bodies are real.
    ids = world.ids[OWN]
    officer = live.client(f"officer.{OWN}")
    agenda_case = ids["cases"]["agenda"]
    for method, path, key in (
        (
            "POST",
            f"/api/intake/cases/{agenda_case}/home-visit",
            ("POST", "/api/intake/cases/{case_id}/home-visit"),
        ),
        ("PATCH", f"/api/intake/cases/{agenda_case}", ("PATCH", "/api/intake/cases/{case_id}")),
        ("PATCH", f"/api/approval/agenda/{agenda_case}", ("PATCH", "/api/approval/agenda/{case_id}")),
    ):
        op = Operation("", key[0], key[1], (), (), True)
        r = officer.call(method, path, **body_for(op, world, OWN))
        sweep.self_checked += 1
        sweep.self_ok += 200 <= r.status_code < 300
        assert 200 <= r.status_code < 300, f"owner {method} {path}: {r.status_code} {r.text[:300]}"

    summary = {
        "operations": sweep.operations,
        "not_applicable": len(sweep.not_applicable),
        "pairs_tried": sweep.tried,
        "pairs_leaked": len(sweep.leaks),
        "existence_revealed": len(sweep.revealing),
        "statuses": dict(sorted(sweep.statuses.items())),
        "per_caller": dict(sweep.per_role),
        "owner_self_check": {"tried": sweep.self_checked, "answered": sweep.self_ok},
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "isolation.json").write_text(
        json.dumps(
            {**summary, "leaks": sweep.leaks, "revealing": sweep.revealing}, indent=1, ensure_ascii=False
        )
    )
    print("district isolation:", json.dumps(summary, ensure_ascii=False))
    assert not missing, f"district 1008's own users cannot reach these with their ids: {missing}"
    assert sweep.tried > 500, sweep.tried
    assert not sweep.statuses.get(500), "internal errors: see the processes' logs"
    assert not sweep.leaks, "\n".join(sweep.leaks)
    assert not sweep.revealing, "\n".join(sweep.revealing)


def test_the_operator_reads_no_case_of_any_district(live: Live, world: World) -> None:
    """The operator watches queues; approval refuses it the cases as intake and payment do (403)."""
    operator = live.client("operator")
    ids = world.ids[OWN]
    for path in (
        f"/api/approval/agenda?district_code={OWN}",
        f"/api/approval/deferred?district_code={OWN}",
        f"/api/approval/cases/{ids['cases']['agenda']}",
        f"/api/approval/batches/{ids['approval_batch']}",
        f"/api/intake/cases/{ids['cases']['agenda']}",
        f"/api/payment/batches/{ids['payout_batch']}",
    ):
        r = operator.call("GET", path)
        assert (r.status_code, error_code(r)) == (403, "wrong_role"), (path, r.status_code, r.text[:200])
    central = live.client("central.admin")
    assert central.get(f"/api/approval/cases/{ids['cases']['agenda']}")["case_id"] == ids["cases"]["agenda"]
