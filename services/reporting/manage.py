"""``python -m services.reporting.manage migrate|...|rebuild --from <file or folder of events>``.

``rebuild`` empties reporting's event-built tables and applies the given event envelopes again
(JSON: one envelope, a list of envelopes, or JSON lines; a folder is read file by file in name
order).  Events are applied in ``occurred_at`` order.  Budgets and templates are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shared import manage
from shared.config import database_url
from shared.db import make_engine, make_sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def read_envelopes(path: Path) -> Iterator[dict[str, Any]]:
    """Event envelopes from a JSON / JSON-lines file, or from every such file in a folder."""
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl")) if path.is_dir() else [path]
    for file in files:
        text = file.read_text(encoding="utf-8").strip()
        if not text:
            continue
        if text.startswith("["):
            yield from json.loads(text)
        elif file.suffix == ".jsonl" or "\n{" in text:
            yield from (json.loads(line) for line in text.splitlines() if line.strip())
        else:
            yield json.loads(text)


def _occurred_at(envelope: dict[str, Any]) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(envelope["occurred_at"]).replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def rebuild_command(argv: list[str]) -> int:
    """Run ``rebuild --from PATH`` against reporting's database."""
    from services.reporting.services import rebuild

    parser = argparse.ArgumentParser(prog="services.reporting.manage rebuild")
    parser.add_argument(
        "--from", dest="source", required=True, type=Path, help="JSON file or folder of event envelopes"
    )
    args = parser.parse_args(argv)
    envelopes = sorted(read_envelopes(args.source), key=_occurred_at)
    engine = make_engine(database_url("reporting"))
    try:
        with make_sessionmaker(engine).begin() as session:
            counts = rebuild(session, envelopes)
    finally:
        engine.dispose()
    print(json.dumps(counts))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Reporting's command line: the shared commands plus ``rebuild``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "rebuild":
        return rebuild_command(argv[1:])
    return manage.main("reporting", MIGRATIONS, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
