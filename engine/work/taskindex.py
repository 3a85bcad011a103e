"""The human-task index (待办索引): a row for each human step that is or was ready, and a row for each
role that may do it, which every task list, queue and deadline sweep reads instead of the workflows.
`runtime.save` keeps it in line with the workflow; completing a step takes it out of every queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from engine.bpmn import sites, spiff
from engine.bpmn.diagram import Diagram
from engine.errors import Conflict
from engine.store import audit_chain, driver, worktallies
from engine.store.models import SORT_LAST, Case, HumanTask

from . import deadlines, routing


@dataclass(frozen=True)
class ReadyTask:
    """A human step that became ready in this transaction (its index row is written)."""

    id: int
    step_id: str
    name: str
    lane: str
    due_at: datetime | None


_END_TASK = driver.Statement("UPDATE human_tasks SET status = :status, completed_at = :completed_at, "
                             "completed_by_id = :completed_by_id WHERE id = :tid AND status = 'READY'")
_OPEN = ("SELECT id, task_uuid, step_id, name, lane FROM human_tasks WHERE case_id = {case} AND status = 'READY' "
         "ORDER BY id")  # a case's open index rows
_OPEN_TASKS = driver.Statement(_OPEN.format(case=":cid"))
_OPEN_BESIDE = driver.Statement(_OPEN.format(case="(SELECT case_id FROM human_tasks WHERE id = :tid)"))
_CLOSE_ROLES = driver.Statement("UPDATE human_task_roles SET open = :open WHERE human_task_id = :tid")
_NEW_TASK_COLUMNS = driver.Reader(HumanTask.__table__).names(exclude=("id",))
_NEW_TASK = driver.Statement(f"INSERT INTO human_tasks ({', '.join(_NEW_TASK_COLUMNS)}) VALUES "  # noqa: S608 — model's columns, bound values
                             f"({', '.join(':' + c for c in _NEW_TASK_COLUMNS)}) RETURNING id")
# a role row finds its step's row by the step's uuid, so both inserts go in one round trip (`driver.run_all`)
_NEW_ROLE = driver.Statement("INSERT INTO human_task_roles (human_task_id, role, unit_id, open, due_at) "
                             "SELECT id, :role, :unit_id, :open, :due_at FROM human_tasks WHERE task_uuid = :task_uuid")


def mark_completed(session: Session, task: Any, user_id: int | None, now: datetime, *, sandbox: bool) -> None:
    """The step leaves every queue: completed by `user_id` at `now` (a step no longer READY is a conflict),
    and counts in its unit's work tallies unless its case is a 试运行 (sandbox) case. The writes are deferred
    (`driver.defer`): they go in front of the engine call's next exchange with the database."""
    conn = session.connection()
    driver.defer(conn, _END_TASK, {"tid": task.id, "status": "COMPLETED", "completed_at": now,
                                   "completed_by_id": user_id}, _still_ready)
    driver.defer(conn, _CLOSE_ROLES, {"tid": task.id, "open": False})
    if not sandbox:
        driver.defer(conn, *worktallies.addition(task.unit_id, user_id, task.lane, task.step_id, task.due_at, now))
    task.status, task.completed_at, task.completed_by_id = "COMPLETED", now, user_id


def _still_ready(ended: driver.Result) -> None:
    if ended.rowcount != 1:  # the transaction is rolled back: the step's other writes are undone with it
        raise Conflict("该任务已不在待办状态")


def reading_open(case_id: int) -> driver.Step:
    """The statement reading the case's open (READY) index rows, to run with others (`driver.run_all`)."""
    return _OPEN_TASKS, {"cid": case_id}


def reading_open_beside(task_id: int) -> driver.Step:
    """The statement reading the open index rows of a step's case, the step's own included."""
    return _OPEN_BESIDE, {"tid": task_id}


def sync_tasks(session: Session, conn: Connection, case: Case, d: Diagram, seen: spiff.Snapshot,
               now: datetime, open_rows: list[Any]) -> list[ReadyTask]:
    """Bring the human-task index in line with the workflow: an open row (`open_rows`, read with
    `reading_open`) whose step is no longer ready is cancelled, and each step that became ready gets its row,
    its deadline and a row per role that may do it. Each change is an audit event, in that order."""
    ready = {str(t.id): t for t in seen.ready_human}
    _cancel(session, conn, case.id, [row for row in open_rows if row.task_uuid not in ready], now)
    known = {row.task_uuid for row in open_rows}
    rows = []
    for uuid, task in ready.items():
        if uuid not in known:
            rows.append(_ready_row(session, case, d, uuid, task, seen.data, now))
    return _insert_ready(conn, rows)


def _cancel(session: Session, conn: Connection, case_id: int, gone: list[Any], now: datetime) -> None:
    """Open rows whose step the workflow left without a person (a boundary timer fired, a branch was
    cancelled) leave every queue as CANCELLED, each with a `task_cancelled` event."""
    if gone:
        driver.run(conn, _END_TASK, [{"tid": row.id, "status": "CANCELLED", "completed_at": now,
                                      "completed_by_id": None} for row in gone])
        driver.run(conn, _CLOSE_ROLES, [{"tid": row.id, "open": False} for row in gone])
    for row in gone:
        audit_chain.append(session, case_id, "system", "task_cancelled", step_id=row.step_id,
                           step_name=row.name, lane=row.lane, data={})


def _ready_row(session: Session, case: Case, d: Diagram, uuid: str, task: Any, case_data: dict[str, Any],
               now: datetime) -> tuple[dict[str, Any], dict[str, int]]:
    """The index row of a step that became ready, with its deadline planned (`deadlines.plan`), the unit
    each of its roles is wanted in (`units.route`) and its person when the diagram names one (`routing`),
    and those units. Its `task_ready` event is appended, a `task_assigned` one when it went to a person,
    and an `expression_failed` one for what could not be computed."""
    step_id = spiff.spec_name(task)
    step = d.steps.get(step_id)
    name, lane = (step.name, step.lane) if step else (step_id, "")
    data = {**case_data, **task.data}
    deadline = deadlines.plan(step, d.properties, data, now)
    failed = sites.Failures(step_id)
    role_units = routing.role_units(session, case.unit_id, step, data)
    assignee = None if case.sandbox else routing.assignee_for(session, case.id, step, data, failed, role_units)
    row = dict(case_id=case.id, unit_id=case.unit_id, task_uuid=uuid, step_id=step_id, name=name, lane=lane,
               status="READY",
               assignee_id=assignee.user_id if assignee else None, created_at=now, completed_at=None,
               completed_by_id=None, data=_own_data(task, case_data), **deadlines.columns(deadline))
    audit_chain.append(session, case.id, "system", "task_ready", step_id=step_id, step_name=name, lane=lane,
                       data={"roles": list(step.roles if step else ()),
                             "units": routing.unit_names(session, role_units),
                             "due_at": deadline.due_at.isoformat() if deadline.due_at else None})
    failures = ([deadline.failure] if deadline.failure is not None else []) + list(failed.found)
    record_failures(session, case.id, failures, name, lane)
    if assignee is not None:
        audit_chain.append(session, case.id, "system", "task_assigned", step_id=step_id, step_name=name, lane=lane,
                           data={"assignee": assignee.username, "assignee_name": assignee.display_name,
                                 "rule": assignee.rule})
    return row, role_units


def _insert_ready(conn: Connection, rows: list[tuple[dict[str, Any], dict[str, int]]]) -> list[ReadyTask]:
    """Insert the new index rows and, for each, one row per role of its step in the unit it is wanted in
    (what the queues read)."""
    if not rows:
        return []
    role_rows = [{"task_uuid": row["task_uuid"], "role": role, "unit_id": unit_id, "open": True,
                  "due_at": row["due_at"] or SORT_LAST}
                 for row, role_units in rows for role, unit_id in role_units.items()]
    done = driver.run_all(conn, [*((_NEW_TASK, row) for row, _ in rows),
                                 *([(_NEW_ROLE, role_rows)] if role_rows else [])])
    return [ReadyTask(result.scalar_one(), row["step_id"], row["name"], row["lane"], row["due_at"])
            for result, (row, _) in zip(done[:len(rows)], rows, strict=True)]


def record_failures(session: Session, case_id: int, failures: list[sites.Failure], step_name: str, lane: str) -> None:
    """Each expression that could not be computed on the case (a deadline, a default, a requiredIf,
    专项反馈) becomes an `expression_failed` event: auditors see it in the trace, staff on the case page."""
    for failure in failures:
        audit_chain.append(session, case_id, "system", "expression_failed", step_id=failure.element_id,
                           step_name=step_name, lane=lane, data=failure.audit_data())


def _own_data(task: Any, case_data: dict) -> dict | None:
    """What a ready step sees that the case as a whole does not: its values that differ from the
    case's now, and always a multi-instance step's own item (the case's data changes as other
    items are done, so an item equal to the case's value today is not equal tomorrow)."""
    own = jsonable({k: v for k, v in task.data.items() if case_data.get(k) != v})
    own.update(jsonable(spiff.instance_item(task)))
    return own or None


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """The values of `data` JSON can hold (the rest stays in the workflow's own state)."""
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, list, dict, type(None)))}
