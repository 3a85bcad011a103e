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
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import sites
from engine.bpmn.diagram import HumanStep
from engine.people import units
from engine.store import driver


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
    named = units.routed_names(session, role_units.values())
    return {role: named.get(unit, str(unit)) for role, unit in role_units.items()}


def assignee_for(session: Session, case_id: int, step: HumanStep | None, data: dict[str, Any],
                 failed: sites.Failures, role_units: dict[str, int]) -> Assignee | None:
    if step is None:
        return None
    if step.assignee:
        computed, username = failed.attempt("assignee", step.assignee, data)
        if computed and username:
            return _holder(session, role_units, "assignee", {"username": str(username)})
        return None
    if step.same_assignee_as:
        return _holder(session, role_units, "sameAssigneeAs", {"cid": case_id},
                       last_of=tuple(step.same_assignee_as))
    return None


def _holder(session: Session, role_units: dict[str, int], rule: str, params: dict[str, Any],
            last_of: tuple[str, ...] = ()) -> Assignee | None:
    """The active account — named `username`, or who last completed one of the steps `last_of` in the case —
    if it holds one of the step's roles, in the unit it is wanted in, today. One statement on the driver, so
    the step's deferred writes go with it (the step just completed counts for `last_of`)."""
    if not role_units:
        return None
    pairs = tuple(role_units.items())
    bound = {**params, **{f"s{i}": step_id for i, step_id in enumerate(last_of)}}
    for i, (role, unit_id) in enumerate(pairs):
        bound[f"r{i}"], bound[f"u{i}"] = role, unit_id
    found = driver.run(session.connection(), _holder_statement(len(pairs), len(last_of)), bound).first()
    return Assignee(found.id, found.username, found.display_name, rule) if found else None


_LAST_COMPLETER = ("users.id = (SELECT completed_by_id FROM human_tasks WHERE case_id = :cid "
                   "AND step_id IN ({steps}) AND status = 'COMPLETED' AND completed_by_id IS NOT NULL "
                   "ORDER BY completed_at DESC, id DESC LIMIT 1)")
_HOLDER = ("SELECT users.id, users.username, users.display_name FROM users WHERE {who} AND users.active = TRUE "
           "AND EXISTS (SELECT 1 FROM user_roles WHERE user_roles.user_id = users.id AND ({holds}))")


@lru_cache(maxsize=64)
def _holder_statement(pairs: int, last_of: int) -> driver.Statement:
    """`_holder`'s statement for so many (role, unit) pairs and steps: placeholders only."""
    who = (_LAST_COMPLETER.format(steps=", ".join(f":s{i}" for i in range(last_of))) if last_of
           else "users.username = :username")
    holds = " OR ".join(f"(user_roles.role = :r{i} AND user_roles.unit_id = :u{i})" for i in range(pairs))
    return driver.Statement(_HOLDER.format(who=who, holds=holds))
