"""Alembic environment of payment's database."""

import shared.audit
import shared.models  # noqa: F401
from services.payment.models import Base
from shared.db import PlatformBase
from shared.idempotency import IdempotencyBase
from shared.migrate import run_env

run_env([Base.metadata, PlatformBase.metadata, IdempotencyBase.metadata])
