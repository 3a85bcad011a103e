"""The task lists: inbox (assigned to me), queue (I may claim), archive (done by me), and a leader's
team (本组待办: every open step of the procedures they lead, see `leaders`).

Lists read only the human-task index and case columns — never a workflow.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, exists, func, or_, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments, diagram, forms
from engine.bpmn.diagram import Diagram
from engine.errors import Conflict, Forbidden, NotFound
from engine.people import units
from engine.people.oversight import AUDIT_ROLES
from engine.store import driver
from engine.store.db import Database
from engine.store.models import (SORT_LAST, Case, CaseState, DiagramVersion, ExtensionRequest, HumanTask,
                                 HumanTaskRole, User, UserRole)
from engine.store.paging import Page

from .casepages import SUPERVISOR_ROLES, case_view, check_can_view, display_names
from .cases import check_can_work, holds_step, task_grants
from . import formpages, leaders
from .extensions import URGERS
from .views import Counts, PendingExtension, TaskRow, TaskView

LISTS = ("inbox", "queue", "archive", "team")
SORTS = ("due", "due_desc")  # the team list by deadline: earliest first (default) or latest first
# tabs and totals stop counting here ("99+"), as task badges do: counting costs the same in a 社区 with 100 open
# steps and in one with 10,000 (docs/performance.md, task lists at 1,000,000 cases)
COUNT_CAP = 99


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
    grants: frozenset[tuple[str, int]] = frozenset()


@dataclass(frozen=True)
class TaskList:
    """Everything one task-list page shows, from one read transaction."""

    which: str
    page: Page[TaskRow]
    counts: Counts
    choices: Choices
    colleagues: tuple[Colleague, ...]
    # per listed step, the colleagues a leader may 指派 it to (they hold one of its roles where it was routed)
    assignable: dict[int, tuple[Colleague, ...]]
    # with 只看已逾期 ticked on inbox/queue: how many of the leader's team's steps are overdue (None: not asked)
    team_overdue: int | None = None

    @property
    def assignable_to_any(self) -> tuple[Colleague, ...]:
        """The colleagues who may be given at least one listed step (批量指派), in colleague order."""
        wanted = {c.username for found in self.assignable.values() for c in found}
        return tuple(c for c in self.colleagues if c.username in wanted)


_HOLDER = aliased(User, name="holder")
_MINE = aliased(HumanTaskRole, name="mine")
# A row of a list: columns, not ORM objects (a page needs no identity map or instrumented rows)
_ROW = (HumanTask.id, HumanTask.case_id, HumanTask.step_id, HumanTask.name, HumanTask.created_at,
        HumanTask.due_at, HumanTask.remind_at, HumanTask.status, HumanTask.completed_at, Case.number, Case.title,
        Case.kind, Case.topic, Case.started_at, DiagramVersion.name.label("procedure"),
        _HOLDER.display_name.label("holder"))
_NOW = bindparam("now", type_=HumanTask.due_at.type)
# Filter values, bound at execution (the statements are built once per shape, see _statement)
_FILTERS = {
    "procedure": lambda: Case.process_id == bindparam("procedure"),
    "step": lambda: HumanTask.name == bindparam("step"),
    "kind": lambda: Case.kind == bindparam("kind"),
    "topic": lambda: Case.topic == bindparam("topic"),
    "overdue": lambda: and_(HumanTask.due_at < _NOW, HumanTask.status == "READY"),
    "due_soon": lambda: and_(HumanTask.remind_at <= _NOW, HumanTask.due_at >= _NOW, HumanTask.status == "READY"),
    "q": lambda: or_(Case.number == bindparam("q"), Case.title.like(bindparam("q_like"), escape="/")),
}


@dataclass(frozen=True)
class _Viewer:
    """Who reads a list, as statement shape and bound parameters: `team` is None for someone who leads
    no team, "all" for a 管理员 (every procedure), "led" when the versions they lead are bound."""

    params: dict[str, Any]
    several_roles: bool
    team: str | None


def _team(query: Select, sort: str, team: str | None) -> Select:
    """本组待办: every open step of the procedures the leader leads, in the units they lead (`team_units`,
    unless they lead at the top of the only tree), by deadline (either way)."""
    due = HumanTask.due_at.desc() if sort == "due_desc" else HumanTask.due_at.asc()
    query = query.select_from(HumanTask).where(HumanTask.status == "READY").order_by(due.nulls_last(), HumanTask.id)
    if team is not None and team.startswith("led"):
        query = query.where(Case.version_id.in_(bindparam("versions", expanding=True)))
    if team is not None and team.endswith("@units"):  # the step's own copy of its case's unit: indexed
        query = query.where(HumanTask.unit_id.in_(bindparam("team_units", expanding=True)))
    return query


def _queue(query: Select, several_roles: bool) -> Select:
    """待认领: the open steps wanted from one of my roles in the unit I hold it in. The roles and the units
    are also named apart: SQLite reads an index only for plain `IN` lists, never for the pairs, and without
    them it walked every open step (400 ms instead of 0.2 ms at 100,000 cases, bench/inbox_bench.py).
    A queue row is open exactly while its step is READY (`taskindex` closes it with the step, in the same
    transaction), so the step's status is not asked again: PostgreSQL counted that condition as a second, independent
    filter, expected ten times fewer rows than there are, and sorted a 社区's whole queue for a later or filtered page
    (150 ms instead of 4 at 1,000,000 cases)."""
    mine = and_(HumanTaskRole.role.in_(bindparam("grant_roles", expanding=True)),
                HumanTaskRole.unit_id.in_(bindparam("grant_units", expanding=True)),
                tuple_(HumanTaskRole.role, HumanTaskRole.unit_id).in_(bindparam("grants", expanding=True)))
    query = (
        query.select_from(HumanTaskRole)
        .join(HumanTask, HumanTask.id == HumanTaskRole.human_task_id)
        .where(mine, HumanTaskRole.open.is_(True), HumanTask.assignee_id.is_(None))
        .order_by(HumanTaskRole.due_at, HumanTaskRole.human_task_id)
    )
    if several_roles:  # a task open to two of my roles is listed once, under the first
        query = query.where(~exists().where(
            _MINE.human_task_id == HumanTaskRole.human_task_id,
            tuple_(_MINE.role, _MINE.unit_id).in_(bindparam("grants", expanding=True)),
            _MINE.role < HumanTaskRole.role))
    return query


def _base(which: str, several_roles: bool, sort: str = "due", team: str | None = None) -> Select:
    """The rows of one list, in the order an index can deliver them; the actor is bound at execution
    (`actor_id`, `roles`, and for a leader's team `versions`)."""
    query = select(*_ROW)
    if which == "team":
        query = _team(query, sort, team)
    elif which == "queue":
        query = _queue(query, several_roles)
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
def _statement(which: str, several_roles: bool, sort: str, team: str | None, shape: tuple[str, ...]) -> Select:
    """One list's page, built once per shape (which list and order, one or several roles, the leader's
    scope, which filters are set): building a statement through SQLAlchemy's expression layer cost more
    than running it."""
    query = _base(which, several_roles, sort, team)
    for name in shape:
        query = query.where(_FILTERS[name]())
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


MERGED_PAIRS = 16  # up to this many (role, unit) pairs, 待认领 is read one pair at a time and merged


@lru_cache(maxsize=128)
def _merged_queue(pairs: int, shape: tuple[str, ...]) -> Select:
    """待认领 of someone holding several (role, unit) pairs: one branch per pair, each read from the queue index in
    due order and cut at the page's end, then merged. One statement for all pairs would read and sort every
    step waiting for any of them before keeping a page (6,000 at a 区 with 300,000 cases: 230 ms)."""
    branches = []
    for i in range(pairs):
        query = _base("queue", True).where(HumanTaskRole.role == bindparam(f"pair_role_{i}"),
                                             HumanTaskRole.unit_id == bindparam(f"pair_unit_{i}"))
        for name in shape:
            query = query.where(_FILTERS[name]())
        query = query.add_columns(HumanTaskRole.due_at.label("queue_due")).limit(bindparam("end"))
        branches.append(select(query.subquery()))
    merged = union_all(*branches).subquery()
    return (select(merged).order_by(merged.c.queue_due, merged.c.id)
            .limit(bindparam("limit")).offset(bindparam("offset")))


@lru_cache(maxsize=16)
def _counts_statement(several_roles: bool, team: str | None, team_overdue: bool) -> Select:
    """The tab counts, capped, in one statement: the team's for a leader, and with 只看已逾期 on their own
    lists how many of the team's steps are overdue."""
    columns = [_capped_count(_base(which, several_roles)).label(which) for which in LISTS[:-1]]
    if team is not None:
        columns.append(_capped_count(_base("team", several_roles, team=team)).label("team"))
    if team_overdue:
        overdue = _base("team", several_roles, team=team).where(_FILTERS["overdue"]())
        columns.append(_capped_count(overdue).label("team_overdue"))
    return select(*columns)


_ROLES_OF = (select(HumanTaskRole.human_task_id, HumanTaskRole.role, HumanTaskRole.unit_id)
             .where(HumanTaskRole.human_task_id.in_(bindparam("ids", expanding=True))))
# Every deployed (non-draft) version: the filter choices read the newest of each procedure, a leader's
# team every version they lead (old versions still have open cases)
_VERSIONS = driver.Statement(
    "SELECT id, process_id, hash FROM diagram_versions WHERE draft = FALSE ORDER BY name, id")


def _versions(session: Session) -> Sequence[Row]:
    return driver.run(session.connection(), _VERSIONS).all()


def _diagram(session: Session, version: Row) -> Diagram:
    return diagram.cached(version.hash) or deployments.diagram_of(session, version.id)


def _viewer(session: Session, actor: Actor, versions: Sequence[Row] | None = None) -> _Viewer:
    grants = sorted(actor.grants) or [("", 0)]
    params: dict[str, Any] = {"actor_id": actor.id, "grants": grants, "grant_roles": sorted({r for r, _ in grants}),
                              "grant_units": sorted({u for _, u in grants}), "cap": COUNT_CAP + 1}
    team = None
    if leaders.is_leader(actor):
        versions = _versions(session) if versions is None else versions
        led = leaders.led_versions(actor, ((v.id, _diagram(session, v)) for v in versions))
        team = "all" if led is None else "led"
        params["versions"] = led or [-1]
        led_units = leaders.led_units(session, actor)
        if led_units is not None:
            team += "@units"
            params["team_units"] = sorted(led_units) or [-1]
    return _Viewer(params, len(grants) > 1, team)


def _filter_params(f: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {name: getattr(f, name) for name in ("procedure", "step", "kind", "topic")
                              if getattr(f, name)}
    for name in ("overdue", "due_soon"):
        if getattr(f, name):
            params[name] = True
            params["now"] = clock.now()
    if f.q and f.q.strip():
        text = f.q.strip()
        params["q"] = text
        params["q_like"] = "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    return params


def _row(r: Row, grants: dict[int, list[tuple[str, int]]], now: Any) -> TaskRow:
    held = tuple(sorted(grants.get(r.id, ())))
    return TaskRow(
        id=r.id, case_id=r.case_id, case_number=r.number, procedure=r.procedure, step_id=r.step_id,
        step_name=r.name, case_title=r.title, kind=r.kind, topic=r.topic, received_at=r.started_at,
        created_at=r.created_at, due_at=r.due_at,
        overdue=bool(r.due_at and r.status == "READY" and r.due_at < now),
        due_soon=bool(r.due_at and r.remind_at and r.status == "READY" and r.remind_at <= now <= r.due_at),
        status=r.status, assignee=r.holder, completed_at=r.completed_at,
        roles=tuple(dict.fromkeys(role for role, _ in held)), grants=held,
    )


def _page(session: Session, actor: Actor, which: str, filters: Filters, page: int, per_page: int,
          viewer: _Viewer | None = None, counts: Counts | None = None) -> Page[TaskRow]:
    if which not in LISTS:
        raise NotFound(f"没有名为 {which} 的任务列表")
    viewer = viewer or _viewer(session, actor)
    if which == "team" and viewer.team is None:
        leaders.require_leader(actor)
    page = max(1, page)
    wanted = _filter_params(filters)
    params = {**viewer.params, **wanted, "limit": per_page + 1, "offset": (page - 1) * per_page}
    sort = "due_desc" if which == "team" and filters.sort == "due_desc" else "due"  # a bounded cache key
    shape = tuple(name for name in _FILTERS if name in wanted)
    pairs = viewer.params["grants"]
    if which == "queue" and 1 < len(pairs) <= MERGED_PAIRS:
        query = _merged_queue(len(pairs), shape)
        params["end"] = params["offset"] + params["limit"]
        for i, (role, unit) in enumerate(pairs):
            params[f"pair_role_{i}"], params[f"pair_unit_{i}"] = role, unit
    else:
        query = _statement(which, viewer.several_roles, sort, viewer.team if which == "team" else None, shape)
    rows = session.execute(query, params).all()
    tab = getattr(counts or _counts(session, viewer)[0], which) if not wanted else None
    total, more = _extent(tab, (page - 1) * per_page + min(len(rows), per_page), len(rows) > per_page)
    rows = rows[:per_page]
    grants: dict[int, list[tuple[str, int]]] = {}
    if rows:
        for task_id, role, unit_id in session.execute(_ROLES_OF, {"ids": [r.id for r in rows]}):
            grants.setdefault(task_id, []).append((role, unit_id))
    now = clock.now()
    return Page(tuple(_row(r, grants, now) for r in rows), total, page, per_page, more)


def _extent(tab: int | None, seen: int, next_page: bool) -> tuple[int, bool]:
    """A page's total and whether the list goes on, from its tab's capped count (None: a filtered list, not
    counted), the rows up to the end of this page and whether a row beyond it was read."""
    if tab is None:  # a filtered count may scan every open step: report only what this page saw
        return seen, next_page
    if tab <= COUNT_CAP:
        return tab, False
    return max(COUNT_CAP, seen), seen < COUNT_CAP or next_page  # past the cap: at least this many


def _counts(session: Session, viewer: _Viewer, team_overdue: bool = False) -> tuple[Counts, int | None]:
    """Tab counts, a count above COUNT_CAP reported as COUNT_CAP + 1 ("99+"): no team count (and no
    team tab) for someone who leads no team. With `team_overdue` (只看已逾期 ticked by a leader on their
    own lists) also how many of the team's steps are overdue, else None."""
    team_overdue = team_overdue and viewer.team is not None
    params = {**viewer.params, "now": clock.now()} if team_overdue else viewer.params
    found = session.execute(_counts_statement(viewer.several_roles, viewer.team, team_overdue), params).one()
    counts = found._mapping
    return (Counts(counts["inbox"], counts["queue"], counts["archive"], counts.get("team")),
            counts.get("team_overdue"))


def _choices(session: Session, actor: Actor, versions: Sequence[Row]) -> Choices:
    """The filter choices from the newest version of each procedure (`versions` in name order)."""
    newest: dict[str, int] = {}
    for v in versions:
        newest[v.process_id] = max(v.id, newest.get(v.process_id, v.id))
    procedures, steps, kinds, topics = [], {}, {}, {}
    for v in versions:
        if v.id != newest[v.process_id]:
            continue
        d = _diagram(session, v)
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
    """Whom a leader may assign to: those holding a role in a unit the leader sees (each row offers
    those holding one of its roles)."""
    if which == "archive" or not actor.has_role(*SUPERVISOR_ROLES):
        return ()
    query = (select(User.username, User.display_name, UserRole.role, UserRole.unit_id)
             .join(UserRole, UserRole.user_id == User.id).where(User.active.is_(True)).order_by(User.username))
    in_units = units.in_scope(UserRole.unit_id, actor.scope)
    if in_units is not None:
        query = query.where(in_units)
    held: dict[str, tuple[str, set[tuple[str, int]]]] = {}
    for username, display_name, role, unit_id in session.execute(query):
        held.setdefault(username, (display_name, set()))[1].add((role, unit_id))
    return tuple(Colleague(username, name, tuple(sorted({r for r, _ in grants})), frozenset(grants))
                 for username, (name, grants) in held.items())


def _assignable(rows: tuple[TaskRow, ...], colleagues: tuple[Colleague, ...]) -> dict[int, tuple[Colleague, ...]]:
    """For each open step listed, the colleagues holding one of its roles in the unit it was routed to."""
    if not colleagues:
        return {}
    return {t.id: tuple(c for c in colleagues if c.grants.intersection(t.grants)) for t in rows}


def overview(db: Database, actor: Actor, which: str, filters: Filters = NO_FILTERS, page: int = 1,
             per_page: int = 20) -> TaskList:
    """A task-list page: its rows, the tab counts, the filter choices and the colleagues to assign to."""
    with db.read() as session:
        versions = _versions(session)
        viewer = _viewer(session, actor, versions)
        counts, team_overdue = _counts(session, viewer, filters.overdue and which != "team")
        listed = _page(session, actor, which, filters, page, per_page, viewer, counts)
        colleagues = _colleagues(session, actor, which)
        return TaskList(which, listed, counts, _choices(session, actor, versions), colleagues,
                        _assignable(listed.items, colleagues), team_overdue)


def tasks(db: Database, actor: Actor, which: str, filters: Filters = NO_FILTERS, page: int = 1,
          per_page: int = 20) -> Page[TaskRow]:
    with db.read() as session:
        return _page(session, actor, which, filters, page, per_page)


def counts(db: Database, actor: Actor) -> Counts:
    with db.read() as session:
        return _counts(session, _viewer(session, actor))[0]


def get_task(db: Database, actor: Actor, task_id: int) -> TaskView:
    """A task page; its form values come from the case's stored data (no workflow load)."""
    with db.read() as session:
        return task_page(session, actor, task_id)


def task_page(session: Session, actor: Actor, task_id: int) -> TaskView:
    """The task page as the actor may see it (inside the caller's read transaction)."""
    row = session.get(HumanTask, task_id)
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在")
    grants = task_grants(session, row)
    roles = tuple(dict.fromkeys(role for role, _ in grants))
    case = session.get(Case, row.case_id)
    can_complete = True
    try:
        check_can_work(session, actor, row, grants)
    except (Forbidden, Conflict) as refused:
        # a step not (or no longer) yours to do: read-only for its people, and for those who urge and
        # oversee (催办, 督办, audit) any step of a case they may see
        can_complete = False
        if not (holds_step(actor, grants) or row.completed_by_id == actor.id):
            if not actor.has_role(*URGERS, *AUDIT_ROLES):
                if isinstance(refused, Forbidden):
                    raise
                raise Forbidden("您无权查看该任务") from None
            check_can_view(session, actor, case)
    if row.assignee_id not in (None, actor.id):
        can_complete = False
    d = deployments.diagram_of(session, case.version_id)
    step = d.steps.get(row.step_id)
    state = session.get(CaseState, case.id)  # held: the case view below reads it again, from the session
    data = {**state.data, **(row.data or {})}
    form = formpages.shown(session, step.form, data, case.unit_id) if step else ()
    holder = session.get(User, row.assignee_id).display_name if row.assignee_id else None
    return TaskView(
        id=row.id, status=row.status, step_id=row.step_id, step_name=row.name, lane=row.lane, roles=roles,
        assignee=holder, due_at=row.due_at, form=form, values=forms.default_values(form, data),
        case=case_view(session, case, reader=actor), can_complete=can_complete,
        pending_extension=_pending_extension(session, row.id),
    )


def _pending_extension(session: Session, task_id: int) -> PendingExtension | None:
    """The step's 延期申请 still waiting for a decision, so the page says so after the flash is gone."""
    found = session.scalars(select(ExtensionRequest).where(
        ExtensionRequest.human_task_id == task_id, ExtensionRequest.status == "pending")
        .order_by(ExtensionRequest.id.desc()).limit(1)).first()
    if found is None:
        return None
    name = display_names(session, {found.requested_by})[found.requested_by]
    return PendingExtension(name, found.requested_at, found.requested_due)

