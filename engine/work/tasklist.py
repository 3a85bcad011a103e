"""The task lists: inbox (assigned to me), queue (I may claim), archive (done by me), and a leader's
team (本组待办: every open step of the procedures they lead, see `leaders`).

Lists read only the human-task index and case columns — never a workflow.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments, forms
from engine.errors import Conflict, Forbidden, NotFound
from engine.people.oversight import AUDIT_ROLES
from engine.store.db import Database
from engine.store.models import (SORT_LAST, Case, CaseState, DiagramVersion, HumanTask, HumanTaskRole, User,
                                 UserRole)
from engine.store.paging import Page

from .casepages import SUPERVISOR_ROLES, case_view, check_can_view
from .cases import check_can_work, task_roles
from . import leaders
from .extensions import URGERS
from .views import Counts, TaskRow, TaskView

LISTS = ("inbox", "queue", "archive", "team")
SORTS = ("due", "due_desc")  # the team list by deadline: earliest first (default) or latest first
COUNT_CAP = 999  # tabs and totals stop counting here ("999+"): a list never costs more to count


@dataclass(frozen=True)
class Filters:
    procedure: str | None = None
    step: str | None = None
    kind: str | None = None
    topic: str | None = None
    overdue: bool = False
    q: str | None = None
    due_soon: bool = False  # 即将到期: the step's reminder (催办) time has come, its deadline not yet
    sort: str = "due"


NO_FILTERS = Filters()


@dataclass(frozen=True)
class Choices:
    """What the list filters offer, read from the deployed diagrams (not from the task rows)."""

    procedures: tuple[tuple[str, str], ...]
    steps: tuple[str, ...]
    kinds: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Colleague:
    username: str
    display_name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class TaskList:
    """Everything one task-list page shows, from one read transaction."""

    which: str
    page: Page[TaskRow]
    counts: Counts
    choices: Choices
    colleagues: tuple[Colleague, ...]
    # with 只看已逾期 ticked on inbox/queue: how many of the leader's team's steps are overdue (None: not asked)
    team_overdue: int | None = None


def _columns() -> tuple[Select, Any]:
    holder = aliased(User)
    query = select(HumanTask, Case, DiagramVersion.name, holder.display_name)
    return query, holder


def _base(session: Session, actor: Actor, which: str, sort: str = "due") -> Select:
    """The rows of one list, in the order an index can deliver them."""
    query, holder = _columns()
    if which == "team":
        leaders.require_leader(actor)
        versions = leaders.led_versions(session, actor)
        due = HumanTask.due_at.desc() if sort == "due_desc" else HumanTask.due_at.asc()
        query = (query.select_from(HumanTask).where(HumanTask.status == "READY")
                 .order_by(due.nulls_last(), HumanTask.id))
        if versions is not None:
            query = query.where(Case.version_id.in_(versions or [-1]))
    elif which == "queue":
        roles = sorted(actor.roles) or [""]
        mine = aliased(HumanTaskRole)
        query = (
            query.select_from(HumanTaskRole)
            .join(HumanTask, HumanTask.id == HumanTaskRole.human_task_id)
            .where(HumanTaskRole.role.in_(roles), HumanTaskRole.open.is_(True),
                   HumanTask.status == "READY", HumanTask.assignee_id.is_(None))
            .order_by(HumanTaskRole.due_at, HumanTaskRole.human_task_id)
        )
        if len(roles) > 1:  # a task open to two of my roles is listed once, under the first
            query = query.where(~exists().where(
                mine.human_task_id == HumanTaskRole.human_task_id, mine.role.in_(roles),
                mine.role < HumanTaskRole.role))
    elif which == "inbox":
        query = (query.select_from(HumanTask)
                 .where(HumanTask.status == "READY", HumanTask.assignee_id == actor.id)
                 .order_by(func.coalesce(HumanTask.due_at, SORT_LAST), HumanTask.id))
    elif which == "archive":
        query = (query.select_from(HumanTask).where(HumanTask.completed_by_id == actor.id)
                 .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()))
    else:
        raise NotFound(f"没有名为 {which} 的任务列表")
    return (
        query.join(Case, Case.id == HumanTask.case_id)
        .join(DiagramVersion, DiagramVersion.id == Case.version_id)
        .outerjoin(holder, holder.id == HumanTask.assignee_id)
        .where(Case.sandbox.is_(False))  # 试运行 cases live only in the designer workspace
    )


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
    if f.due_soon:
        now = clock.now()
        query = query.where(HumanTask.remind_at <= now, HumanTask.due_at >= now, HumanTask.status == "READY")
    if f.q:
        text = f.q.strip()
        query = query.where(or_(Case.number == text, Case.title.contains(text, autoescape=True)))
    return query


def _count(session: Session, query: Select) -> tuple[int, bool]:
    """How many rows, counting at most COUNT_CAP + 1; (count, whether there are more)."""
    ids = query.with_only_columns(HumanTask.id).order_by(None).limit(COUNT_CAP + 1).subquery()
    n = session.scalar(select(func.count()).select_from(ids))
    return min(n, COUNT_CAP), n > COUNT_CAP


def _page(session: Session, actor: Actor, which: str, filters: Filters, page: int, per_page: int) -> Page[TaskRow]:
    page = max(1, page)
    query = _filtered(_base(session, actor, which, filters.sort), filters)
    rows = session.execute(query.limit(per_page + 1).offset((page - 1) * per_page)).all()
    if filters == NO_FILTERS:
        total, more = _count(session, query)
    else:  # a filtered count may scan every open step: report only what this page saw
        total, more = (page - 1) * per_page + min(len(rows), per_page), len(rows) > per_page
    rows = rows[:per_page]
    roles: dict[int, list[str]] = {}
    if rows:
        for task_id, role in session.execute(select(HumanTaskRole.human_task_id, HumanTaskRole.role).where(
                HumanTaskRole.human_task_id.in_([t.id for t, *_ in rows]))):
            roles.setdefault(task_id, []).append(role)
    now = clock.now()
    items = tuple(
        TaskRow(
            id=t.id, case_id=c.id, case_number=c.number, procedure=proc, step_id=t.step_id,
            step_name=t.name, case_title=c.title, kind=c.kind, topic=c.topic, received_at=c.started_at,
            created_at=t.created_at, due_at=t.due_at,
            overdue=bool(t.due_at and t.status == "READY" and t.due_at < now),
            due_soon=bool(t.due_at and t.remind_at and t.status == "READY" and t.remind_at <= now <= t.due_at),
            status=t.status, assignee=holder, completed_at=t.completed_at, roles=tuple(sorted(roles.get(t.id, ()))),
        )
        for t, c, proc, holder in rows
    )
    return Page(items, total, page, per_page, more)


def _counts(session: Session, actor: Actor) -> Counts:
    """Tab counts; a count above COUNT_CAP is reported as COUNT_CAP + 1 ("999+"). No team count
    (and no team tab) for someone who leads no team."""
    lists = LISTS if leaders.is_leader(actor) else LISTS[:-1]
    return Counts(*(sum(_count(session, _base(session, actor, which))) for which in lists))


def _team_overdue(session: Session, actor: Actor, which: str, filters: Filters) -> int | None:
    """只看已逾期 on the leader's own lists also says how many steps of their team are overdue."""
    if not filters.overdue or which == "team" or not leaders.is_leader(actor):
        return None
    return sum(_count(session, _filtered(_base(session, actor, "team"), Filters(overdue=True))))


def _choices(session: Session, actor: Actor) -> Choices:
    procedures, steps, kinds, topics = [], {}, {}, {}
    for row in deployments.latest_versions(session):
        d = deployments.diagram_of(session, row.id)
        procedures.append((d.process_id, d.name))
        for step in d.steps.values():
            if actor.has_role(*step.roles):
                steps[step.name] = None
        fields = [f for step in d.steps.values() for f in step.form] + list(d.start_form)
        for f in fields:
            if f.type == "enum" and f.id == d.properties.get("kindField", "kind"):
                kinds.update(dict.fromkeys(c.name for c in f.choices))
            if f.type == "enum" and f.id == d.properties.get("topicField", "topic"):
                topics.update(dict.fromkeys(c.name for c in f.choices))
    return Choices(tuple(procedures), tuple(steps), tuple(kinds), tuple(topics))


def _colleagues(session: Session, actor: Actor, which: str) -> tuple[Colleague, ...]:
    """Whom a leader may assign to (each row offers those holding one of its roles)."""
    if which == "archive" or not actor.has_role(*SUPERVISOR_ROLES):
        return ()
    held: dict[int, list[str]] = {}
    for user_id, role in session.execute(select(UserRole.user_id, UserRole.role)):
        held.setdefault(user_id, []).append(role)
    users = session.execute(select(User.id, User.username, User.display_name)
                            .where(User.active.is_(True)).order_by(User.username))
    return tuple(Colleague(u.username, u.display_name, tuple(sorted(held.get(u.id, ())))) for u in users)


def overview(db: Database, actor: Actor, which: str, filters: Filters = NO_FILTERS, page: int = 1,
             per_page: int = 20) -> TaskList:
    """A task-list page: its rows, the tab counts, the filter choices and the colleagues to assign to."""
    with db.read() as session:
        return TaskList(which, _page(session, actor, which, filters, page, per_page), _counts(session, actor),
                        _choices(session, actor), _colleagues(session, actor, which),
                        _team_overdue(session, actor, which, filters))


def tasks(db: Database, actor: Actor, which: str, filters: Filters = NO_FILTERS, page: int = 1,
          per_page: int = 20) -> Page[TaskRow]:
    with db.read() as session:
        return _page(session, actor, which, filters, page, per_page)


def counts(db: Database, actor: Actor) -> Counts:
    with db.read() as session:
        return _counts(session, actor)


def get_task(db: Database, actor: Actor, task_id: int) -> TaskView:
    """A task page; its form values come from the case's stored data (no workflow load)."""
    with db.read() as session:
        return task_page(session, actor, task_id)


def task_page(session: Session, actor: Actor, task_id: int) -> TaskView:
    """The task page as the actor may see it (inside the caller's read transaction)."""
    row = session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在")
    roles = task_roles(session, row)
    case = session.get(Case, row.case_id)
    can_complete = True
    try:
        check_can_work(session, actor, row)
    except (Forbidden, Conflict) as refused:
        # a step not (or no longer) yours to do: read-only for its people, and for those who urge and
        # oversee (催办, 督办, audit) any step of a case they may see
        can_complete = False
        if not (actor.has_role(*roles) or row.completed_by_id == actor.id):
            if not actor.has_role(*URGERS, *AUDIT_ROLES):
                if isinstance(refused, Forbidden):
                    raise
                raise Forbidden("您无权查看该任务") from None
            check_can_view(session, actor, case)
    if row.assignee_id not in (None, actor.id):
        can_complete = False
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

