"""Who calls the engine: a staff user with roles held in units, the system (timers, worker) or a resident."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is calling: a staff user with roles, or the system / a resident.

    `grants` are the (role, unit id) pairs the person holds — 社区负责人 of 光明社区 is ("社区负责人", 7);
    `roles` are the same roles without their units (what a lane or an application page asks for).
    `scope` holds the paths of the units whose subtrees the person sees (every unit at or below one they
    hold a role in, see `engine.people.units`); None means every unit (a role held at the root of the only
    tree, the system)."""

    id: int | None
    username: str
    display_name: str
    roles: frozenset[str] = frozenset()
    session_version: int = 0  # a staff session is valid only while it matches the account's
    must_change_password: bool = False  # an administrator set the password: the person must replace it
    grants: frozenset[tuple[str, int]] = frozenset()
    scope: frozenset[str] | None = frozenset()

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def holds(self, roles: tuple[str, ...] | list[str], unit_id: int) -> bool:
        """The person holds one of `roles` in exactly the unit `unit_id` (where a step was routed). Who has
        no account (a resident, the system) belongs to no unit: their role is theirs in every unit."""
        if self.id is None:
            return self.has_role(*roles)
        return any((role, unit_id) in self.grants for role in roles)

    def sees_path(self, unit_path: str) -> bool:
        """The unit of that path is at or below one the person holds a role in."""
        return self.scope is None or any(unit_path.startswith(p) for p in self.scope)

    def units_of(self, *roles: str) -> frozenset[int]:
        """The units in which the person holds one of `roles`."""
        return frozenset(unit for role, unit in self.grants if role in roles)


SYSTEM = Actor(None, "system", "系统", frozenset({"系统"}), scope=None)
