"""Case numbers counted per prefix (`CaseSequence`): one statement that creates the counter or
advances it, in the caller's transaction, so two cases started at once never get the same number
and a rolled-back start gives its number back."""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import driver

_NEXT = driver.Statement(
    "INSERT INTO case_sequences (prefix, last_number) VALUES (:prefix, 1) "
    "ON CONFLICT (prefix) DO UPDATE SET last_number = case_sequences.last_number + 1 RETURNING last_number")


def next_number(session: Session, prefix: str) -> int:
    """The next number under `prefix`: 1 for its first case."""
    return driver.run(session.connection(), _NEXT, {"prefix": prefix}).scalar_one()
