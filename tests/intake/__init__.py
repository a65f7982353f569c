"""Tests of the intake service."""
