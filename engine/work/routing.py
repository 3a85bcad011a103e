"""Where a step that has just become ready goes: the unit each of its roles is wanted in, and the
person when the diagram says so (指定办理人).

Units (`role_units`): each role of the step is wanted in the unit `units.route` picks — the unit chosen
in the form field the step property `unitField` names (the 职能部门 a 建议件 is referred to, the
department of one 吹哨报到 instance), else the case's ancestor at the level `unitLevel` names (街道),
else the case's unit or the nearest unit above it where someone holds the role.

Without a rule a step waits in its lane's queue (待认领) for anyone holding the role. Two rules in the
diagram hand it to one person instead:
- `camunda:assignee`: an expression giving a username, e.g. `${handler}` where 分类交办 has a field
  `handler` of type `user` (role 承办人) — the leader picks the 承办人 directly;
- the step property `sameAssigneeAs` = step ids: the person who last completed one of those steps,
  e.g. 反馈答复 by whoever did 办理.
The person must still be active and hold one of the step's roles, in the unit it is wanted in, today;
otherwise the step waits in the queue as before (a failing expression is recorded on the case). A 试运行
case is never assigned: the designer does every step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from engine.bpmn import sites
from engine.bpmn.diagram import HumanStep
from engine.people import units
from engine.store.models import HumanTask, User, UserRole


@dataclass(frozen=True)
class Assignee:
    user_id: int
    username: str
    display_name: str
    rule: str  # "assignee" or "sameAssigneeAs"


def role_units(session: Session, case_unit_id: int, step: HumanStep | None, data: dict[str, Any]) -> dict[str, int]:
    """The unit each role of the step is wanted in."""
    if step is None:
        return {}
    field = step.properties.get("unitField")
    chosen = data.get(field) if field else None
    level = step.properties.get("unitLevel") or None
    return {role: units.route(session, case_unit_id, role, level=level, chosen=chosen) for role in step.roles}


def unit_names(session: Session, role_units: dict[str, int]) -> dict[str, str]:
    """{role: unit name}, as the trace shows where a step went."""
    named = units.names(session, role_units.values())
    return {role: named.get(unit, str(unit)) for role, unit in role_units.items()}


def assignee_for(session: Session, case_id: int, step: HumanStep | None, data: dict[str, Any],
                 failed: sites.Failures, role_units: dict[str, int]) -> Assignee | None:
    if step is None:
        return None
    if step.assignee:
        computed, username = failed.attempt("assignee", step.assignee, data)
        if computed and username:
            return _holder(session, str(username), role_units, "assignee")
        return None
    if step.same_assignee_as:
        user_id = session.scalar(
            select(HumanTask.completed_by_id)
            .where(HumanTask.case_id == case_id, HumanTask.step_id.in_(step.same_assignee_as),
                   HumanTask.status == "COMPLETED", HumanTask.completed_by_id.is_not(None))
            .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1))
        if user_id is not None:
            username = session.scalar(select(User.username).where(User.id == user_id))
            return _holder(session, username, role_units, "sameAssigneeAs") if username else None
    return None


def _holder(session: Session, username: str, role_units: dict[str, int], rule: str) -> Assignee | None:
    """The active account `username` if it holds one of the step's roles, in the unit it is wanted in, today."""
    wanted = tuple_(UserRole.role, UserRole.unit_id).in_(list(role_units.items()) or [("", 0)])
    found = session.execute(
        select(User.id, User.username, User.display_name).join(UserRole, UserRole.user_id == User.id)
        .where(User.username == username, User.active.is_(True), wanted).limit(1)).first()
    return Assignee(found.id, found.username, found.display_name, rule) if found else None
