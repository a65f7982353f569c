"""``python -m services.reporting.manage migrate``."""

from __future__ import annotations

import sys
from pathlib import Path

from shared import manage

if __name__ == "__main__":
    sys.exit(manage.main("reporting", Path(__file__).parent / "migrations"))
