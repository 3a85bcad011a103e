"""The engine's plain statements (engine/store/driver.py) store and read values exactly as the models do."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from engine.actor import SYSTEM
from engine import clock
from engine.bpmn import deployments
from engine.errors import Conflict
from engine.store import driver
from engine.store.db import Database, is_unreachable
from engine.store.models import Case, CaseState, HumanTask, WorkTally
from tests.conftest import PROCESSES, skip_without_pg
from tests.minqing import Matter

MOMENT = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone(timedelta(hours=8)))  # China time, no microseconds


@pytest.fixture
def m(db, staff, frozen_clock) -> Matter:
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return Matter(db, staff)


def test_parameters_take_each_drivers_style():
    statement = driver.Statement("UPDATE t SET a = :a, b = '50%' WHERE id = :id AND at::date = d", " FOR UPDATE")
    assert statement.sqlite == "UPDATE t SET a = :a, b = '50%' WHERE id = :id AND at::date = d"
    assert statement.postgresql == "UPDATE t SET a = %(a)s, b = '50%%' WHERE id = %(id)s AND at::date = d FOR UPDATE"


def test_a_moment_written_by_the_driver_reads_back_through_the_models(db, m):
    with db.write() as session:
        conn = session.connection()
        driver.run(conn, driver.Statement("UPDATE cases SET next_timer_at = :at WHERE number = :n"),
                   {"at": MOMENT, "n": m.number})
    with db.read() as session:
        stored = session.scalar(select(Case.next_timer_at).where(Case.number == m.number))
        assert stored == MOMENT and stored.tzinfo is not None
        # and compares with moments the models write, in SQL
        assert session.scalar(select(Case.id).where(Case.next_timer_at <= MOMENT + timedelta(microseconds=1)))
        assert session.scalar(select(Case.id).where(Case.next_timer_at < MOMENT)) is None


def test_the_driver_stores_a_moment_exactly_as_the_models_do(db, m):
    with db.write() as session:
        session.get(HumanTask, m.task_id("UserTask_classify")).due_at = MOMENT
    with db.read() as session:
        by_models = session.connection().exec_driver_sql("SELECT due_at FROM human_tasks").scalar()
    with db.write() as session:
        driver.run(session.connection(), driver.Statement("UPDATE human_tasks SET due_at = :at"), {"at": MOMENT})
    with db.read() as session:
        by_driver = session.connection().exec_driver_sql("SELECT due_at FROM human_tasks").scalar()
    # naive UTC: SQLAlchemy's text form on SQLite, a timestamp without time zone on PostgreSQL
    expected = "2026-11-23 02:00:00.000000" if db.is_sqlite else datetime(2026, 11, 23, 2, 0)
    assert by_models == by_driver == expected


def test_a_row_read_by_the_driver_equals_the_models_view(db, m):
    reader = driver.Reader(HumanTask.__table__)
    with db.read() as session:
        row = driver.run(session.connection(), driver.Statement(
            f"SELECT {reader.columns('t_')} FROM human_tasks WHERE id = :id"),
            {"id": m.task_id("UserTask_classify")}).first()
        values = reader.values(row._mapping, "t_")
        model = session.get(HumanTask, values["id"])
        assert values == {c.name: getattr(model, c.name) for c in HumanTask.__table__.c}


def test_a_statement_runs_inside_the_sessions_transaction(db, m):
    """Rolled back with the session: the driver's cursor belongs to the session's connection."""
    rename = driver.Statement("UPDATE cases SET title = :title WHERE number = :n")
    with pytest.raises(RuntimeError):
        with db.write() as session:
            assert driver.run(session.connection(), rename, {"title": "改了", "n": m.number}).rowcount == 1
            raise RuntimeError("fail after the statement")
    with db.read() as session:
        assert session.scalar(select(Case.title).where(Case.number == m.number)) != "改了"


def test_a_driver_error_is_sqlalchemys_and_names_the_statement(db, m, staff):
    other = Matter(db, staff)
    clash = driver.Statement("UPDATE cases SET number = :taken WHERE number = :n")
    with pytest.raises(IntegrityError) as raised:
        with db.write() as session:
            driver.run(session.connection(), clash, {"taken": m.number, "n": other.number})
    assert "UPDATE cases SET number" in str(raised.value)
    with db.read() as session:  # the failed transaction left both cases as they were
        assert session.scalar(select(func.count()).select_from(Case).where(Case.number == m.number)) == 1


def test_statements_run_together_answer_in_order(db, m, staff):
    """`run_all` (one round trip on PostgreSQL): each statement sees the ones before it, and each result —
    row count, rows, a list's executions — is its own, in the order sent."""
    other = Matter(db, staff)
    rename = driver.Statement("UPDATE cases SET title = :title WHERE number = :n")
    with db.write() as session:
        renamed, missed, read = driver.run_all(session.connection(), [
            (rename, [{"title": "一", "n": m.number}, {"title": "二", "n": other.number}]),
            (rename, {"title": "无", "n": "没有这个编号"}),
            (driver.Statement("SELECT number, title FROM cases ORDER BY id"), None)])
    assert renamed.rowcount == 2 and missed.rowcount == 0
    assert [(r.number, r.title) for r in read.all()] == [(m.number, "一"), (other.number, "二")]


def test_when_one_of_statements_run_together_fails_none_is_kept(db, m, staff):
    """The first failure is raised as SQLAlchemy's, naming the statements sent; the transaction is rolled
    back, the statements before it with it, and the ones after it never ran."""
    other = Matter(db, staff)
    rename = driver.Statement("UPDATE cases SET title = :title WHERE number = :n")
    clash = driver.Statement("UPDATE cases SET number = :taken WHERE number = :n")
    with pytest.raises(IntegrityError) as raised:
        with db.write() as session:
            driver.run_all(session.connection(), [(rename, {"title": "先改", "n": m.number}),
                                                  (clash, {"taken": m.number, "n": other.number}),
                                                  (rename, {"title": "后改", "n": other.number})])
    assert "UPDATE cases SET number" in str(raised.value)
    with db.read() as session:
        titles = set(session.scalars(select(Case.title)))
        numbers = set(session.scalars(select(Case.number)))
    assert not {"先改", "后改"} & titles and numbers == {m.number, other.number}


RENAME = driver.Statement("UPDATE cases SET title = :title WHERE number = :n")


def _title(db, number: str) -> str:
    with db.read() as session:
        return session.scalar(select(Case.title).where(Case.number == number))


def test_a_deferred_write_goes_in_front_of_the_next_exchange_and_is_checked_there(db, m):
    """`defer`: nothing is sent yet; the next `run_all` sends it first (one round trip on PostgreSQL), gives back
    only its own results, and calls the write's check with the write's result."""
    checked = []
    with db.write() as session:
        conn = session.connection()
        driver.defer(conn, RENAME, {"title": "先写", "n": m.number}, lambda result: checked.append(result.rowcount))
        assert checked == []
        read = driver.run_all(conn, [(driver.Statement("SELECT title FROM cases WHERE number = :n"), {"n": m.number})])
        assert [r.title for r in read[0].all()] == ["先写"] and len(read) == 1 and checked == [1]
    assert _title(db, m.number) == "先写"


def test_a_read_through_the_models_sees_the_deferred_writes(db, m):
    with db.write() as session:
        driver.defer(session.connection(), RENAME, {"title": "模型可见", "n": m.number})
        assert session.scalar(select(Case.title).where(Case.number == m.number)) == "模型可见"


def test_deferred_writes_still_queued_at_the_commit_are_written(db, m):
    with db.write() as session:
        driver.defer(session.connection(), RENAME, {"title": "提交时写", "n": m.number})
    assert _title(db, m.number) == "提交时写"


def test_a_failing_check_rolls_back_the_whole_transaction(db, m, staff):
    other = Matter(db, staff)

    def refuse(result) -> None:  # noqa: ANN001
        raise Conflict("已被他人更新")

    with pytest.raises(Conflict):
        with db.write() as session:
            conn = session.connection()
            driver.run(conn, RENAME, {"title": "之前写的", "n": other.number})
            driver.defer(conn, RENAME, {"title": "被拒", "n": m.number}, refuse)
            driver.send_deferred(conn)
    assert _title(db, m.number) != "被拒" and _title(db, other.number) != "之前写的"


def test_a_rollback_drops_what_is_still_deferred(db, m):
    """The queue lives on the pooled connection: what a failed transaction deferred never reaches the next
    transaction that gets the same connection, whether the session rolled back or the pool reset it."""
    used = []
    with pytest.raises(RuntimeError):
        with db.write() as session:
            used.append(session.connection().info)
            driver.defer(session.connection(), RENAME, {"title": "不该写", "n": m.number})
            raise RuntimeError("fails before anything is sent")
    conn = db.engine.connect()
    used.append(conn.info)
    driver.defer(conn, RENAME, {"title": "也不该写", "n": m.number})
    conn.close()  # returned to the pool without a commit: the pool resets it
    held = []
    try:  # take the pool's connections until both of those are back in hand, then send what they hold
        while used:
            held.append(db.engine.connect())
            if any(held[-1].info is info for info in used):
                used = [info for info in used if info is not held[-1].info]
                held[-1].exec_driver_sql("SELECT 1")  # anything still queued would go in front of it
                held[-1].commit()
    finally:
        for c in held:
            c.close()
    assert _title(db, m.number) not in ("不该写", "也不该写")


def test_a_step_no_longer_ready_is_a_conflict_when_its_deferred_writes_go_and_nothing_is_kept(db, m):
    """`mark_completed` defers the step's writes; the check on ending the step still refuses a step completed
    meanwhile, and the tally written in the same round trip is undone with the transaction."""
    from engine.work import runtime, taskindex

    task_id = m.task_id("UserTask_classify")
    m.do("UserTask_classify", "leader", kind="即办件")
    with db.read() as session:
        tallies = session.scalar(select(func.coalesce(func.sum(WorkTally.steps), 0)))
    with pytest.raises(Conflict, match="已不在待办状态"):
        with db.write() as session:
            locked = runtime.lock_task(session, task_id)
            taskindex.mark_completed(session, locked.task, None, clock.now(), sandbox=False)
            driver.send_deferred(session.connection())
    with db.read() as session:
        assert session.scalar(select(func.coalesce(func.sum(WorkTally.steps), 0))) == tallies


def test_a_case_revised_meanwhile_is_a_conflict_and_its_state_is_not_written(db, m):
    """`save` defers the state and the case row; the case row's revision check still refuses a save from a stale
    read, and the state sent before it in the same round trip is undone with the transaction."""
    from engine.work import runtime

    task_id = m.task_id("UserTask_classify")
    with db.read() as session:
        before = session.scalar(select(CaseState.state).where(CaseState.case_id == select(Case.id).where(
            Case.number == m.number).scalar_subquery()))
    with pytest.raises(Conflict, match="刚被他人更新"):
        with db.write() as session:
            locked = runtime.lock_task(session, task_id)
            locked.case.revision -= 1  # as read before another writer saved the case
            workflow = runtime.load_workflow(session, locked.case, locked.diagram)
            locked.case.title = "陈旧的读取"
            runtime.save(session, locked.case, locked.diagram, workflow, "leader", locked.open_steps)
            driver.send_deferred(session.connection())
    with db.read() as session:
        assert session.scalar(select(CaseState.state).where(CaseState.case_id == select(Case.id).where(
            Case.number == m.number).scalar_subquery())) == before
    assert m.waiting == ["UserTask_classify"]


def test_a_completion_is_seven_exchanges_with_the_database_besides_begin_and_commit(db, m, monkeypatch):
    """分类交办 as 即办件, the case's workflow read from the database: the lock with the step, its grants and the case's
    other open steps; the form's person choices (the holders where the route leads, one statement); the stored
    workflow; the new step's route with its unit's name, carrying the step's own writes with its tallies, the state
    and the case row (deferred); the new step's row with its roles (a role row finds its step's row by the step's
    uuid); the kept figures with the chain head; the events with the head moved. Each group is one round trip on
    PostgreSQL (`run_all`); it was 20 before they were grouped, 11 before the writes were deferred."""
    from sqlalchemy import event

    from engine.work import cases, runtime

    task_id = m.task_id("UserTask_classify")
    runtime.forget_all()
    m.view()  # the diagram parsed in this process
    exchanges: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: exchanges.append(args[2]))
    real_run_all = driver.run_all

    def counted(conn, steps):  # noqa: ANN001, ANN202
        steps = list(steps)
        exchanges.append(" || ".join(statement.sqlite for statement, _ in steps))
        return real_run_all(conn, steps)

    monkeypatch.setattr(driver, "run_all", counted)
    cases.complete_task(db, m.staff["leader"], task_id, {"kind": "即办件"})
    assert len(exchanges) <= 7, exchanges


def test_rows_read_by_name_position_and_mapping(db, m):
    with db.read() as session:
        result = driver.run(session.connection(), driver.Statement(
            "SELECT id, number, 1 + 1 FROM cases WHERE number = :n"), {"n": m.number})
        row = result.first()
        assert row.number == row[1] == row._mapping["number"] == m.number
        assert row[2] == 2 and result.all() == [row]
        assert driver.run(session.connection(), driver.Statement("SELECT id FROM cases WHERE id < 0")).first() is None
        with pytest.raises(LookupError):
            driver.run(session.connection(), driver.Statement("SELECT id FROM cases WHERE id < 0")).scalar_one()


def test_a_lost_postgresql_connection_is_invalidated_and_reported_as_sqlalchemys(pg_url):
    if pg_url is None:
        skip_without_pg()
    database = Database(pg_url)
    try:
        with database.engine.connect() as conn:
            pid = driver.run(conn, driver.Statement("SELECT pg_backend_pid()")).scalar_one()
            with database.engine.connect() as other:  # another pooled connection ends this one's backend
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as raised:
                driver.run(conn, driver.Statement("SELECT 1"))
            assert raised.value.connection_invalidated and conn.invalidated
            assert "SELECT 1" in str(raised.value)
        with database.read() as session:  # the pool hands out a working connection afterwards
            assert session.connection().exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        database.dispose()


def test_a_write_that_loses_its_connection_reports_the_loss_not_the_rollback_after_it(pg_url):
    """PostgreSQL restarted while a write was under way: the caller gets the driver's error, which says the
    database is unreachable (a 503 page), not the error of the rollback that followed on the lost connection."""
    if pg_url is None:
        skip_without_pg()
    database = Database(pg_url)
    try:
        with pytest.raises(DBAPIError) as raised, database.write() as session:
            pid = driver.run(session.connection(), driver.Statement("SELECT pg_backend_pid()")).scalar_one()
            with database.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            driver.run(session.connection(), driver.Statement("SELECT 1"))
        assert raised.value.connection_invalidated and is_unreachable(raised.value)
    finally:
        database.dispose()


def test_a_sqlite_writer_that_cannot_get_the_lock_gets_sqlalchemys_error(sqlite_db, tmp_path):
    """BEGIN IMMEDIATE runs on the driver; when the database stays locked its error is SQLAlchemy's."""
    @event.listens_for(sqlite_db.engine, "connect")
    def _short_wait(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    sqlite_db.engine.dispose()
    holder = sqlite3.connect(sqlite_db.url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OperationalError, match="BEGIN IMMEDIATE"):
            with sqlite_db.write() as session:
                session.connection()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with sqlite_db.write() as session:  # and once the lock is gone, writing works
        session.connection()
