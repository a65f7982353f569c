"""Typed validation error shared by every E-Case service."""

from __future__ import annotations


class ValidationError(ValueError):
    """Invalid user input: a Thai message for people, a field name and a short English code for code."""

    field: str | None
    message: str
    code: str

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __repr__(self) -> str:
        return f"ValidationError({self.message!r}, field={self.field!r}, code={self.code!r})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Keyword-only arguments are lost by the default exception pickling; keep them.
        return (_rebuild, (type(self), self.message, self.field, self.code))

    def to_dict(self) -> dict[str, str | None]:
        """Return the error as a JSON-ready mapping (field, code, message)."""
        return {"field": self.field, "code": self.code, "message": self.message}


def _rebuild(cls: type[ValidationError], message: str, field: str | None, code: str) -> ValidationError:
    return cls(message, field=field, code=code)
