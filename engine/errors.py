"""One small tree of errors; each knows the HTTP status it becomes.

The web layer turns any `MinyiError` into a page or JSON in one place, so the
engine can raise them without knowing about HTTP.
"""
from __future__ import annotations

from dataclasses import dataclass, field


class MinyiError(Exception):
    """Base of every error a user may see. `message` is shown as-is (Chinese)."""

    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "message": self.message}


class MalformedRequest(MinyiError):
    """A request no page of ours sends: bytes that are not UTF-8, a NUL character, JSON that does not parse."""

    status = 400


class NotFound(MinyiError):
    status = 404


class Forbidden(MinyiError):
    status = 403


class Unauthorized(MinyiError):
    status = 401


class Conflict(MinyiError):
    """The state changed under the caller: already completed, claimed by someone else…"""

    status = 409


class RateLimited(MinyiError):
    status = 429


class InvalidInput(MinyiError):
    """Bad form data. `fields` maps field id → message, shown next to each field."""

    status = 422

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = dict(fields or {})

    def to_dict(self) -> dict:
        return {**super().to_dict(), "fields": self.fields}


@dataclass(frozen=True)
class Problem:
    """One problem found in a diagram: where it is and what is wrong."""

    file: str
    element_id: str
    element_name: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        element = self.element_id or "-"
        if self.element_name:
            element += f" ({self.element_name})"
        return f"{where}: {element}: {self.message}"


class DiagramInvalid(MinyiError):
    """A diagram that cannot be deployed or run; carries every problem found."""

    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("流程图有 %d 处问题:\n" % len(self.problems) + "\n".join(map(str, self.problems)))

    def to_dict(self) -> dict:
        return {
            **super().to_dict(),
            "problems": [p.__dict__ for p in self.problems],
        }


class ExpressionError(MinyiError):
    """A designer's expression that is unsafe, malformed or failed to evaluate."""

    status = 422


@dataclass
class ErrorContext:
    """Where an expression came from, to make its error messages point at the element."""

    element_id: str = ""
    element_name: str = ""
    extra: dict = field(default_factory=dict)
