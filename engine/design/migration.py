"""Moving one running case to a newer version of its procedure (版本迁移), only when safe.

Cases stay on the version they started with. A designer may move a single case when
SpiffWorkflow's diff shows every step the case has done or is waiting at still exists,
unchanged where it matters, and the forms of its open steps keep their fields' types.
The preview runs the very migration on a scratch copy, so what it shows is what happens.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn import deployments, spiff, spiffmigrate
from engine.bpmn.diagram import Diagram
from engine.errors import Conflict, Forbidden, MinyiError, NotFound
from engine.people import units
from engine.store import audit_chain
from engine.store.db import Database
from engine.store.models import SORT_LAST, Case, CaseState, DiagramVersion, HumanTask, HumanTaskRole
from engine.work import routing, runtime

from .workspace import require_designer

OPEN = {"READY", "WAITING", "STARTED"}
# What may differ in the spec of a step the case is at; anything else makes the move unsafe.
HARMLESS = {"READY": {"bpmn_name", "lane", "documentation", "description", "extensions", "inputs", "outputs"},
            "WAITING": {"bpmn_name", "lane", "documentation", "description"},
            "STARTED": {"bpmn_name", "lane", "documentation", "description"}}


@dataclass(frozen=True)
class StepMapping:
    """An open step before the move and where it is after it."""

    old_id: str
    old_name: str
    new_id: str
    new_name: str


@dataclass(frozen=True)
class MigrationPreview:
    case_number: str
    from_version: int
    to_version: int
    from_label: str
    to_label: str
    reasons: tuple[str, ...]  # why not, in Chinese; empty when the move is safe
    mapping: tuple[StepMapping, ...]
    open_after: tuple[str, ...]  # names of the steps waiting for people after the move

    @property
    def safe(self) -> bool:
        return not self.reasons


def _label(session: Session, version_id: int) -> str:
    row = session.get(DiagramVersion, version_id)
    ids = list(session.scalars(select(DiagramVersion.id).where(
        DiagramVersion.process_id == row.process_id, DiagramVersion.draft.is_(False)).order_by(DiagramVersion.id)))
    return f"第 {ids.index(version_id) + 1} 版" if version_id in ids else "草稿"


def _name(d: Diagram, element_id: str) -> str:
    return d.element_names.get(element_id) or element_id


def _form_reasons(old: Diagram, new: Diagram, step_id: str) -> list[str]:
    if step_id not in old.steps or step_id not in new.steps:
        return []
    before = {f.id: f.type for f in old.steps[step_id].form}
    return [f"步骤 “{_name(new, step_id)}” 的表单字段 “{f.label}” 类型由 {before[f.id]} 改为 {f.type},"
            "已填写的内容可能不再合规" for f in new.steps[step_id].form if f.id in before and before[f.id] != f.type]


def _plan(session: Session, case: Case, to_version: int) -> tuple[MigrationPreview, Diagram, object | None]:
    """The preview, the new diagram, and the migrated workflow (None when unsafe)."""
    old = deployments.diagram_of(session, case.version_id)
    new = deployments.diagram_of(session, to_version)
    reasons: list[str] = []
    mapping: list[StepMapping] = []
    if new.process_id != case.process_id:
        reasons.append("目标版本属于另一个流程")
    if case.status != "running":
        reasons.append("事项已办结,不需要迁移")
    if case.version_id == to_version:
        reasons.append("事项已在该版本上运行")
    workflow = spiff.restore(old.engine, session.get(CaseState, case.id).state)
    changes, has_subprocesses = spiffmigrate.migration_changes(workflow, new.engine)
    if has_subprocesses:
        reasons.append("事项正在子流程中运行,引擎不能安全迁移子流程")
    for change in changes:
        name = _name(old, change.element_id)
        if change.new_element_id != change.element_id:
            done = "已完成的" if change.state == "COMPLETED" else "正在进行的"
            instead = f",看起来被替换成了 “{_name(new, change.new_element_id)}”" if change.new_element_id else ""
            reasons.append(f"{done}步骤 “{name}”({change.element_id})在新版本中已删除{instead},"
                           "事项无法对应到新版本")
            continue
        if change.state not in OPEN:
            continue
        unsafe = set(change.changed) - HARMLESS.get(change.state, set())
        if unsafe:
            reasons.append(f"正在进行的步骤 “{name}” 在新版本中改变了({'、'.join(sorted(unsafe))}),不能安全迁移")
        reasons.extend(_form_reasons(old, new, change.element_id))
        if change.element_id in old.steps:
            mapping.append(StepMapping(change.element_id, name, change.new_element_id,
                                       _name(new, change.new_element_id)))
    migrated, open_after = None, ()
    if not reasons:
        try:
            migrated = spiffmigrate.migrate(workflow, new.engine)
            open_after = tuple(_name(new, spiff.spec_name(t)) for t in spiff.ready_human_tasks(migrated))
        except MinyiError as exc:
            reasons.append(exc.message)
    preview = MigrationPreview(case.number, case.version_id, to_version, _label(session, case.version_id),
                               _label(session, to_version), tuple(reasons), tuple(mapping), open_after)
    return preview, new, migrated


def _case(session: Session, actor: Actor, number: str, lock: bool = False) -> Case:
    """The case to move, when it belongs to a unit the designer sees (theirs or one below)."""
    query = select(Case).where(Case.number == number)
    case = session.scalar(query.with_for_update() if lock else query)
    if case is None:
        raise NotFound(f"事项 {number} 不存在")
    if not units.sees(session, actor, case.unit_id):
        raise Forbidden("该事项不属于您所在单位或其下级单位,不能迁移")
    return case


def _target(session: Session, case: Case, to_version: int | None) -> int:
    target = to_version or deployments.latest_version_id(session, case.process_id)
    row = session.get(DiagramVersion, target) if target else None
    if row is None or row.draft:
        raise NotFound(f"流程版本 {to_version} 不存在")
    return row.id


def preview(db: Database, actor: Actor, number: str, to_version: int | None = None) -> MigrationPreview:
    """What moving the case to `to_version` (default: the latest) would do, or why it cannot."""
    require_designer(actor)
    with db.read() as session:
        case = _case(session, actor, number)
        return _plan(session, case, _target(session, case, to_version))[0]


def migrate(db: Database, actor: Actor, number: str, from_version: int, to_version: int) -> MigrationPreview:
    """Move the case in one transaction under its row lock; audited as `migrated`."""
    require_designer(actor)
    with db.write() as session:
        case = _case(session, actor, number, lock=True)
        if case.version_id != from_version:
            raise Conflict("事项的版本刚刚变化,请重新预览后再迁移")
        result, new, workflow = _plan(session, case, _target(session, case, to_version))
        if not result.safe:
            raise Conflict("不能迁移:" + ";".join(result.reasons))
        case.version_id = result.to_version
        audit_chain.append(session, case.id, actor.username, "migrated", data={
            "from_version": result.from_version, "to_version": result.to_version,
            "from": result.from_label, "to": result.to_label, "from_hash": deployments.diagram_of(
                session, result.from_version).hash[:12], "to_hash": new.hash[:12]})
        _relabel_open_steps(session, case, new)
        runtime.save(session, case, new, workflow, actor.username)
        session.flush()
        return result


def _relabel_open_steps(session: Session, case: Case, new: Diagram) -> None:
    """Open steps keep their task ids; their names and roles follow the new version, a role new to a step
    going to the unit it is wanted in for this case (`routing.role_units`), as when a step becomes ready."""
    state = session.get(CaseState, case.id)
    for row in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "READY")):
        step = new.steps.get(row.step_id)
        if step is None:
            continue
        wanted = routing.role_units(session, case.unit_id, step, {**(state.data if state else {}), **(row.data or {})})
        row.name, row.lane = step.name, step.lane
        current = {r.role: r for r in session.scalars(
            select(HumanTaskRole).where(HumanTaskRole.human_task_id == row.id))}
        for role, role_row in current.items():
            if role not in step.roles:
                session.delete(role_row)
        for role in step.roles:
            if role not in current:
                session.add(HumanTaskRole(human_task_id=row.id, role=role, unit_id=wanted[role], open=True,
                                          due_at=row.due_at or SORT_LAST))
