"""Payment: payout batches, KTB Corporate Online files, bank results and settlement."""

from services.payment.app import create_app

__all__ = ["create_app"]
