"""``python -m services.approval.manage migrate``."""

from __future__ import annotations

import sys
from pathlib import Path

from shared import manage

if __name__ == "__main__":
    sys.exit(manage.main("approval", Path(__file__).parent / "migrations"))
