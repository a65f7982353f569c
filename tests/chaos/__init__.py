"""Fault injection against the real processes (reliability.md R1–R11, §6.2): ``make chaos``."""
