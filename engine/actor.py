"""Who calls the engine: a staff user with roles, the system (timers, worker) or a resident."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is calling: a staff user with roles, or the system / a resident."""

    id: int | None
    username: str
    display_name: str
    roles: frozenset[str] = frozenset()
    session_version: int = 0  # a staff session is valid only while it matches the account's
    must_change_password: bool = False  # an administrator set the password: the person must replace it

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


SYSTEM = Actor(None, "system", "系统", frozenset({"系统"}))
