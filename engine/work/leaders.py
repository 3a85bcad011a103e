"""Who leads whom (社区负责人 and their team), the one definition the team view (本组待办) and the
overdue notice to leaders read.

Today roles are global in one community, so a team is defined by the procedures, not by people:
- a **leader** holds a leader role (`LEADER_ROLES`: 社区负责人);
- a leader **leads** every procedure version whose diagram has a lane of their leader role — in
  民情流水线 the 社区负责人 lane (分类交办, 延期 decisions) supervises the whole line;
- **their team's work** is every open step (待办) of the non-sandbox cases of those versions, whoever
  holds the step and in whichever lane it is (受理员, 承办人 …);
- a 管理员 sees the work of every procedure.
When units come (a 街道 with its 社区), `led_versions` and `leaders_of` are the places to narrow
this by unit; the callers stay as they are.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn.diagram import Diagram
from engine.errors import Forbidden
from engine.people import notifications

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


def leaders_of(session: Session, d: Diagram) -> list[int]:
    """The active users who lead the procedure `d` (told when a step of it goes overdue)."""
    return notifications.role_members(session, leading_roles(d))
