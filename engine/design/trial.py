"""试运行 (try-it mode): a designer runs a draft as test cases, acting in every lane.

Sandbox cases are ordinary cases with `cases.sandbox` set: the engine runs them exactly as
real ones, but task lists, the public board and statistics leave them out, and only a
designer may act in them — in any lane (see `cases.check_can_work`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.actor import Actor
from engine.bpmn import deployments, forms
from engine.bpmn.forms import FormField
from engine.errors import Forbidden, NotFound
from engine.store.db import Database
from engine.store.models import Case, CaseState, DiagramVersion, HumanTask
from engine.work import cases, formpages
from engine.work.casepages import case_view
from engine.work.views import CaseView

from .workspace import require_designer


@dataclass(frozen=True)
class TrialStart:
    version_id: int
    process_id: str
    name: str
    draft: bool
    form: tuple[FormField, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class TrialStep:
    task_id: int
    step_id: str
    name: str
    roles: tuple[str, ...]
    form: tuple[FormField, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class TrialCase:
    case: CaseView
    steps: tuple[TrialStep, ...]


def start_form(db: Database, actor: Actor, version_id: int) -> TrialStart:
    require_designer(actor)
    with db.read() as session:
        row = session.get(DiagramVersion, version_id)
        if row is None:
            raise NotFound(f"流程版本 {version_id} 不存在")
        d = deployments.diagram_of(session, version_id)
        return TrialStart(row.id, row.process_id, row.name, row.draft, formpages.shown(session, d.start_form, {}),
                          forms.default_values(d.start_form, {}))


def start(db: Database, actor: Actor, version_id: int, values: dict[str, Any]) -> cases.StepResult:
    """Start a sandbox case of the version; real cases, lists and statistics are untouched."""
    form = start_form(db, actor, version_id)
    return cases.start_case(db, actor, form.process_id, values, sandbox_version=version_id)


def trial_case(db: Database, actor: Actor, number: str) -> TrialCase:
    """A sandbox case with the form of every open step, whatever its lane."""
    require_designer(actor)
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        if case is None or not case.sandbox:
            raise NotFound(f"试运行事项 {number} 不存在")
        if case.started_by != actor.username and not actor.has_role("管理员"):
            raise Forbidden("这是其他设计人员的试运行事项")
        d = deployments.diagram_of(session, case.version_id)
        data = session.get(CaseState, case.id).data
        open_rows = session.scalars(select(HumanTask).where(
            HumanTask.case_id == case.id, HumanTask.status == "READY").order_by(HumanTask.id))
        steps = []
        for row in open_rows:
            step = d.steps.get(row.step_id)
            form = formpages.shown(session, step.form, data) if step else ()
            steps.append(TrialStep(row.id, row.step_id, row.name, cases.task_roles(session, row), form,
                                   forms.default_values(form, data)))
        return TrialCase(case_view(session, case), tuple(steps))


def complete_step(db: Database, actor: Actor, task_id: int, values: dict[str, Any]) -> cases.StepResult:
    """Complete a step of a sandbox case as the designer; a real case's step is refused here."""
    require_designer(actor)
    with db.read() as session:
        sandbox = session.scalar(select(Case.sandbox).join(HumanTask, HumanTask.case_id == Case.id)
                                 .where(HumanTask.id == task_id))
    if sandbox is None:
        raise NotFound(f"任务 {task_id} 不存在")
    if not sandbox:
        raise Forbidden("试运行只能办理试运行事项的步骤")
    return cases.complete_task(db, actor, task_id, values)
