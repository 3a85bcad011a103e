"""Roles held in units (社区负责人 of 光明社区) as 用户管理 edits them: the pairs an administrator may give,
what an account holds, and making an account hold exactly the pairs wanted.

An administrator gives and takes roles only in units of their own scope; what a person holds outside
it stays as it is. A closed unit takes no new roles (those held there before stay until taken away).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.store.models import Unit, UserRole

from . import units


@dataclass(frozen=True)
class Grant:
    """A role held in a unit: 社区负责人 of 光明社区."""

    role: str
    unit_id: int
    unit_name: str
    unit_path: str = ""

    @property
    def label(self) -> str:
        return f"{self.role}({self.unit_name})"


def resolve(session: Session, actor: Actor, user_id: int | None, wanted: list[tuple[str, Any]],
            errors: dict[str, str]) -> frozenset[tuple[str, int]]:
    """The (role, unit id) pairs the account is to hold: the wanted ones (a unit of None: where the
    person holds the role already, else the default unit), plus what they hold outside the
    administrator's scope, which stays as it is. A new pair must be in an open unit of the scope: the tree
    is locked first, as its changes lock it, so a unit being closed at this moment is read closed."""
    units.lock_tree(session)
    had = held(session, user_id) if user_id is not None else set()
    rows = {u.id: u for u in session.scalars(select(Unit))}
    result: set[tuple[str, int]] = set()
    for role, unit in wanted:
        if unit is None:
            result.update({(r, u) for r, u in had if r == role} or {(role, units.default_unit(session))})
            continue
        found = rows.get(int(unit)) if str(unit).isdigit() else None
        problem = ("所选单位不存在" if found is None
                   else "只能在您所辖范围内的单位授予角色" if not actor.sees_path(found.path)
                   else f"“{found.name}”已撤销,不能再授予角色" if found.closed_at is not None
                   and (role, found.id) not in had else None)
        if problem:
            errors.setdefault("grants", f"{role}:{problem}")
        else:
            result.add((role, found.id))
    outside = {(r, u) for r, u in had if u not in rows or not actor.sees_path(rows[u].path)}
    return frozenset(result | outside)


def held(session: Session, user_id: int) -> set[tuple[str, int]]:
    """The (role, unit id) pairs the account holds today."""
    return {(r, u) for r, u in session.execute(select(UserRole.role, UserRole.unit_id)
                                               .where(UserRole.user_id == user_id))}


def set_grants(session: Session, user_id: int, grants: frozenset[tuple[str, int]]) -> None:
    """The account holds exactly `grants`."""
    for row in session.scalars(select(UserRole).where(UserRole.user_id == user_id)):
        if (row.role, row.unit_id) not in grants:
            session.delete(row)
    session.flush()
    had = held(session, user_id)
    session.add_all(UserRole(user_id=user_id, role=r, unit_id=u) for r, u in sorted(grants) if (r, u) not in had)
    session.flush()


def grants_of(session: Session, user_id: int | None) -> dict[int, list[Grant]]:
    """Each account's grants with their units' names (of one account, or of all when None)."""
    query = (select(UserRole.user_id, UserRole.role, UserRole.unit_id, Unit.name, Unit.path)
             .join(Unit, Unit.id == UserRole.unit_id))
    if user_id is not None:
        query = query.where(UserRole.user_id == user_id)
    held: dict[int, list[Grant]] = {}
    for user, role, unit_id, unit_name, unit_path in session.execute(query):
        held.setdefault(user, []).append(Grant(role, unit_id, unit_name, unit_path))
    return held
