"""A case inside one engine call: locking it with its step, loading its workflow, and writing back
its state, its columns and its human-task index (`taskindex`).

Everything runs inside the caller's transaction. The hot statements are plain SQL on the driver
(`engine/driver.py`); the locked rows come back as plain model objects the session does not track,
changed in memory and written with explicit statements (the revision column guards the case row).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, make_dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import clock
from engine.bpmn import deployments, diagram, spiff
from engine.bpmn.diagram import Diagram
from engine.errors import Conflict
from engine.store import audit_chain, driver, locks
from engine.store.models import Case, CaseState, HumanTask

from . import taskindex
from .taskindex import ReadyTask, mark_completed, record_failures  # noqa: F401 (others use them from here)

_CACHE_SIZE = 256
_STATE = driver.Statement("SELECT state FROM case_states WHERE case_id = :cid")
_cache: OrderedDict[int, tuple[int, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def load_workflow(session: Session, case: Case, d: Diagram, stored: bytes | None = None) -> Any:
    """The case's workflow. A copy kept from the last commit is reused when its revision matches;
    it is taken out of the cache so a failed transaction can never leave a half-changed copy.
    `stored`: the state already read under the case's lock (`prefetch`)."""
    with _cache_lock:
        cached = _cache.pop(case.id, None)
    if cached is not None and cached[0] == case.revision:
        return cached[1]
    if stored is None:
        stored = driver.run(session.connection(), _STATE, {"cid": case.id}).scalar_one()
    return spiff.restore(d.engine, stored)


@dataclass(frozen=True)
class Prefetched:
    """Several locked cases' stored states and open steps, read in two statements (a worker's batch)."""

    states: dict[int, bytes]
    open_steps: dict[int, list[Any]]


def prefetch(session: Session, case_ids: list[int]) -> Prefetched:
    conn = session.connection()
    states = dict(conn.execute(select(CaseState.case_id, CaseState.state)
                               .where(CaseState.case_id.in_(case_ids))).all())
    open_steps: dict[int, list[Any]] = {case_id: [] for case_id in case_ids}
    for row in conn.execute(select(HumanTask.case_id, HumanTask.id, HumanTask.task_uuid, HumanTask.step_id,
                                   HumanTask.name, HumanTask.lane)
                            .where(HumanTask.case_id.in_(case_ids), HumanTask.status == "READY")
                            .order_by(HumanTask.id)):
        open_steps[row.case_id].append(row)
    return Prefetched(states, open_steps)


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


def _plain(model: type) -> type:
    """A plain class with a model's columns as slots: what a locked row is read into. Building one
    costs a tenth of an instrumented model object, and nothing about it is tracked."""
    row = make_dataclass(model.__name__ + "Row", [c.name for c in model.__table__.c], slots=True)
    row.__doc__ = f"The columns of one `{model.__name__}` row, read under the engine call's lock."
    return row


CaseRow, TaskRow = _plain(Case), _plain(HumanTask)


@dataclass(frozen=True)
class Locked:
    """A human step and its case, both row-locked, with what an engine call needs of them.

    `task` and `case` are plain rows (`TaskRow`, `CaseRow`), never tracked by the session:
    the engine call changes them in memory and writes them back with explicit statements."""

    task: Any
    case: Any
    data: dict[str, Any]
    diagram: Diagram
    grants: tuple[tuple[str, int], ...] | None = None  # the step's (role, unit) pairs, when read with it
    open_steps: list[Any] | None = None  # the case's other READY index rows, when read with it (for `save`)


_TASKS, _CASES = driver.Reader(HumanTask.__table__), driver.Reader(Case.__table__)
_LOCK = """SELECT {tasks}, {cases}, case_states.data AS case_data, diagram_versions.hash AS version_hash,
 (SELECT seq FROM audit_events WHERE audit_events.case_id = cases.id ORDER BY seq DESC LIMIT 1) AS audit_seq,
 (SELECT hash FROM audit_events WHERE audit_events.case_id = cases.id ORDER BY seq DESC LIMIT 1) AS audit_hash,
 (SELECT seq FROM chain_heads WHERE name = 'global') AS global_seq,
 (SELECT hash FROM chain_heads WHERE name = 'global') AS global_hash
FROM human_tasks JOIN cases ON cases.id = human_tasks.case_id JOIN case_states ON case_states.case_id = cases.id
 JOIN diagram_versions ON diagram_versions.id = cases.version_id
WHERE """.format(tasks=_TASKS.columns("t_"), cases=_CASES.columns("c_"))  # noqa: S608 — the models' columns
_READ_TASK = driver.Statement(_LOCK + "human_tasks.id = :task_id", " FOR UPDATE OF human_tasks")
_READ_WAITING = driver.Statement(
    _LOCK + "human_tasks.case_id = :case_id AND human_tasks.step_id = :step_id AND human_tasks.status = 'READY'",
    " FOR UPDATE OF human_tasks")
_READ_GRANTS = driver.Statement("SELECT role, unit_id FROM human_task_roles WHERE human_task_id = :task_id")


def lock_task(session: Session, task_id: int) -> Locked | None:
    """The step with its case, locked (`locks.lock_case_of_task`), read in one statement with the case data,
    its diagram version, its audit chain head and (used on SQLite only) the global chain head; the step's
    grants; and the case's other open steps. On PostgreSQL the lock and the three reads go in one round trip
    (each still a statement of its own)."""
    conn = session.connection()
    reads: list[driver.Step] = [(_READ_TASK, {"task_id": task_id}), (_READ_GRANTS, {"task_id": task_id}),
                                taskindex.reading_open_beside(task_id)]
    if conn.dialect.name == "sqlite":  # the writer holds the database's lock already
        found, grants, beside = driver.run_all(conn, reads)
    else:
        _, found, grants, beside = driver.run_all(conn, [locks.locking_case_of_task(task_id), *reads])
    return _locked(session, found.first(), tuple((r.role, r.unit_id) for r in grants.all()),
                   [row for row in beside.all() if row.id != task_id])


def lock_waiting(session: Session, case_id: int, step_id: str) -> Locked | None:
    """The case's open step `step_id`, locked like `lock_task`."""
    if not locks.lock_case(session, case_id):
        return None
    return _locked(session, driver.run(session.connection(), _READ_WAITING,
                                       {"case_id": case_id, "step_id": step_id}).first())


def _locked(session: Session, found: Any, grants: tuple[tuple[str, int], ...] | None = None,
            open_steps: list[Any] | None = None) -> Locked | None:
    if found is None:
        return None
    m = found._mapping
    task = TaskRow(**_TASKS.values(m, "t_"))
    case = CaseRow(**_CASES.values(m, "c_"))
    audit_chain.seed(session, case.id, m["audit_seq"], m["audit_hash"])
    audit_chain.seed_global(session, m["global_seq"], m["global_hash"])
    d = diagram.cached(m["version_hash"]) or deployments.diagram_of(session, case.version_id)
    return Locked(task, case, driver.json_value(m["case_data"]) or {}, d, grants, open_steps)


_CASE_FIELDS = tuple(c.name for c in Case.__table__.c if c.name != "id")
_NEW_CASE = driver.Statement("INSERT INTO cases (number, version_id, process_id, unit_id, title, status, started_by, "
                             "started_at, updated_at, sandbox, revision) VALUES (:number, :version_id, :process_id, "
                             ":unit_id, :title, :status, :started_by, :started_at, :updated_at, :sandbox, 1) "
                             "RETURNING id")
_NUMBER_CASE = driver.Statement("UPDATE cases SET number = :number WHERE id = :cid")


def insert_case(session: Session, *, version_id: int, process_id: str, unit_id: int, started_by: str,
                now: datetime, sandbox: bool, number: Callable[[int], str]) -> Any:
    """A new running case of `unit_id`, numbered from its id (`number(id)`); a plain `CaseRow` like
    `lock_task`'s, whose columns `save` writes. It has no audit events yet."""
    values = dict(number=f"tmp-{uuid4().hex}", version_id=version_id, process_id=process_id, unit_id=unit_id,
                  title="",
                  status="running", started_by=started_by, started_at=now, updated_at=now, sandbox=sandbox)
    conn = session.connection()
    case_id = driver.run(conn, _NEW_CASE, values).scalar_one()
    values["number"] = number(case_id)
    driver.run(conn, _NUMBER_CASE, {"cid": case_id, "number": values["number"]})
    audit_chain.seed(session, case_id, None, None)
    return CaseRow(id=case_id, **{**dict.fromkeys(_CASE_FIELDS), **values, "revision": 1})


# the state row is written by the case's first save and replaced by every later one
_WRITE_STATE = driver.Statement("INSERT INTO case_states (case_id, format, state, data) "
                                "VALUES (:cid, :format, :state, :data) ON CONFLICT (case_id) DO UPDATE "
                                "SET format = excluded.format, state = excluded.state, data = excluded.data")
_CASE_COLUMNS = ("updated_at", "title", "topic", "kind", "channel", "rating", "next_timer_at", "status",
                 "completed_at", "outcome", "revision")
_ALWAYS = ("updated_at", "revision")


@lru_cache(maxsize=64)
def _update_case(columns: tuple[str, ...]) -> driver.Statement:
    """An UPDATE of just the columns that changed: SQLite rewrites an index only when the statement
    sets one of its columns, and most steps change none of the case's indexed columns."""
    return driver.Statement("UPDATE cases SET " + ", ".join(f"{c} = :{c}" for c in columns)  # noqa: S608 — _CASE_COLUMNS
                            + " WHERE id = :cid AND revision = :old_revision")


def save(session: Session, case: Any, d: Diagram, workflow: Any, actor_name: str,
         open_steps: list[Any] | None = None) -> list[ReadyTask]:
    """Write state, case columns and the human-task index; return the newly ready steps.
    `open_steps`: the case's READY index rows already read under its lock (`prefetch`, `lock_task`), not
    counting a step completed in this call. The state and the case row are written deferred (`driver.defer`).

    `case` is either a plain `CaseRow` (`lock_task`, `insert_case`) or a `Case` the session tracks; for the latter
    the session's pending changes are written first, and the new column values are set on it
    as already stored."""
    conn = driver.after_pending(session)
    now = clock.now()
    seen = spiff.snapshot(workflow)
    data = seen.data
    values = _case_values(session, case, d, workflow, seen, now)
    changed = tuple(c for c in _CASE_COLUMNS if c in _ALWAYS or getattr(case, c) != values[c])
    # deferred (`driver.defer`): both go in front of the call's next exchange with the database
    driver.defer(conn, _WRITE_STATE, {"cid": case.id, "format": spiff.FORMAT, "state": spiff.dump(workflow),
                                      "data": taskindex.jsonable(data)})
    driver.defer(conn, _update_case(changed),
                 {"cid": case.id, "old_revision": case.revision, **{c: values[c] for c in changed}}, _not_revised)
    if open_steps is None:
        open_steps = driver.run(conn, *taskindex.reading_open(case.id)).all()
    tracked = isinstance(case, Case)
    for key, value in values.items():
        if tracked:
            set_committed_value(case, key, value)
        else:
            setattr(case, key, value)
    return taskindex.sync_tasks(session, conn, case, d, seen, now, open_steps)


def _not_revised(revised: driver.Result) -> None:
    if revised.rowcount != 1:  # the transaction is rolled back, the state written with it
        raise Conflict("该事项刚被他人更新,请刷新后重试")


def _case_values(session: Session, case: Any, d: Diagram, workflow: Any, seen: spiff.Snapshot,
                 now: datetime) -> dict[str, Any]:
    """The case row's columns after this save: the title and the columns the task list filters on, read
    from the case's data through the diagram's properties (`caseTitle`, `topicField` …). A workflow
    that has just ended completes the case, with its outcome, and a `case_completed` event."""
    props, data = d.properties, seen.data
    values = {
        "updated_at": now,
        "title": str(data.get(props.get("caseTitle", "title")) or case.title or "")[:200],
        "topic": _short(data.get(props.get("topicField", "topic"))),
        "kind": _short(data.get(props.get("kindField", "kind"))),
        "channel": _short(data.get(props.get("channelField", "channel"))),
        "rating": _short(data.get(props.get("ratingField", "rating"))),
        "next_timer_at": seen.next_timer_at,
        "status": case.status, "completed_at": case.completed_at, "outcome": case.outcome,
        "revision": case.revision + 1,
    }
    if seen.completed and case.status == "running":
        ends = spiff.reached_ends(workflow)
        outcome = "、".join(d.element_names.get(e) or e for e in ends)[:100] or None
        values.update(status="completed", completed_at=now, outcome=outcome)
        audit_chain.append(session, case.id, "system", "case_completed", data={"outcome": outcome, "ends": ends})
    return values


def _short(value: Any) -> str | None:
    return str(value)[:40] if value not in (None, "") else None
