"""Alembic environment of reporting's database."""

import shared.audit
import shared.models  # noqa: F401
import services.reporting.welfare_card.models  # noqa: F401  (its tables are in Base.metadata)
from services.reporting.models import Base
from shared.db import PlatformBase
from shared.migrate import run_env

run_env([Base.metadata, PlatformBase.metadata])
