"""转办/改派: a case moves to another unit of the tree (registered in the wrong 社区, or a 网格's matter
that belongs to its neighbour), with a reason, and its open steps follow it.

Who may: someone holding 社区负责人, 管理员 or 上级部门 in a unit at or above the case's unit *and* in a
unit at or above the target (a 社区负责人 moves between the 网格 of their 社区; the 街道's 上级部门 moves
between its 社区). The target must be open and in the tree (职能部门 and 包保单位 own no cases). A
finished or 试运行 case does not move.

What changes, in one transaction: the case's unit; each open step's roles are routed again from the
new unit (`routing.role_units`, as when the step became ready); a claim or an assignment whose holder
does not hold the step's role where it now goes is dropped (`task_unclaimed`), so the step waits in the
new unit's queue; the trace gets `case_moved` {from, to, reason, steps} with units' names; the people
the open steps now go to and the 社区负责人 of the new unit are notified (转办).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments
from engine.bpmn.formtypes import Choice
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.people import notifications, units
from engine.store import audit_chain, locks, worktallies
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import Case, CaseState, HumanTask, HumanTaskRole, Unit, UserRole

from . import casepages, routing, unitpicks

MOVER_ROLES = ("社区负责人", "管理员", "上级部门")
LEADER_ROLE = "社区负责人"  # told of a case moved into their unit even when no step waits there
NOT_ALLOWED = "只有事项所属单位及目标单位的社区负责人、管理员或上级部门可以转办"


@dataclass(frozen=True)
class Moved:
    """What a 转办 did, for the page's message."""

    number: str
    from_unit: str
    to_unit: str
    released: tuple[str, ...]  # the steps whose claim was dropped (their holder cannot do them there)
    still_visible: bool  # the mover still sees the case where it went (else the page sends them elsewhere)


def mover_paths(session: Session, actor: Actor) -> tuple[str, ...]:
    """The paths of the units in which the actor holds a role that moves cases; a case or a target at
    or below one of them is theirs to move."""
    if actor.id is None:
        return ()
    ids = actor.units_of(*MOVER_ROLES)
    return tuple(session.scalars(select(Unit.path).where(Unit.id.in_(sorted(ids))))) if ids else ()


def targets(session: Session, actor: Actor, case: Case) -> tuple[Choice, ...]:
    """The units the actor may move the case to (none when they may not move it)."""
    if case.sandbox or case.status == "completed":
        return ()
    paths = mover_paths(session, actor)
    here = session.scalar(select(Unit.path).where(Unit.id == case.unit_id))
    if not paths or here is None or not here.startswith(paths):
        return ()
    offered = [u for u in unitpicks.open_tree_units(session, paths) if u != case.unit_id]
    return unitpicks.choices(session, offered)


def move_case(db: Database, actor: Actor, number: str, unit_id: int | None, reason: str) -> Moved:
    """转办 the case `number` to `unit_id`; every check comes before the first write."""
    reason = free_text.clean(reason, "reason", "转办原因", free_text.TEXT)
    with db.write() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
        if case_id is None or not locks.lock_case(session, case_id):
            raise NotFound(f"事项 {number} 不存在")
        case = session.execute(select(Case).where(Case.id == case_id)
                               .execution_options(populate_existing=True)).scalar_one()
        paths = mover_paths(session, actor)
        source = units.get(session, case.unit_id)
        if not paths or not source.path.startswith(paths):
            raise Forbidden(NOT_ALLOWED)
        if case.sandbox:
            raise Conflict("试运行事项不能转办")
        if case.status == "completed":
            raise Conflict(f"事项 {number} 已办结,不能转办")
        target = _target(session, unit_id, source, paths)
        if not reason:
            raise InvalidInput("请填写转办原因", {"reason": "请填写转办原因"})
        session.execute(update(Case).where(Case.id == case.id)
                        .values(unit_id=target.id, updated_at=clock.now(), revision=Case.revision + 1))
        worktallies.move(session.connection(), case.id, source.id, target.id)  # before the rows move
        session.execute(update(HumanTask).where(HumanTask.case_id == case.id).values(unit_id=target.id))
        steps, released, concerned = _reroute(session, actor, case, target.id)
        audit_chain.append(session, case.id, actor.username, "case_moved",
                           data={"from": source.name, "to": target.name, "reason": reason, "steps": steps})
        concerned += notifications.grant_members(session, [(LEADER_ROLE, target.id)])
        notifications.notify(session, [u for u in concerned if u != actor.id], "transfer",
                             f"{actor.display_name}把事项 {case.number} {case.title} 从{source.name}转办到"
                             f"{target.name}:{reason}", case_id=case.id)
        session.refresh(case)
        return Moved(case.number, source.name, target.name, tuple(released), _sees(session, actor, case))


def _target(session: Session, unit_id: int | None, source: Unit, paths: tuple[str, ...]) -> Unit:
    if unit_id is None:
        raise InvalidInput("请选择转办到的单位", {"unit_id": "请选择转办到的单位"})
    target = session.get(Unit, unit_id) if 0 < unit_id <= unitpicks.MAX_ID else None
    problem = ("所选单位不存在" if target is None
               else "事项已在所选单位,请选择另一个单位" if target.id == source.id
               else "所选单位已撤销" if target.closed_at is not None
               else f"“{target.name}”是{target.level},不承办事项,请选择社区或网格" if target.beside
               else None if target.path.startswith(paths) else "您不能把事项转办到所选单位")
    if problem:
        raise InvalidInput(problem, {"unit_id": problem})
    return target


def _reroute(session: Session, actor: Actor, case: Case, unit_id: int
             ) -> tuple[dict[str, dict[str, str]], list[str], list[int]]:
    """Route each open step again from the case's new unit: its (role, unit) rows, and its claim when
    the holder cannot do it there. Returns {step name: {role: unit name}}, the steps released and the
    people the open steps now go to."""
    d = deployments.diagram_of(session, case.version_id)
    state = session.get(CaseState, case.id)
    case_data = dict(state.data) if state else {}
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "READY")
                           .order_by(HumanTask.id)).all()
    steps: dict[str, dict[str, str]] = {}
    released: list[str] = []
    concerned: list[int] = []
    for row in rows:
        wanted = routing.role_units(session, unit_id, d.steps.get(row.step_id), {**case_data, **(row.data or {})})
        for role, unit in wanted.items():
            session.execute(update(HumanTaskRole).where(HumanTaskRole.human_task_id == row.id,
                                                        HumanTaskRole.role == role).values(unit_id=unit))
        steps[row.name] = routing.unit_names(session, wanted)
        if row.assignee_id is not None and not _holds_any(session, row.assignee_id, wanted):
            row.assignee_id = None
            released.append(row.name)
            audit_chain.append(session, case.id, actor.username, "task_unclaimed", step_id=row.step_id,
                               step_name=row.name, lane=row.lane,
                               data={"reason": "事项已转办,认领人在新单位没有此步骤的角色"})
        session.flush()
        concerned += notifications.task_people(session, row)
    return steps, released, concerned


def _sees(session: Session, actor: Actor, case: Case) -> bool:
    try:
        casepages.check_can_view(session, actor, case)
    except Forbidden:
        return False
    return True


def _holds_any(session: Session, user_id: int, wanted: dict[str, int]) -> bool:
    held = set(session.execute(select(UserRole.role, UserRole.unit_id).where(UserRole.user_id == user_id)).all())
    return any((role, unit) in held for role, unit in wanted.items())


def case_unit(session: Session, actor: Actor, case_id: int, *, moving: bool = True) -> tuple[str, tuple[Choice, ...]]:
    """A case page's 所属单位 and, when `moving`, where the reader may move the case."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"事项 {case_id} 不存在")
    return units.get(session, case.unit_id).name, targets(session, actor, case) if moving else ()
