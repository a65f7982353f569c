"""Log lines: national IDs and account numbers masked, UUIDs (task, case, event ids) kept whole."""

from __future__ import annotations

import pytest

from shared.logging import mask_digits

pytestmark = [pytest.mark.unit]


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("national id 1234567890123", "national id xxxxxxxxx0123"),
        ("id 1-2345-67890-12-3 grouped", "id x-xxxx-xxxx0-12-3 grouped"),
        ("account 0201234567", "account xxxxxx4567"),
        ("task 12345678-1234-4234-8234-123456789012 done", "task 12345678-1234-4234-8234-123456789012 done"),
        ("case e4df3d6c-478c-4e98-ba94-92676803acf5", "case e4df3d6c-478c-4e98-ba94-92676803acf5"),
        ("bad 12345678-1234-4234-8234-1234567890123", "bad xxxxxxxx-1234-4234-8234-xxxxxxxxx0123"),
        ("short 123456789 stays", "short 123456789 stays"),
    ],
)
def test_mask_digits(line: str, masked: str) -> None:
    assert mask_digits(line) == masked
