"""Work per person, lane and step, kept per unit (`work_tallies`, migration 0016): the completed human steps of
the non-sandbox cases of each unit, with those that had a due time and those done by it. The 统计 page of a
whole subtree reads these few rows instead of every completed step (docs/performance.md, statistics at
1,000,000 cases); a page filtered by anything but the unit still reads the steps of the cases it selects.

Each completion adds its step (`addition`, in the completing transaction); 转办 moves a case's completed steps
to the new unit (`move`); the steps of a completed row never change otherwise. `refresh_all` rebuilds the
tallies from the rows (after a load without the engine), `drift` lists where they differ.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from . import driver

_ADD = driver.Statement(
    "INSERT INTO work_tallies (unit_id, completed_by_id, lane, step_id, steps, due_steps, on_time_steps) "
    "VALUES (:unit_id, :person, :lane, :step_id, :steps, :due, :on_time) "
    "ON CONFLICT (unit_id, completed_by_id, lane, step_id) DO UPDATE SET steps = work_tallies.steps + excluded.steps, "
    "due_steps = work_tallies.due_steps + excluded.due_steps, "
    "on_time_steps = work_tallies.on_time_steps + excluded.on_time_steps")
_GROUPED = ("SELECT {unit}COALESCE(human_tasks.completed_by_id, 0), COALESCE(human_tasks.lane, ''), "
            "human_tasks.step_id, count(*), count(human_tasks.due_at), "
            "sum(CASE WHEN human_tasks.completed_at <= human_tasks.due_at THEN 1 ELSE 0 END) "
            "FROM human_tasks JOIN cases ON cases.id = human_tasks.case_id "
            "WHERE human_tasks.status = 'COMPLETED' AND cases.sandbox = FALSE {where}"
            "GROUP BY {unit}COALESCE(human_tasks.completed_by_id, 0), COALESCE(human_tasks.lane, ''), "
            "human_tasks.step_id")
_OF_CASE = driver.Statement(_GROUPED.format(unit="", where="AND human_tasks.case_id = :case_id "))
_EVERY = _GROUPED.format(unit="human_tasks.unit_id, ", where="")
_REBUILD = ("INSERT INTO work_tallies (unit_id, completed_by_id, lane, step_id, steps, due_steps, on_time_steps) "
            + _EVERY)
_ALL = "SELECT unit_id, completed_by_id, lane, step_id, steps, due_steps, on_time_steps FROM work_tallies"

Key = tuple[int, int, str, str]


def addition(unit_id: int, person: int | None, lane: str | None, step_id: str, due_at: datetime | None,
             completed_at: datetime) -> driver.Step:
    """One step completed (by `person`; None: no account) in a non-sandbox case of the unit: the statement, to run
    with the step's own writes (deferred: `driver.defer`)."""
    return _ADD, {"unit_id": unit_id, "person": person or 0, "lane": lane or "", "step_id": step_id, "steps": 1,
                  "due": int(due_at is not None), "on_time": int(due_at is not None and completed_at <= due_at)}


def move(conn: Connection, case_id: int, source: int, target: int) -> None:
    """转办: the case's completed steps leave the tallies of `source` for those of `target` (before the
    steps' own unit changes)."""
    groups = driver.run(conn, _OF_CASE, {"case_id": case_id}).all()
    rows = [{"unit_id": unit_id, "person": person, "lane": lane, "step_id": step, "steps": sign * n,
             "due": sign * due, "on_time": sign * int(on_time)}
            for sign, unit_id in ((-1, source), (1, target))
            for person, lane, step, n, due, on_time in groups]
    if rows:
        driver.run(conn, _ADD, rows)


def refresh_all(conn: Connection) -> None:
    """Rebuild every tally from the completed steps (after rows were loaded without the engine)."""
    conn.exec_driver_sql("DELETE FROM work_tallies")
    conn.exec_driver_sql(_REBUILD)


def drift(conn: Connection) -> list[tuple[Key, tuple[int, int, int], tuple[int, int, int]]]:
    """(key, kept, actual) wherever the kept tallies differ from the completed steps (zero rows ignored)."""
    kept = {tuple(r[:4]): tuple(r[4:]) for r in conn.exec_driver_sql(_ALL) if any(r[4:])}
    actual = {tuple(r[:4]): tuple(int(v) for v in r[4:])
              for r in conn.exec_driver_sql(_EVERY)}
    return [(key, kept.get(key, (0, 0, 0)), actual.get(key, (0, 0, 0))) for key in sorted(set(kept) | set(actual))
            if kept.get(key, (0, 0, 0)) != actual.get(key, (0, 0, 0))]
