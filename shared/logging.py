"""Logging as JSON lines, with national IDs and account numbers masked on the way out."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from shared.db import utcnow

# 13 digits (optionally grouped 1-4-5-2-1) and 10-15 digit runs: masked to the last 4 digits.
_LONG_DIGITS = re.compile(r"(?<![0-9])(?:[0-9][ -]?){9,14}[0-9](?![0-9])", re.ASCII)
# UUIDs (task ids, case ids, event ids) are kept whole: their digit groups are not personal data.
_UUID_OR_DIGITS = re.compile(
    r"(?P<uuid>(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"(?![0-9A-Fa-f-]))|" + _LONG_DIGITS.pattern,
    re.ASCII,
)


def mask_digits(text: str) -> str:
    """Replace runs of 10–15 digits (IDs, accounts) with x's, keeping the last 4 digits."""

    def _mask(match: re.Match[str]) -> str:
        raw = match.group(0)
        if match.group("uuid"):
            return raw
        digits = [c for c in raw if c.isascii() and c.isdigit()]
        keep = len(digits) - 4
        out = []
        seen = 0
        for c in raw:
            if c.isascii() and c.isdigit():
                out.append("x" if seen < keep else c)
                seen += 1
            else:
                out.append(c)
        return "".join(out)

    return _UUID_OR_DIGITS.sub(_mask, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields are encoded, so a newline in input cannot forge a line."""

    def __init__(self, process_name: str) -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": utcnow().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": self.process_name,
            "logger": record.name,
            "message": mask_digits(record.getMessage()),
        }
        if record.exc_info:
            payload["exception"] = mask_digits(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(process_name: str, level: int = logging.INFO) -> None:
    """Send this process's logs to stderr as masked JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in QUIET_LIBRARIES:  # their INFO lines say nothing an operator needs
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


#: Libraries whose INFO logging floods the logs (fontTools: one line per glyph subset of a PDF).
QUIET_LIBRARIES = ("fontTools",)
