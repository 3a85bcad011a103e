"""The task lists: inbox (assigned to me), queue (I may claim), archive (done by me).

Lists read only the human-task index and case columns — never a workflow.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments, diagram, forms
from engine.errors import Conflict, Forbidden, NotFound
from engine.people.oversight import AUDIT_ROLES
from engine.store import driver
from engine.store.db import Database
from engine.store.models import (SORT_LAST, Case, CaseState, DiagramVersion, HumanTask, HumanTaskRole, User,
                                 UserRole)
from engine.store.paging import Page

from .casepages import SUPERVISOR_ROLES, case_view, check_can_view
from .cases import check_can_work, task_roles
from .extensions import URGERS
from .views import Counts, TaskRow, TaskView

LISTS = ("inbox", "queue", "archive")
COUNT_CAP = 999  # tabs and totals stop counting here ("999+"): a list never costs more to count


@dataclass(frozen=True)
class Filters:
    procedure: str | None = None
    step: str | None = None
    kind: str | None = None
    topic: str | None = None
    overdue: bool = False
    q: str | None = None


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


_HOLDER = aliased(User, name="holder")
_MINE = aliased(HumanTaskRole, name="mine")
# A row of a list: columns, not ORM objects (a page needs no identity map or instrumented rows)
_ROW = (HumanTask.id, HumanTask.case_id, HumanTask.step_id, HumanTask.name, HumanTask.created_at,
        HumanTask.due_at, HumanTask.status, HumanTask.completed_at, Case.number, Case.title, Case.kind, Case.topic,
        Case.started_at, DiagramVersion.name.label("procedure"), _HOLDER.display_name.label("holder"))
# Filter values, bound at execution (the statements are built once per shape, see _statement)
_FILTERS = {
    "procedure": lambda: Case.process_id == bindparam("procedure"),
    "step": lambda: HumanTask.name == bindparam("step"),
    "kind": lambda: Case.kind == bindparam("kind"),
    "topic": lambda: Case.topic == bindparam("topic"),
    "overdue": lambda: and_(HumanTask.due_at < bindparam("now", type_=HumanTask.due_at.type),
                            HumanTask.status == "READY"),
    "q": lambda: or_(Case.number == bindparam("q"), Case.title.like(bindparam("q_like"), escape="/")),
}


def _base(which: str, several_roles: bool) -> Select:
    """The rows of one list, in the order an index can deliver them; the actor is bound at execution
    (`actor_id`, `roles`)."""
    query = select(*_ROW)
    if which == "queue":
        query = (
            query.select_from(HumanTaskRole)
            .join(HumanTask, HumanTask.id == HumanTaskRole.human_task_id)
            .where(HumanTaskRole.role.in_(bindparam("roles", expanding=True)), HumanTaskRole.open.is_(True),
                   HumanTask.status == "READY", HumanTask.assignee_id.is_(None))
            .order_by(HumanTaskRole.due_at, HumanTaskRole.human_task_id)
        )
        if several_roles:  # a task open to two of my roles is listed once, under the first
            query = query.where(~exists().where(
                _MINE.human_task_id == HumanTaskRole.human_task_id,
                _MINE.role.in_(bindparam("roles", expanding=True)), _MINE.role < HumanTaskRole.role))
    elif which == "inbox":
        query = (query.select_from(HumanTask)
                 .where(HumanTask.status == "READY", HumanTask.assignee_id == bindparam("actor_id"))
                 .order_by(func.coalesce(HumanTask.due_at, SORT_LAST), HumanTask.id))
    elif which == "archive":
        query = (query.select_from(HumanTask).where(HumanTask.completed_by_id == bindparam("actor_id"))
                 .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()))
    else:
        raise NotFound(f"没有名为 {which} 的任务列表")
    return (
        query.join(Case, Case.id == HumanTask.case_id)
        .join(DiagramVersion, DiagramVersion.id == Case.version_id)
        .outerjoin(_HOLDER, _HOLDER.id == HumanTask.assignee_id)
        .where(Case.sandbox.is_(False))  # 试运行 cases live only in the designer workspace
    )


def _capped_count(query: Select) -> Any:
    """How many rows, counting at most `cap` (COUNT_CAP + 1, bound at execution; a scalar subquery)."""
    ids = query.with_only_columns(HumanTask.id).order_by(None).limit(bindparam("cap")).subquery()
    return select(func.count()).select_from(ids).scalar_subquery()


@lru_cache(maxsize=256)
def _statement(which: str, several_roles: bool, shape: tuple[str, ...]) -> Select:
    """One list's page, built once per shape (which list, one or several roles, which filters are set):
    building a statement through SQLAlchemy's expression layer cost more than running it."""
    query = _base(which, several_roles)
    for name in shape:
        query = query.where(_FILTERS[name]())
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


@lru_cache(maxsize=4)
def _counts_statement(several_roles: bool) -> Select:
    """The three tab counts, capped, in one statement."""
    return select(*(_capped_count(_base(which, several_roles)).label(which) for which in LISTS))


_ROLES_OF = (select(HumanTaskRole.human_task_id, HumanTaskRole.role)
             .where(HumanTaskRole.human_task_id.in_(bindparam("ids", expanding=True))))


def _actor_params(actor: Actor) -> dict[str, Any]:
    return {"actor_id": actor.id, "roles": sorted(actor.roles) or [""], "cap": COUNT_CAP + 1}


def _filter_params(f: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {name: getattr(f, name) for name in ("procedure", "step", "kind", "topic")
                              if getattr(f, name)}
    if f.overdue:
        params["overdue"] = True
        params["now"] = clock.now()
    if f.q and f.q.strip():
        text = f.q.strip()
        params["q"] = text
        params["q_like"] = "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    return params


def _page(session: Session, actor: Actor, which: str, filters: Filters, page: int, per_page: int,
          counts: Counts | None = None) -> Page[TaskRow]:
    if which not in LISTS:
        raise NotFound(f"没有名为 {which} 的任务列表")
    page = max(1, page)
    wanted = _filter_params(filters)
    params = {**_actor_params(actor), **wanted, "limit": per_page + 1, "offset": (page - 1) * per_page}
    query = _statement(which, len(params["roles"]) > 1, tuple(name for name in _FILTERS if name in wanted))
    rows = session.execute(query, params).all()
    if not wanted:
        tab = getattr(counts or _counts(session, actor), which)
        total, more = min(tab, COUNT_CAP), tab > COUNT_CAP
    else:  # a filtered count may scan every open step: report only what this page saw
        total, more = (page - 1) * per_page + min(len(rows), per_page), len(rows) > per_page
    rows = rows[:per_page]
    roles: dict[int, list[str]] = {}
    if rows:
        for task_id, role in session.execute(_ROLES_OF, {"ids": [r.id for r in rows]}):
            roles.setdefault(task_id, []).append(role)
    now = clock.now()
    items = tuple(
        TaskRow(
            id=r.id, case_id=r.case_id, case_number=r.number, procedure=r.procedure, step_id=r.step_id,
            step_name=r.name, case_title=r.title, kind=r.kind, topic=r.topic, received_at=r.started_at,
            created_at=r.created_at, due_at=r.due_at,
            overdue=bool(r.due_at and r.status == "READY" and r.due_at < now),
            status=r.status, assignee=r.holder, completed_at=r.completed_at,
            roles=tuple(sorted(roles.get(r.id, ()))),
        )
        for r in rows
    )
    return Page(items, total, page, per_page, more)


def _counts(session: Session, actor: Actor) -> Counts:
    """Tab counts; a count above COUNT_CAP is reported as COUNT_CAP + 1 ("999+")."""
    params = _actor_params(actor)
    return Counts(*session.execute(_counts_statement(len(params["roles"]) > 1), params).one())


_LATEST_VERSIONS = driver.Statement(
    "SELECT id, hash FROM diagram_versions WHERE id IN "
    "(SELECT max(id) FROM diagram_versions WHERE draft = FALSE GROUP BY process_id) ORDER BY name")


def _choices(session: Session, actor: Actor) -> Choices:
    procedures, steps, kinds, topics = [], {}, {}, {}
    for version_id, digest in driver.run(session.connection(), _LATEST_VERSIONS).all():
        d = diagram.cached(digest) or deployments.diagram_of(session, version_id)
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


def overview(db: Database, actor: Actor, which: str, filters: Filters = Filters(), page: int = 1,
             per_page: int = 20) -> TaskList:
    """A task-list page: its rows, the tab counts, the filter choices and the colleagues to assign to."""
    with db.read() as session:
        counts = _counts(session, actor)
        return TaskList(which, _page(session, actor, which, filters, page, per_page, counts), counts,
                        _choices(session, actor), _colleagues(session, actor, which))


def tasks(db: Database, actor: Actor, which: str, filters: Filters = Filters(), page: int = 1,
          per_page: int = 20) -> Page[TaskRow]:
    with db.read() as session:
        return _page(session, actor, which, filters, page, per_page)


def counts(db: Database, actor: Actor) -> Counts:
    with db.read() as session:
        return _counts(session, actor)


def get_task(db: Database, actor: Actor, task_id: int) -> TaskView:
    """A task page; its form values come from the case's stored data (no workflow load)."""
    with db.read() as session:
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

