"""Alembic environment of intake's database."""

import shared.audit
import shared.models  # noqa: F401
import services.intake.welfare_card.models  # noqa: F401  (the welfare card tables share Base)
from services.intake.models import Base
from shared.db import PlatformBase
from shared.migrate import run_env

run_env([Base.metadata, PlatformBase.metadata])
