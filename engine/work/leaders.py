"""Who leads whom (社区负责人 and their team), the one definition the team view (本组待办) and the
overdue notice to leaders read.

Today roles are global in one community, so a team is defined by the procedures, not by people:
- a **leader** holds a leader role (`LEADER_ROLES`: 社区负责人);
- a leader **leads** every procedure version whose diagram has a lane of their leader role — in
  民情流水线 the 社区负责人 lane (分类交办, 延期 decisions) supervises the whole line;
- **their team's work** is every open step (待办) of the non-sandbox cases of those versions, whoever
  holds the step and in whichever lane it is (受理员, 承办人 …);
- a 管理员 sees the work of every procedure.
With units, a leader leads in the units at or below where they hold the leader role (`led_units`; a
管理员 wherever they see), and a case's leaders are the holders of the leader role in the case's unit or
the nearest unit above it where someone holds it (`leaders_of`).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn.diagram import Diagram
from engine.errors import Forbidden
from engine.people import notifications, units

LEADER_ROLES = ("社区负责人",)
ADMIN_ROLE = "管理员"
NOT_A_LEADER = "只有社区负责人(或管理员)可以查看本组待办"


def is_leader(actor: Actor) -> bool:
    return actor.has_role(*LEADER_ROLES, ADMIN_ROLE)


def require_leader(actor: Actor) -> None:
    if not is_leader(actor):
        raise Forbidden(NOT_A_LEADER)


def leading_roles(d: Diagram) -> tuple[str, ...]:
    """The leader roles that lead a procedure: those among its lanes."""
    return tuple(role for role in LEADER_ROLES if role in d.lanes)


def led_versions(actor: Actor, versions: Iterable[tuple[int, Diagram]]) -> list[int] | None:
    """The ids of the procedure versions the actor leads, among `versions` (every non-draft version with
    its diagram: drafts, 试运行, are never anyone's team work); None for all of them (管理员)."""
    if actor.has_role(ADMIN_ROLE):
        return None
    return [version_id for version_id, d in versions if actor.has_role(*leading_roles(d))]


def led_units(session: Session, actor: Actor) -> frozenset[int] | None:
    """The units whose cases are the leader's team work: at or below a unit where they hold a leader role
    (a 管理员: every unit they see); None for every unit."""
    if actor.has_role(ADMIN_ROLE) or actor.scope is None:
        return units.scope_ids(session, actor.scope)
    return frozenset(units.subtree_ids(session, actor.units_of(*LEADER_ROLES)))


def leaders_of(session: Session, d: Diagram, case_unit_id: int) -> list[int]:
    """The active users who lead the procedure `d` for a case of `case_unit_id` (told when a step of it goes
    overdue): holders of its leader roles in the case's unit or the nearest unit above it holding them."""
    found: list[int] = []
    for role in leading_roles(d):
        found += notifications.role_members(session, [role], [units.route(session, case_unit_id, role)])
    return sorted(set(found))
