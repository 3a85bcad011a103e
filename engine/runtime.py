"""Loading a case's workflow, and writing back its state and its human-task index.

Both run inside the caller's transaction, after the case row is locked.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime, time, timedelta
from typing import Any

from dataclasses import dataclass

from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, clock, deadlines, deployments, diagram, expressions, spiff
from .calendar import CHINA_TZ
from .diagram import Diagram
from .errors import Conflict
from .models import SORT_LAST, Case, CaseState, DiagramVersion, HumanTask, HumanTaskRole

_CACHE_SIZE = 256
_cache: OrderedDict[int, tuple[int, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def load_workflow(session: Session, case: Case, d: Diagram) -> Any:
    """The case's workflow. A copy kept from the last commit is reused when its revision matches;
    it is taken out of the cache so a failed transaction can never leave a half-changed copy."""
    with _cache_lock:
        cached = _cache.pop(case.id, None)
    if cached is not None and cached[0] == case.revision:
        return cached[1]
    blob = session.connection().execute(select(_S.c.state).where(_S.c.case_id == case.id)).scalar_one()
    return spiff.restore(d.engine, blob)


def remember(case_id: int, revision: int, workflow: Any) -> None:
    """Keep a committed workflow for the next call on the same case."""
    with _cache_lock:
        _cache[case_id] = (revision, workflow)
        _cache.move_to_end(case_id)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def forget_all() -> None:
    with _cache_lock:
        _cache.clear()


def due_moment(value: Any, created: datetime) -> datetime | None:
    """Turn a dueDate value (date, datetime or ISO duration from now) into a moment."""
    if value in (None, ""):
        return None
    text = str(value)
    if expressions.is_iso_literal(text) and text.startswith("P"):
        return created + _duration(text)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), CHINA_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def _duration(text: str) -> timedelta:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    return TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(text), clock.now())


@dataclass(frozen=True)
class Locked:
    """A human step and its case, both row-locked, with what an engine call needs of them.

    `task` and `case` are plain (transient) model objects, never tracked by the session:
    the engine call changes them in memory and writes them back with explicit statements."""

    task: HumanTask
    case: Case
    data: dict[str, Any]
    diagram: Diagram


@dataclass(frozen=True)
class ReadyTask:
    """A human step that became ready in this transaction (its index row is written)."""

    id: int
    step_id: str
    name: str
    lane: str
    due_at: datetime | None
    assignee_id: int | None = None


_T, _C, _S = HumanTask.__table__, Case.__table__, CaseState.__table__


def _locking(where: Any) -> Any:
    seq, digest = audit.case_head_query(_C.c.id)
    return (select(*[c.label("t_" + c.name) for c in _T.c], *[c.label("c_" + c.name) for c in _C.c],
                   _S.c.data.label("case_data"), DiagramVersion.__table__.c.hash.label("version_hash"),
                   seq.label("audit_seq"), digest.label("audit_hash"))
            .join(_C, _C.c.id == _T.c.case_id).join(_S, _S.c.case_id == _C.c.id)
            .join(DiagramVersion.__table__, DiagramVersion.__table__.c.id == _C.c.version_id)
            .where(where).with_for_update(of=[_T, _C]))


_LOCK_TASK = _locking(_T.c.id == bindparam("task_id"))
_LOCK_WAITING = _locking((_T.c.case_id == bindparam("case_id")) & (_T.c.step_id == bindparam("step_id"))
                         & (_T.c.status == "READY"))


def lock_task(session: Session, task_id: int) -> Locked | None:
    """The step with its case, locked (FOR UPDATE on PostgreSQL; SQLite writers hold the database lock),
    in one statement that also reads the case data, its diagram version and its audit chain head."""
    return _locked(session, session.connection().execute(_LOCK_TASK, {"task_id": task_id}).first())


def lock_waiting(session: Session, case_id: int, step_id: str) -> Locked | None:
    """The case's open step `step_id`, locked like `lock_task`."""
    return _locked(session, session.connection().execute(
        _LOCK_WAITING, {"case_id": case_id, "step_id": step_id}).first())


def _locked(session: Session, found: Any) -> Locked | None:
    if found is None:
        return None
    m = found._mapping
    task = HumanTask(**{c.name: m["t_" + c.name] for c in _T.c})
    case = Case(**{c.name: m["c_" + c.name] for c in _C.c})
    audit.seed(session, case.id, m["audit_seq"], m["audit_hash"])
    d = diagram.cached(m["version_hash"]) or deployments.diagram_of(session, case.version_id)
    return Locked(task, case, dict(m["case_data"] or {}), d)


_UPDATE_STATE = update(_S).where(_S.c.case_id == bindparam("cid"))
_UPDATE_CASE = update(_C).where(_C.c.id == bindparam("cid"), _C.c.revision == bindparam("old_revision"))
_COMPLETE_TASK = update(_T).where(_T.c.id == bindparam("tid"), _T.c.status == "READY")
_OPEN_TASKS = select(_T.c.id, _T.c.task_uuid, _T.c.step_id, _T.c.name, _T.c.lane) \
    .where(_T.c.case_id == bindparam("cid"), _T.c.status == "READY")
_CLOSE_ROLES = update(HumanTaskRole.__table__).where(HumanTaskRole.__table__.c.human_task_id == bindparam("tid"))
_NEW_TASKS = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
_NEW_ROLES = insert(HumanTaskRole.__table__)


def mark_completed(session: Session, task: HumanTask, user_id: int | None, now: datetime) -> None:
    """The step leaves every queue: completed by `user_id` at `now` (a step no longer READY is a conflict)."""
    conn = session.connection()
    if conn.execute(_COMPLETE_TASK, {"tid": task.id, "status": "COMPLETED", "completed_at": now,
                                     "completed_by_id": user_id}).rowcount != 1:
        raise Conflict("该任务已不在待办状态")
    conn.execute(_CLOSE_ROLES, {"tid": task.id, "open": False})
    task.status, task.completed_at, task.completed_by_id = "COMPLETED", now, user_id


def save(session: Session, case: Case, d: Diagram, workflow: Any, actor_name: str) -> list[ReadyTask]:
    """Write state, case columns and the human-task index; return the newly ready steps.

    `case` is either a plain object from `lock_task` or a row the session tracks; for the latter
    the session's pending changes are written first, and the new column values are set on it
    as already stored."""
    session.flush()
    now = clock.now()
    data = spiff.case_data(workflow)
    conn = session.connection()
    state = {"cid": case.id, "state": spiff.dump(workflow), "data": _jsonable(data)}
    if not conn.execute(_UPDATE_STATE, state).rowcount:
        conn.execute(insert(_S), {"case_id": case.id, "format": spiff.FORMAT, **state})
    props = d.properties
    values = {
        "updated_at": now,
        "title": str(data.get(props.get("caseTitle", "title")) or case.title or "")[:200],
        "topic": _short(data.get(props.get("topicField", "topic"))),
        "kind": _short(data.get(props.get("kindField", "kind"))),
        "channel": _short(data.get(props.get("channelField", "channel"))),
        "rating": _short(data.get(props.get("ratingField", "rating"))),
        "next_timer_at": spiff.next_timer_at(workflow),
        "status": case.status, "completed_at": case.completed_at, "outcome": case.outcome,
        "revision": case.revision + 1,
    }
    if workflow.is_completed() and case.status == "running":
        ends = spiff.reached_ends(workflow)
        outcome = "、".join(d.element_names.get(e) or e for e in ends)[:100] or None
        values.update(status="completed", completed_at=now, outcome=outcome)
        audit.append(session, case.id, "system", "case_completed", data={"outcome": outcome, "ends": ends})
    if conn.execute(_UPDATE_CASE, {"cid": case.id, "old_revision": case.revision, **values}).rowcount != 1:
        raise Conflict("该事项刚被他人更新,请刷新后重试")
    tracked = not inspect(case).transient
    for key, value in values.items():
        if tracked:
            set_committed_value(case, key, value)
        else:
            setattr(case, key, value)
    return _sync_tasks(session, conn, case, d, workflow, data, now)


def _short(value: Any) -> str | None:
    return str(value)[:40] if value not in (None, "") else None


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, list, dict, type(None)))}


def _sync_tasks(session: Session, conn: Connection, case: Case, d: Diagram, workflow: Any, data: dict, now: datetime) -> list[ReadyTask]:
    ready = {str(t.id): t for t in spiff.ready_human_tasks(workflow)}
    open_rows = conn.execute(_OPEN_TASKS, {"cid": case.id}).all()
    gone = [row for row in open_rows if row.task_uuid not in ready]
    if gone:
        conn.execute(_COMPLETE_TASK, [{"tid": row.id, "status": "CANCELLED", "completed_at": now} for row in gone])
        conn.execute(_CLOSE_ROLES, [{"tid": row.id, "open": False} for row in gone])
    for row in gone:
        audit.append(session, case.id, "system", "task_cancelled", step_id=row.step_id,
                        step_name=row.name, lane=row.lane, data={})
    known = {row.task_uuid for row in open_rows}
    rows: list[dict[str, Any]] = []
    for uuid, task in ready.items():
        if uuid in known:
            continue
        step_id = spiff.spec_name(task)
        step = d.steps.get(step_id)
        name = step.name if step else step_id
        deadline = deadlines.plan(step, d.properties, {**data, **task.data}, now)
        rows.append(dict(case_id=case.id, task_uuid=uuid, step_id=step_id, name=name,
                         lane=step.lane if step else "", status="READY", assignee_id=None, created_at=now,
                         completed_at=None, completed_by_id=None, data=_own_data(task.data, data),
                         **deadlines.columns(deadline)))
        audit.append(session, case.id, "system", "task_ready", step_id=step_id, step_name=name,
                        lane=rows[-1]["lane"], data={"roles": list(step.roles if step else ()),
                                                     "due_at": deadline.due_at.isoformat() if deadline.due_at else None})
    if not rows:
        return []
    ids = conn.execute(_NEW_TASKS, rows).scalars().all()
    created = [ReadyTask(id, row["step_id"], row["name"], row["lane"], row["due_at"]) for id, row in zip(ids, rows)]
    role_rows = [{"human_task_id": t.id, "role": role, "open": True, "due_at": t.due_at or SORT_LAST}
                 for t in created for role in (d.steps[t.step_id].roles if t.step_id in d.steps else ())]
    if role_rows:
        conn.execute(_NEW_ROLES, role_rows)
    return created


def _own_data(task_data: dict, case_data: dict) -> dict | None:
    """What a ready step sees that the case as a whole does not (a multi-instance item)."""
    own = _jsonable({k: v for k, v in task_data.items() if case_data.get(k) != v})
    return own or None
