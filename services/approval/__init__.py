"""Approval: the committee's agenda, its decisions and approval batches that lock cases."""

from services.approval.app import create_app

__all__ = ["create_app"]
