"""Send corpus entries to a live gateway and judge the answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests

from tests.badinput.corpus import MISSING, Entry

THAI = re.compile("[\u0e01-\u0e5b]")
LEAKS = ("Traceback", 'File "/', "sqlalchemy", "psycopg", "werkzeug", "Exception", "Error:")


@dataclass
class Outcome:
    entry: Entry
    status: int
    body: str
    problems: list[str]


def send(base_url: str, tokens: dict[str, str], ids: dict[str, Any], entry: Entry) -> requests.Response:
    """One request as the entry describes it."""
    headers = dict(entry.headers)
    if entry.user is not None:
        headers["Authorization"] = f"Bearer {tokens[entry.user]}"
    kwargs: dict[str, Any] = {}
    if entry.json is not MISSING:
        kwargs["json"] = entry.json
    elif entry.raw is not None:
        kwargs["data"] = entry.raw
        if entry.content_type:
            headers["Content-Type"] = entry.content_type
    if entry.files is not None:
        kwargs["files"] = entry.files
    if entry.data is not None:
        kwargs["data"] = entry.data
    url = base_url + entry.path.format(**ids)
    return requests.request(entry.method, url, headers=headers, timeout=120, allow_redirects=False, **kwargs)


def judge(entry: Entry, response: requests.Response) -> list[str]:
    """What is wrong with an answer (empty when it is the refusal the entry expects)."""
    problems = []
    status = response.status_code
    text = response.text
    if status not in entry.status:
        problems.append(f"status {status}, expected {entry.status}")
    if status >= 500:
        problems.append("a server error (5xx)")
    for leak in LEAKS:
        if leak in text:
            problems.append(f"the body shows {leak!r}")
    if entry.plain:
        return problems
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        problems.append(f"content type {response.headers.get('Content-Type')!r}, not JSON")
        return problems
    try:
        body = response.json()
    except ValueError:
        return [*problems, "the body is not JSON"]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return [*problems, "no error object"]
    message = error.get("message")
    if not isinstance(message, str) or not THAI.search(message):
        problems.append(f"message not in Thai: {message!r}")
    if not isinstance(error.get("code"), str) or not error.get("code"):
        problems.append("no error code")
    if entry.code and error.get("code") != entry.code:
        problems.append(f"code {error.get('code')!r}, expected {entry.code!r}")
    fields = error.get("fields") or {}
    if entry.field:
        if entry.field not in fields:
            problems.append(f"field {entry.field!r} not named (fields: {sorted(fields)})")
        elif not THAI.search(str(fields[entry.field])):
            problems.append(f"field message not in Thai: {fields[entry.field]!r}")
    return problems


def run(base_url: str, tokens: dict[str, str], ids: dict[str, Any], entries: list[Entry]) -> list[Outcome]:
    out = []
    for entry in entries:
        response = send(base_url, tokens, ids, entry)
        out.append(Outcome(entry, response.status_code, response.text[:600], judge(entry, response)))
    return out
