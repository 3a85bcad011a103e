"""The case lock: every write to a case takes it before it reads or writes anything of the case.

PostgreSQL: `SELECT … FOR UPDATE` on the case row, alone. Writers of one case queue on it instead of
deadlocking (nobody holds another row of the case while waiting for it), and what a writer reads after
it is what the previous holder committed. It must be a statement of its own: under READ COMMITTED a
statement that waited for a row lock re-reads only the rows it locks, while its subqueries (the case's
audit head) and joined rows (the case data) keep the snapshot taken before the wait. Several cases are
locked in id order. SQLite: a writer already holds the database's write lock (BEGIN IMMEDIATE).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from . import driver

_LOCK_CASE = driver.Statement("SELECT id FROM cases WHERE id = :case_id", " FOR UPDATE")
_LOCK_CASE_OF_TASK = driver.Statement(
    "SELECT id FROM cases WHERE id = (SELECT case_id FROM human_tasks WHERE id = :task_id)", " FOR UPDATE")


def lock_case(session: Session, case_id: int) -> bool:
    """Take the case's lock; False when there is no such case (always True on SQLite)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return True
    return driver.run(conn, _LOCK_CASE, {"case_id": case_id}).first() is not None


def lock_cases(session: Session, case_ids: Iterable[int]) -> None:
    """Take several cases' locks, in id order, so two writers locking the same cases never deadlock."""
    for case_id in sorted(set(case_ids)):
        lock_case(session, case_id)


def lock_case_of_task(session: Session, task_id: int) -> bool:
    """Take the lock of a step's case (a step never changes case); False when there is no such step
    (always True on SQLite)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return True
    return driver.run(conn, _LOCK_CASE_OF_TASK, {"task_id": task_id}).first() is not None


def locking_case_of_task(task_id: int) -> driver.Step:
    """`lock_case_of_task`'s statement, to run first with the reads that follow it (`driver.run_all`; PostgreSQL
    only): they stay statements of their own, run after the lock is granted, so they see what its previous holder
    committed — they are only sent in the same round trip."""
    return _LOCK_CASE_OF_TASK, {"task_id": task_id}
