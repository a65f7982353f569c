"""marshmallow's English field messages become whole Thai sentences, detail kept."""

from __future__ import annotations

import pytest

from shared.web import thai_message

pytestmark = [pytest.mark.unit]


@pytest.mark.parametrize(
    ("english", "thai"),
    [
        ("Missing data for required field.", "กรุณากรอกข้อมูลช่องนี้"),
        (
            "Must be greater than or equal to 2500 and less than or equal to 2700.",
            "ต้องไม่น้อยกว่า 2500 และไม่มากกว่า 2700",
        ),
        ("Must be greater than 0.", "ต้องมากกว่า 0"),
        ("Length must be between 1 and 80.", "ความยาวต้องอยู่ระหว่าง 1 ถึง 80"),
        ("Must be one of: a, b.", "ต้องเป็นค่าใดค่าหนึ่งต่อไปนี้: a, b"),
    ],
)
def test_messages_are_thai(english: str, thai: str) -> None:
    assert thai_message(english) == thai
