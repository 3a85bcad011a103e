"""Reading one case: its page (status, open steps, history, comments) and who may see it."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import ColumnElement, and_, exists, or_, select, tuple_
from sqlalchemy.orm import Session

from engine.actor import SYSTEM, Actor
from engine.bpmn import deployments
from engine.bpmn.diagram import Diagram
from engine.errors import Forbidden, NotFound
from engine.people import units
from engine.people.oversight import (AUDIT_ROLES, READ_ONLY_MESSAGE, READ_ONLY_ROLES, audit_scope, in_charge,
                                     role_scope)
from engine.store.db import Database
from engine.store.models import (AuditEvent, Case, CaseLink, CaseState, Comment, DiagramVersion, HumanTask,
                                 HumanTaskRole, User, UserRole)

from . import leaders
from .views import CaseView, CommentView, HistoryEntry, OpenStep

SUPERVISOR_ROLES = ("社区负责人", "管理员")  # who may 指派 a step to a colleague
# who acts without an account (engine.public.residents.RESIDENT sits above this package)
NOT_STAFF = {SYSTEM.username: SYSTEM.display_name, "resident": "居民"}


def check_can_view(session: Session, actor: Actor, case: Case, acting: bool = False) -> None:
    """Staff see a case when they started it, one of its steps was given to them personally or wanted
    from one of their roles in the unit they hold it in (a 职能部门 sees only what was sent to it), or —
    within the units at or below one where they hold that role — their role supervises (supervisorRole),
    leads (`leaders`) or audits its procedure; `visible` is the same rule in SQL.
    `acting`: to write on it (意见, 关联) — 审计 reads every case of its units but acts on none."""
    if case.started_by == actor.username:
        return
    if units.sees(session, actor, case.unit_id):  # each role counts where it is held (`in_charge`)
        oversight = tuple(r for r in AUDIT_ROLES if not (acting and r in READ_ONLY_ROLES))
        if in_charge(session, actor, case.unit_id, oversight):
            return
        d = deployments.diagram_of(session, case.version_id)
        supervisor = d.properties.get("supervisorRole")
        if supervisor and in_charge(session, actor, case.unit_id, (supervisor,)):  # e.g. 居务监督委员会
            return
        if in_charge(session, actor, case.unit_id, leaders.leading_roles(d)):  # 社区负责人: what they lead
            return
    involved = session.scalar(select(exists().where(
        HumanTask.case_id == case.id,
        HumanTaskRole.human_task_id == HumanTask.id,
        tuple_(HumanTaskRole.role, HumanTaskRole.unit_id).in_(sorted(actor.grants) or [("", 0)]),
    )))
    personal = session.scalar(select(exists().where(
        HumanTask.case_id == case.id,
        or_(HumanTask.assignee_id == actor.id, HumanTask.completed_by_id == actor.id)))) if actor.id else False
    if not (involved or personal):
        raise Forbidden(READ_ONLY_MESSAGE if acting and actor.has_role(*READ_ONLY_ROLES) else "您无权查看该事项")


def visible(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """`check_can_view` as a condition on `Case` for lists of cases (None: every case)."""
    audited = units.in_scope(Case.unit_id, audit_scope(session, actor)) if actor.has_role(*AUDIT_ROLES) else False
    if audited is None:
        return None
    versions = session.scalars(select(DiagramVersion.id).where(DiagramVersion.draft.is_(False))).all()
    overseen: dict[str, list[int]] = {}  # an overseeing role → the versions it oversees
    for version_id in versions:
        d = deployments.diagram_of(session, version_id)
        for role in (d.properties.get("supervisorRole") or "", *leaders.leading_roles(d)):
            if role and actor.has_role(role):
                overseen.setdefault(role, []).append(version_id)
    involved = exists().where(
        HumanTask.case_id == Case.id, HumanTaskRole.human_task_id == HumanTask.id,
        tuple_(HumanTaskRole.role, HumanTaskRole.unit_id).in_(sorted(actor.grants) or [("", 0)])).correlate(Case)
    ways = [Case.started_by == actor.username, involved]
    if actor.id:
        ways.append(exists().where(HumanTask.case_id == Case.id, or_(
            HumanTask.assignee_id == actor.id, HumanTask.completed_by_id == actor.id)).correlate(Case))
    if audited is not False:
        ways.append(audited)
    for role, version_ids in sorted(overseen.items()):
        where = units.in_scope(Case.unit_id, role_scope(session, actor, (role,)))
        overseeing = Case.version_id.in_(version_ids)
        ways.append(overseeing if where is None else and_(overseeing, where))
    return or_(*ways)


def get_case(db: Database, actor: Actor, number: str) -> CaseView:
    with db.read() as session:
        return case_page(session, actor, number)


def case_page(session: Session, actor: Actor, number: str) -> CaseView:
    """The case page as the actor may see it (inside the caller's read transaction)."""
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"事项 {number} 不存在")
    check_can_view(session, actor, case)
    view = case_view(session, case, assigning=actor.has_role(*SUPERVISOR_ROLES) and not case.sandbox, reader=actor)
    return replace(view, may_comment=may_act(session, actor, case))


def may_act(session: Session, actor: Actor, case: Case) -> bool:
    """Whether the actor may write on the case (意见), not only read it."""
    try:
        check_can_view(session, actor, case, acting=True)
    except Forbidden:
        return False
    return True


def case_view(session: Session, case: Case, assigning: bool = False, reader: Actor | None = None) -> CaseView:
    """The case page's content; `assigning`: with each open step's colleagues a leader may 指派 it to;
    `reader`: whose view of its linked cases (None: every one, as in the designer's 试运行)."""
    procedure, version_hash, d = deployments.named_diagram(session, case.version_id)
    open_rows = session.scalars(select(HumanTask).where(
        HumanTask.case_id == case.id, HumanTask.status == "READY").order_by(HumanTask.id)).all()
    granted: dict[int, list[tuple[str, int]]] = {}
    if open_rows:  # every open step's (role, unit) pairs in one statement
        for task_id, role, unit in session.execute(
                select(HumanTaskRole.human_task_id, HumanTaskRole.role, HumanTaskRole.unit_id)
                .where(HumanTaskRole.human_task_id.in_([row.id for row in open_rows]))):
            granted.setdefault(task_id, []).append((role, unit))
    steps = []
    for row in open_rows:
        grants = tuple(granted.get(row.id, ()))
        roles = tuple(dict.fromkeys(role for role, _ in grants))
        holder = None
        if row.assignee_id is not None:
            holder = _display(session, row.assignee_id)
        steps.append(OpenStep(row.id, row.step_id, row.name, roles, holder, row.due_at,
                              _candidates(session, grants) if assigning else ()))
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    comments = session.scalars(select(Comment).where(Comment.case_id == case.id).order_by(Comment.id)).all()
    linked, hidden = linked_cases(session, reader, case.id)
    state = session.get(CaseState, case.id)
    people = _people_named(events, d)
    chosen_units = _units_named(session, events, d)
    names = display_names(session, {case.started_by, *(e.actor for e in events), *(c.author for c in comments),
                                    *people})
    return CaseView(
        id=case.id, number=case.number, procedure=procedure, process_id=case.process_id, title=case.title,
        status=case.status, kind=case.kind, topic=case.topic, started_at=case.started_at,
        started_by=case.started_by, completed_at=case.completed_at, version_id=case.version_id,
        version_hash=version_hash, open_steps=tuple(steps),
        history=tuple(_entry(e, d, names[e.actor], names, chosen_units, hidden) for e in events),
        comments=tuple(CommentView(c.author, c.at, c.text, names[c.author]) for c in comments),
        linked=tuple(linked), linked_elsewhere=len(hidden), data=dict(state.data) if state else {},
        started_by_name=names[case.started_by],
        supervisor_role=d.properties.get("supervisorRole") or None,
    )


OTHER_UNIT_CASE = "其他单位的事项"


def linked_cases(session: Session, actor: Actor | None, case_id: int) -> tuple[tuple[str, ...], frozenset[str]]:
    """The numbers of the cases linked (关联) to this one that the actor may see, in link order, and those of
    the others: a link made at the 街道 between two 社区's cases shows neither 社区 the other's number."""
    query = (select(Case.number, Case.id).join(CaseLink, CaseLink.linked_case_id == Case.id)
             .where(CaseLink.case_id == case_id).order_by(CaseLink.linked_case_id))
    every = session.execute(query).all()
    seen = visible(session, actor) if actor is not None and every else None  # most cases link none
    shown = set(session.scalars(query.with_only_columns(Case.number).where(seen))) if seen is not None \
        else {n for n, _ in every}
    return tuple(n for n, _ in every if n in shown), frozenset(n for n, _ in every if n not in shown)


def _candidates(session: Session, grants: tuple[tuple[str, int], ...]) -> tuple[tuple[str, str], ...]:
    """Whom the step may be assigned to: the active holders of its role in the unit it was routed to."""
    rows = session.execute(select(User.username, User.display_name).join(UserRole, UserRole.user_id == User.id)
                           .where(tuple_(UserRole.role, UserRole.unit_id).in_(sorted(grants) or [("", 0)]),
                                  User.active.is_(True))
                           .distinct().order_by(User.username))
    return tuple((r.username, r.display_name) for r in rows)


def display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """Username → what people read (李主任, 系统, 居民), in one query; an unknown name stays as it is."""
    found = dict(session.execute(select(User.username, User.display_name).where(User.username.in_(usernames))).all())
    return {name: NOT_STAFF.get(name) or found.get(name) or name for name in usernames}


def _display(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return user.display_name if user else "?"


def _fields_of_type(event: AuditEvent, d: Diagram, field_type: str) -> set[str]:
    """The ids of the fields of `field_type` (`user`: 承办人; `unit`: 吹哨's 职能部门) of the form an event's
    values came from."""
    if event.step_id in d.steps:
        form = d.steps[event.step_id].form
    else:
        form = d.start_form if event.step_id == d.start_id else ()
    return {f.id for f in form if f.type == field_type}


def _people_named(events: list[AuditEvent], d: Diagram) -> set[str]:
    """Usernames an event records that a page shows as names: an assignee, a person picked in a form."""
    found = {str(e.data["assignee"]) for e in events if e.kind == "task_assigned" and e.data.get("assignee")}
    for e in events:
        values = e.data.get("values") or {}
        found |= {str(values[k]) for k in _fields_of_type(e, d, "user") if values.get(k)}
    return found


def _units_named(session: Session, events: list[AuditEvent], d: Diagram) -> dict[int, str]:
    """The names of the units the events' unit fields chose, by id, in one query."""
    ids: set[int] = set()
    for e in events:
        values = e.data.get("values") or {}
        for k in _fields_of_type(e, d, "unit") & set(values):
            ids.update(v for v in (values[k] if isinstance(values[k], list) else [values[k]]) if isinstance(v, int))
    return units.names(session, ids)


def _unit_text(value: object, unit_names: dict[int, str]) -> object:
    if value is None:
        return None
    return "、".join(unit_names.get(v, str(v)) for v in (value if isinstance(value, list) else [value]))


def _entry(event: AuditEvent, d: Diagram, actor_name: str, names: dict[str, str],
           unit_names: dict[int, str] | None = None, hidden: frozenset[str] = frozenset()) -> HistoryEntry:
    if event.step_id in d.steps:
        labels = {f.id: f.label for f in d.steps[event.step_id].form}
    elif event.step_id == d.start_id:
        labels = {f.id: f.label for f in d.start_form}
    else:
        labels = {}
    data = dict(event.data)
    if event.kind == "case_linked" and data.get("linked") in hidden:
        data["linked"] = OTHER_UNIT_CASE
    if event.kind == "task_assigned" and data.get("assignee"):
        data["assignee_name"] = names.get(str(data["assignee"]), data.get("assignee_name"))
    if people := _fields_of_type(event, d, "user") & set(data.get("values") or {}):
        data["values"] = {k: names.get(str(v), v) if k in people and v else v for k, v in data["values"].items()}
    if chosen := _fields_of_type(event, d, "unit") & set(data.get("values") or {}):
        data["values"] = {k: _unit_text(v, unit_names or {}) if k in chosen else v for k, v in data["values"].items()}
    return HistoryEntry(event.seq, event.at, event.actor, event.kind, event.step_id, event.step_name,
                        event.lane, data, labels, actor_name)
