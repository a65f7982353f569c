"""Command line shared by every service's ``manage`` module: migrate, seed, show the URL."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from shared.config import database_url
from shared.migrate import downgrade, upgrade


def main(
    service: str,
    migrations_dir: Path,
    *,
    seed: Callable[[], None] | None = None,
    seed_demo: Callable[[], None] | None = None,
    argv: list[str] | None = None,
) -> int:
    """``python -m services.<svc>.manage migrate|seed|seed-demo|url|downgrade REV``."""
    parser = argparse.ArgumentParser(prog=f"services.{service}.manage")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create the database if needed and migrate it to the latest schema")
    down = sub.add_parser("downgrade", help="migrate down to a revision")
    down.add_argument("revision")
    sub.add_parser("seed", help="load reference data (idempotent)")
    sub.add_parser("seed-demo", help="load demo users and data (never in production)")
    sub.add_parser("url", help="print the database URL in use")
    args = parser.parse_args(argv)
    url = database_url(service)
    if args.command == "migrate":
        upgrade(migrations_dir, url)
    elif args.command == "downgrade":
        downgrade(migrations_dir, url, args.revision)
    elif args.command == "seed":
        if seed:
            seed()
    elif args.command == "seed-demo":
        if seed_demo:
            seed_demo()
    elif args.command == "url":
        print(url)
    return 0


if __name__ == "__main__":
    sys.exit(1)
