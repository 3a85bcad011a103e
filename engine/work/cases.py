"""Starting cases and completing their human steps — each call one transaction.

Every write locks the case row first (SELECT … FOR UPDATE on PostgreSQL, the
database write lock on SQLite), checks the caller's right to act, validates the
form, runs the workflow, and writes state, task index and audit events together.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments, forms, sites, spiff
from engine.bpmn.diagram import Diagram
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.people import notifications, units
from engine.people.oversight import READ_ONLY_MESSAGE, in_charge, only_reads
from engine.store import audit_chain, locks, sequences
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import Case, CaseLink, Comment, DiagramVersion, HumanTask, HumanTaskRole, Unit, User, UserRole

from . import formpages, publishing, runtime, unitpicks
from .autosteps import AutoSteps
from .casepages import SUPERVISOR_ROLES
from .views import Procedure

DESIGNER_ROLE = "流程设计人员"


@dataclass(frozen=True)
class NewTask:
    id: int
    step_name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class StepResult:
    """What a start or a completion produced: the case and the steps now waiting."""

    case_id: int
    case_number: str
    case_status: str
    new_tasks: tuple[NewTask, ...]


def procedures_for(db: Database, actor: Actor) -> list[Procedure]:
    """Procedures the actor may start (their role is among the diagram's starter groups)."""
    with db.read() as session:
        found = []
        for row in deployments.latest_versions(session):
            d = deployments.diagram_of(session, row.id)
            if may_start(actor, d):
                found.append(Procedure(d.process_id, d.name, row.id, formpages.shown(session, d.start_form, {}),
                                       forms.default_values(d.start_form, {})))
        return found


def start_form(db: Database, actor: Actor, process_id: str) -> Procedure:
    """The start form of the latest version, refused exactly as `start_case` refuses (404 / 403)."""
    with db.read() as session:
        version_id = deployments.latest_version_id(session, process_id)
        if version_id is None:
            raise NotFound(f"流程 “{process_id}” 不存在或尚未部署")
        d = deployments.diagram_of(session, version_id)
        _check_may_start(actor, d)
        unit_field, home = unitpicks.intake_field(session, actor, d.start_roles)
        return Procedure(d.process_id, d.name, version_id, formpages.shown(session, d.start_form, {}),
                         forms.default_values(d.start_form, {}), unit_field, home)


def _check_may_start(actor: Actor, d: Diagram) -> None:
    if not may_start(actor, d):
        if not d.start_roles:
            raise Forbidden(f"{READ_ONLY_MESSAGE},不能发起“{d.name}”")
        raise Forbidden(f"您的角色不能发起“{d.name}”(需要:{'、'.join(d.start_roles)})")


def may_start(actor: Actor, d: Diagram) -> bool:
    """A starter role of the diagram, or 管理员; a diagram naming none is open to all staff but 审计."""
    if not d.start_roles:
        return not only_reads(actor)
    return actor.has_role(*d.start_roles) or actor.has_role("管理员")


# Extra writes that must commit or fail together with a start or a completion (e.g. a resident's
# follow-up code, uploaded files); called with the session and the locked case before the commit.
# The case is a plain object: what the callback changes on it is not saved; it writes with statements.
InTransaction = Callable[[Session, Case], None]


def start_case(db: Database, actor: Actor, process_id: str, values: dict[str, Any],
               also: InTransaction | None = None, *, sandbox_version: int | None = None,
               unit_id: int | None = None) -> StepResult:
    """Register a new case (受理): validate the start form, issue the case number, run to the first people.

    The case belongs to `unit_id` (a 社区 or 网格 the actor sees; a resident may name any) or, when
    none is given, to the actor's own unit (`units.home_unit`).
    `sandbox_version` starts a 试运行 case of that (draft) version instead: only designers may, and
    such a case never shows in task lists, the public board or statistics."""
    with db.write() as session:
        if sandbox_version is not None:
            version_id = _sandbox_version(session, actor, process_id, sandbox_version)
        else:
            version_id = deployments.latest_version_id(session, process_id)
        if version_id is None:
            raise NotFound(f"流程 “{process_id}” 不存在或尚未部署")
        d = deployments.diagram_of(session, version_id)
        if sandbox_version is None:
            _check_may_start(actor, d)
        failed = sites.Failures(d.start_id)
        cleaned = forms.validate(formpages.checked(session, d.start_form), values, {}, failed)
        sandbox = sandbox_version is not None
        prefix = ("试运行-" if sandbox else "") + d.properties.get("caseNumberPrefix", "AJ")
        home = intake_unit(session, actor, d, unit_id)
        serial = sequences.next_number(session, prefix)  # each procedure, and its 试运行, counts on its own
        case = runtime.insert_case(session, version_id=version_id, process_id=d.process_id, unit_id=home,
                                   started_by=actor.username, now=clock.now(), sandbox=sandbox,
                                   number=lambda case_id: f"{prefix}-{clock.today():%Y%m%d}-{serial:06d}")
        workflow = spiff.new_workflow(d.engine, cleaned)
        decided = AutoSteps()
        spiff.advance(workflow, decided)
        audit_chain.append(session, case.id, actor.username, "case_started", step_id=d.start_id,
                     step_name=d.element_names.get(d.start_id, ""), lane=",".join(actor.roles & set(d.lanes)),
                     data={"values": cleaned, "version": d.hash[:12], "number": case.number})
        runtime.record_failures(session, case.id, failed.found, d.element_names.get(d.start_id, ""), "")
        decided.record(session, case.id, d)
        created = runtime.save(session, case, d, workflow, actor.username)
        if also is not None:
            also(session, case)
        result = _result(case, created, d)
    runtime.remember(case.id, case.revision, workflow)
    return result


def intake_unit(session: Session, actor: Actor, d: Diagram, unit_id: int | None) -> int:
    """The unit a new case belongs to: the one asked for, when it is an open unit of the tree the actor
    may register in (staff: one they see; a resident, who has no unit: any), else the actor's own."""
    if unit_id is None:
        return units.home_unit(session, actor.grants, d.start_roles)
    unit = session.get(Unit, unit_id)
    problem = ("所选单位不存在" if unit is None else "所选单位已撤销" if unit.closed_at is not None
               else f"“{unit.name}”是{unit.level},不受理事项,请选择社区或网格" if unit.beside
               else None if actor.id is None or units.sees(session, actor, unit_id) else "您不能在所选单位登记事项")
    if problem:
        raise InvalidInput(problem, {"unit_id": problem})
    return unit_id


def complete_task(db: Database, actor: Actor, task_id: int, values: dict[str, Any],
                  also: InTransaction | None = None) -> StepResult:
    """Complete a ready human step with the submitted form; nothing is saved if anything fails."""
    remembered: list[tuple[int, int, Any]] = []
    with db.write() as session:
        locked = runtime.lock_task(session, task_id)
        if locked is None:
            raise NotFound(f"任务 {task_id} 不存在")
        row, case, d = locked.task, locked.case, locked.diagram
        check_can_work(session, actor, row, locked.grants)
        if row.assignee_id is not None and row.assignee_id != actor.id:
            holder = session.get(User, row.assignee_id)
            raise Conflict(f"该任务已由 {holder.display_name if holder else '他人'} 认领,不能由您办理")
        created = _complete_locked(session, actor, locked, values, remembered)
        if also is not None:
            also(session, case)
        result = _result(case, created, d)
    for case_id, revision, workflow in remembered:
        runtime.remember(case_id, revision, workflow)
    return result


def _complete_locked(session: Session, actor: Actor, locked: runtime.Locked, values: dict[str, Any],
                     remembered: list, via: str | None = None) -> list[runtime.ReadyTask]:
    row, case, d = locked.task, locked.case, locked.diagram
    step = d.steps.get(row.step_id)
    if step is None:
        raise NotFound(f"步骤 {row.step_id} 不在该流程版本中")
    before = {**locked.data, **(row.data or {})}
    failed = sites.Failures(step.id)
    cleaned = forms.validate(formpages.checked(session, step.form, case.unit_id), values, before, failed)
    workflow = runtime.load_workflow(session, case, d)
    task = spiff.task_by_id(workflow, row.task_uuid)
    if task is None or not spiff.is_ready(task):
        raise Conflict("该任务已不在待办状态")
    decided = AutoSteps()
    spiff.complete(workflow, task, {**cleaned, **forms.appended(step.form, cleaned, spiff.accumulated_data(task))},
                   decided)
    runtime.mark_completed(session, row, actor.id, clock.now(), sandbox=case.sandbox)
    changes = {k: [before.get(k), v] for k, v in cleaned.items() if k in before and before.get(k) != v}
    payload: dict[str, Any] = {"values": cleaned, "changes": changes}
    if via:
        payload["via"] = via
    audit_chain.append(session, case.id, actor.username, "task_completed", step_id=row.step_id,
                 step_name=row.name, lane=row.lane, data=payload)
    runtime.record_failures(session, case.id, failed.found, row.name, row.lane)
    decided.record(session, case.id, d)
    created = runtime.save(session, case, d, workflow, actor.username, locked.open_steps)
    if case.sandbox:  # a 试运行 publishes nothing, but its publishing expressions must compute as a real case's
        publishing.plan(case, d, step, dict(task.data))
    else:
        publishing.on_step_completed(session, case, d, step, dict(task.data), actor.username)
    remembered.append((case.id, case.revision, workflow))
    if via is None:
        _answer_linked(session, actor, case, row, step.properties, cleaned, before, remembered)
    return created


def _answer_linked(session: Session, actor: Actor, case: Case, row: HumanTask, properties: dict,
                   cleaned: dict, before: dict, remembered: list) -> None:
    """A step marked `answerLinkedCases` answers every linked case waiting at the same step (专项反馈)."""
    rule = properties.get("answerLinkedCases")
    if not rule:
        return
    failed = sites.Failures(row.step_id)
    computed, applies = failed.attempt("answerLinkedCases", rule, {**before, **cleaned})
    runtime.record_failures(session, case.id, failed.found, row.name, row.lane)
    if not (computed and applies):
        return
    linked_ids = session.scalars(select(CaseLink.linked_case_id).where(CaseLink.case_id == case.id)).all()
    for linked_id in linked_ids:
        waiting = runtime.lock_waiting(session, linked_id, row.step_id)
        if waiting is not None:
            _complete_locked(session, actor, waiting, cleaned, remembered, via=case.number)


def _lock(session: Session, task_id: int) -> tuple[HumanTask, Case]:
    """The task and its case, read after taking the case's lock (`locks.lock_case_of_task`), so a
    task completed or claimed meanwhile is seen as it was committed."""
    if not locks.lock_case_of_task(session, task_id):
        raise NotFound(f"任务 {task_id} 不存在")
    found = session.execute(
        select(HumanTask, Case).join(Case, Case.id == HumanTask.case_id).where(HumanTask.id == task_id)
        .execution_options(populate_existing=True)).first()
    if found is None:
        raise NotFound(f"任务 {task_id} 不存在")
    return found[0], found[1]


def task_roles(session: Session, row: HumanTask) -> tuple[str, ...]:
    return tuple(dict.fromkeys(role for role, _ in task_grants(session, row)))


def task_grants(session: Session, row: HumanTask) -> tuple[tuple[str, int], ...]:
    """The (role, unit) pairs whose holders may do the step (its lane, in the unit it was routed to)."""
    return tuple((r, u) for r, u in session.execute(select(HumanTaskRole.role, HumanTaskRole.unit_id)
                                 .where(HumanTaskRole.human_task_id == row.id)).all())


def holds_step(actor: Actor, grants: tuple[tuple[str, int], ...]) -> bool:
    return any(actor.holds((role,), unit) for role, unit in grants)


def check_can_work(session: Session, actor: Actor, row: HumanTask,
                   grants: tuple[tuple[str, int], ...] | None = None) -> None:
    """The actor must hold one of the step's roles in the unit it was routed to, today — a claim or an
    assignment made while they held it is not enough; then the step must still be open. `grants`: the
    step's, when the caller has just read them in this transaction."""
    grants = task_grants(session, row) if grants is None else grants
    if not holds_step(actor, grants) and not _designer_in_sandbox(session, actor, row):
        roles = "、".join(dict.fromkeys(role for role, _ in grants))
        named = units.names(session, (unit for _, unit in grants))
        where = "、".join(dict.fromkeys(named.get(unit, "") for _, unit in grants))
        raise Forbidden(f"该任务属于{where}的“{roles}”,您无权查看或办理")
    if row.status == "COMPLETED":
        who = session.get(User, row.completed_by_id) if row.completed_by_id else None
        name = who.display_name if who else "系统"
        raise Conflict(f"该任务已由 {name} 于 {row.completed_at:%Y-%m-%d %H:%M} 完成,不能重复办理")
    if row.status != "READY":
        raise Conflict("该任务已取消(流程已走向其他分支)")


def _designer_in_sandbox(session: Session, actor: Actor, row: HumanTask) -> bool:
    """试运行: a designer walks a sandbox case through every lane; a real case never accepts this."""
    return actor.has_role(DESIGNER_ROLE) and bool(session.scalar(select(Case.sandbox).where(Case.id == row.case_id)))


def _sandbox_version(session: Session, actor: Actor, process_id: str, version_id: int) -> int:
    if not actor.has_role(DESIGNER_ROLE):
        raise Forbidden("只有流程设计人员可以试运行流程")
    row = session.get(DiagramVersion, version_id)
    if row is None or row.process_id != process_id:
        raise NotFound(f"流程 “{process_id}” 没有版本 {version_id}")
    return row.id


def _result(case: Case, created: list[runtime.ReadyTask], d: Diagram) -> StepResult:
    return StepResult(case.id, case.number, case.status, tuple(
        NewTask(t.id, t.name, d.steps[t.step_id].roles if t.step_id in d.steps else ()) for t in created))


# --- claiming and assigning (认领/退回/指派) ------------------------------------------

def claim(db: Database, actor: Actor, task_id: int) -> None:
    with db.write() as session:
        claim_in(session, actor, task_id)


def claim_in(session: Session, actor: Actor, task_id: int) -> None:
    """认领 inside the caller's write transaction; every check comes before the first write."""
    row, case = _lock(session, task_id)
    check_can_work(session, actor, row)
    if row.assignee_id not in (None, actor.id):
        holder = session.get(User, row.assignee_id)
        raise Conflict(f"该任务已由 {holder.display_name if holder else '他人'} 认领")
    row.assignee_id = actor.id
    audit_chain.append(session, case.id, actor.username, "task_claimed", step_id=row.step_id,
                 step_name=row.name, lane=row.lane, data={})


def unclaim(db: Database, actor: Actor, task_id: int) -> None:
    with db.write() as session:
        row, case = _lock(session, task_id)
        check_can_work(session, actor, row)
        if row.assignee_id != actor.id and not in_charge(session, actor, case.unit_id, SUPERVISOR_ROLES):
            raise Forbidden("只能放回自己认领的任务")
        row.assignee_id = None
        audit_chain.append(session, case.id, actor.username, "task_unclaimed", step_id=row.step_id,
                     step_name=row.name, lane=row.lane, data={})


def assign(db: Database, actor: Actor, task_id: int, username: str) -> str:
    """A leader assigns an open step to a named colleague who holds one of its roles; their name."""
    with db.write() as session:
        return assign_in(session, actor, task_id, username)


def assign_in(session: Session, actor: Actor, task_id: int, username: str) -> str:
    """指派 inside the caller's write transaction; every check comes before the first write."""
    row, case = _lock(session, task_id)
    if not in_charge(session, actor, case.unit_id, SUPERVISOR_ROLES):
        raise Forbidden("只有本单位(或上级单位)的社区负责人可以指派任务")
    if row.status != "READY":
        raise Conflict("该任务已不在待办状态")
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise InvalidInput(f"用户 “{username}” 不存在", {"username": "用户不存在"})
    grants = task_grants(session, row)
    held = {(r, u) for r, u in session.execute(
        select(UserRole.role, UserRole.unit_id).where(UserRole.user_id == user.id))}
    if not held.intersection(grants):
        roles = "、".join(dict.fromkeys(role for role, _ in grants))
        raise InvalidInput(f"{user.display_name} 在本任务所属单位没有“{roles}”角色,不能指派",
                           {"username": "该用户在本任务所属单位没有此任务的角色"})
    row.assignee_id = user.id
    audit_chain.append(session, case.id, actor.username, "task_assigned", step_id=row.step_id,
                 step_name=row.name, lane=row.lane, data={"assignee": user.username})
    if user.id != actor.id:
        notifications.notify(session, [user.id], "assignment",
                             f"{actor.display_name}把“{row.name}”({case.number} {case.title})指派给您。",
                             case_id=case.id, task_id=row.id)
    return user.display_name


# --- comments and links -----------------------------------------------------------

def add_comment(db: Database, actor: Actor, case_number: str, text: str) -> None:
    text = free_text.clean(text, "text", "意见内容", free_text.TEXT)
    if not text:
        raise InvalidInput("意见内容不能为空", {"text": "请填写内容"})
    with db.write() as session:
        case = case_for(session, actor, case_number, lock=True)
        session.add(Comment(case_id=case.id, author=actor.username, at=clock.now(), text=text))
        audit_chain.append(session, case.id, actor.username, "comment", data={"text": text})


def link_cases(db: Database, actor: Actor, number: str, other_number: str) -> None:
    """Mark two cases as the same problem, so one 专项反馈 answers both."""
    if not actor.has_role(*SUPERVISOR_ROLES, "受理员"):
        raise Forbidden("只有受理员或社区负责人可以关联事项")
    with db.write() as session:
        first = case_for(session, actor, number)
        second = case_for(session, actor, other_number)
        locks.lock_cases(session, (first.id, second.id))
        if first.id == second.id:
            raise InvalidInput("不能把事项与自身关联", {"other": "请填写另一个受理编号"})
        if first.process_id != second.process_id:
            raise InvalidInput("只能关联同一流程的事项", {"other": "不是同一流程"})
        for a, b in ((first, second), (second, first)):
            if session.get(CaseLink, (a.id, b.id)) is None:
                session.add(CaseLink(case_id=a.id, linked_case_id=b.id))
                audit_chain.append(session, a.id, actor.username, "case_linked", data={"linked": b.number})


def case_for(session: Session, actor: Actor, number: str, lock: bool = False) -> Case:
    """A case the actor is about to write on (意见, 关联): one they see through a role that acts."""
    query = select(Case).where(Case.number == number)
    case = session.scalar(query.with_for_update() if lock else query)
    if case is None:
        raise NotFound(f"事项 {number} 不存在")
    from .casepages import check_can_view

    check_can_view(session, actor, case, acting=True)
    return case
