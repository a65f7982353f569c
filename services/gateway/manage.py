"""``python -m services.gateway.manage migrate|seed-demo``."""

from __future__ import annotations

import sys
from pathlib import Path

from services.gateway.demo import demo_password, load_demo_users
from shared import manage
from shared.config import database_url
from shared.db import make_engine, make_sessionmaker


def seed_demo() -> None:
    """Create the demo users of CONTRACT.md and print them."""
    engine = make_engine(database_url("gateway"))
    with make_sessionmaker(engine).begin() as session:
        names = load_demo_users(session)
    engine.dispose()
    print(f"Demo users (password: {demo_password()}):")
    for name in names:
        print("  -", name)


if __name__ == "__main__":
    sys.exit(manage.main("gateway", Path(__file__).parent / "migrations", seed_demo=seed_demo))
