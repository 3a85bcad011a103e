"""The task lists: inbox (assigned to me), queue (I may claim), archive (done by me).

Lists read only the human-task index and case columns — never a workflow.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from . import clock, deployments, forms
from .casepages import case_view
from .cases import check_can_work, task_roles
from .db import Database
from .errors import Conflict, Forbidden, NotFound
from .models import Case, CaseState, DiagramVersion, HumanTask, HumanTaskRole, User
from .views import Actor, Counts, Page, TaskRow, TaskView

LISTS = ("inbox", "queue", "archive")


@dataclass(frozen=True)
class Filters:
    procedure: str | None = None
    step: str | None = None
    kind: str | None = None
    topic: str | None = None
    overdue: bool = False
    q: str | None = None


def _base(actor: Actor, which: str) -> Select:
    holder = aliased(User)
    query = (
        select(HumanTask, Case, DiagramVersion.name, holder.display_name)
        .join(Case, Case.id == HumanTask.case_id)
        .join(DiagramVersion, DiagramVersion.id == Case.version_id)
        .outerjoin(holder, holder.id == HumanTask.assignee_id)
        .where(Case.sandbox.is_(False))  # 试运行 cases live only in the designer workspace
    )
    if which == "inbox":
        return query.where(HumanTask.status == "READY", HumanTask.assignee_id == actor.id)
    if which == "queue":
        mine = select(HumanTaskRole.human_task_id).where(
            HumanTaskRole.role.in_(actor.roles or {""}), HumanTaskRole.open.is_(True))
        return query.where(HumanTask.status == "READY", HumanTask.assignee_id.is_(None), HumanTask.id.in_(mine))
    if which == "archive":
        return query.where(HumanTask.completed_by_id == actor.id, HumanTask.status == "COMPLETED")
    raise NotFound(f"没有名为 {which} 的任务列表")


def _filtered(query: Select, f: Filters) -> Select:
    if f.procedure:
        query = query.where(Case.process_id == f.procedure)
    if f.step:
        query = query.where(HumanTask.name == f.step)
    if f.kind:
        query = query.where(Case.kind == f.kind)
    if f.topic:
        query = query.where(Case.topic == f.topic)
    if f.overdue:
        query = query.where(HumanTask.due_at < clock.now(), HumanTask.status == "READY")
    if f.q:
        text = f.q.strip()
        query = query.where(or_(Case.number == text, Case.title.contains(text, autoescape=True)))
    return query


def tasks(db: Database, actor: Actor, which: str, filters: Filters = Filters(), page: int = 1,
          per_page: int = 20) -> Page[TaskRow]:
    page = max(1, page)
    with db.read() as session:
        query = _filtered(_base(actor, which), filters)
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        if which == "archive":
            order = (HumanTask.completed_at.desc(), HumanTask.id.desc())
        else:
            order = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
        rows = session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
        now = clock.now()
        items = tuple(
            TaskRow(
                id=t.id, case_id=c.id, case_number=c.number, procedure=proc, step_id=t.step_id,
                step_name=t.name, case_title=c.title, kind=c.kind, topic=c.topic, received_at=c.started_at,
                created_at=t.created_at, due_at=t.due_at,
                overdue=bool(t.due_at and t.status == "READY" and t.due_at < now),
                status=t.status, assignee=holder, completed_at=t.completed_at,
            )
            for t, c, proc, holder in rows
        )
        return Page(items, total, page, per_page)


def counts(db: Database, actor: Actor) -> Counts:
    with db.read() as session:
        def count(which: str) -> int:
            query = _base(actor, which).order_by(None).with_only_columns(func.count(HumanTask.id))
            return session.scalar(query)
        return Counts(count("inbox"), count("queue"), count("archive"))


def filter_choices(db: Database, actor: Actor) -> dict[str, list[tuple[str, str]]]:
    """Values offered by the list filters: procedures and step names the actor can see."""
    with db.read() as session:
        procs = [(r.process_id, r.name) for r in deployments.latest_versions(session)]
        steps = session.scalars(
            select(HumanTask.name).where(exists().where(
                HumanTaskRole.human_task_id == HumanTask.id, HumanTaskRole.role.in_(actor.roles or {""})))
            .distinct().limit(100)).all()
        return {"procedure": procs, "step": [(s, s) for s in sorted(steps)]}


def get_task(db: Database, actor: Actor, task_id: int) -> TaskView:
    """A task page; its form values come from the case's stored data (no workflow load)."""
    with db.read() as session:
        row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        roles = task_roles(session, row)
        can_complete = True
        try:
            check_can_work(session, actor, row)
        except Conflict:
            can_complete = False
            if not (actor.has_role(*roles) or row.completed_by_id == actor.id or actor.has_role("审计", "管理员")):
                raise Forbidden("您无权查看该任务") from None
        if row.assignee_id not in (None, actor.id):
            can_complete = False
        case = session.get(Case, row.case_id)
        d = deployments.diagram_of(session, case.version_id)
        step = d.steps.get(row.step_id)
        form = step.form if step else ()
        data = {**session.get(CaseState, case.id).data, **(row.data or {})}
        holder = session.get(User, row.assignee_id).display_name if row.assignee_id else None
        return TaskView(
            id=row.id, status=row.status, step_id=row.step_id, step_name=row.name, lane=row.lane, roles=roles,
            assignee=holder, due_at=row.due_at, form=form, values=forms.default_values(form, data),
            case=case_view(session, case), can_complete=can_complete,
        )

