"""Reporting's part of the state welfare card measure (docs/welfare_card.md): read models built from
intake's ``welfare_card.*`` events and the MIS summary (JSON and XLSX)."""
