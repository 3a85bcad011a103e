"""The timer worker on several machines at once, and after a crash: every due case is fired
exactly once (counted by its `timer_fired` audit events). Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.store.models import AuditEvent, Case, HumanTask
from engine.work import casepages, runtime, timers
from engine.work import cases as case_api
from tests.conftest import DATA, PROCESSES, deploy_file
from tests.minqing import Matter

CASES = 12


@pytest.fixture
def waiting(db, staff, frozen_clock):
    """Cases waiting for missing documents (补办件); their period ends in 15 days."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    numbers = []
    for _ in range(CASES):
        m = Matter(db, staff)
        m.do("UserTask_classify", "leader", kind="补办件")
        m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
        numbers.append(m.number)
    frozen_clock.set(frozen_clock.value + timedelta(days=16))
    return numbers


def fired_per_case(db) -> dict[int, int]:
    with db.read() as session:
        rows = session.execute(select(AuditEvent.case_id, func.count()).where(AuditEvent.kind == "timer_fired")
                               .group_by(AuditEvent.case_id)).all()
        return dict(rows)


def case_ids(db) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(Case.id)))


def two_workers(db, sweep) -> None:
    """Run `sweep(barrier)` in two threads at once; together they fire every due case exactly once."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(sweep(barrier))
        except Exception as exc:  # noqa: BLE001 — reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(results) == CASES
    assert fired_per_case(db) == {case_id: 1 for case_id in case_ids(db)}


def test_two_workers_fire_every_due_case_exactly_once(db, waiting):
    assert len(timers.due_cases(db)) == CASES

    def sweep(barrier) -> int:
        due = timers.due_cases(db)  # both see the same due set
        barrier.wait()
        return sum(timers.fire_case(db, case_id) for case_id in due)

    two_workers(db, sweep)
    assert timers.due_cases(db) == []


def test_a_crash_mid_fire_loses_nothing_and_the_next_sweep_fires_once(db, waiting, monkeypatch):
    real_save = runtime.save
    crashed = []

    def save_then_crash(session, case, *args, **kwargs):
        created = real_save(session, case, *args, **kwargs)
        if not crashed:                  # the workflow advanced, the audit event is written: now crash
            crashed.append(case.id)
            raise RuntimeError("worker killed before commit")
        return created

    monkeypatch.setattr(runtime, "save", save_then_crash)
    with pytest.raises(RuntimeError):
        timers.fire_due(db)
    assert fired_per_case(db) == {}                       # nothing of the crashed case was committed
    assert crashed[0] in timers.due_cases(db)             # and it is still due
    assert timers.fire_due(db) == CASES
    assert fired_per_case(db) == {case_id: 1 for case_id in case_ids(db)}
    assert timers.fire_due(db) == 0


def test_the_worker_loop_survives_a_failed_sweep_and_stops_on_request(db, waiting, monkeypatch):
    calls = []
    real_sweep = timers.sweep

    def flaky(database):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        return real_sweep(database)

    monkeypatch.setattr(timers, "sweep", flaky)
    stop = threading.Event()
    thread = threading.Thread(target=timers.run_worker, args=(db,), kwargs={"interval": 0.01, "stop": stop})
    thread.start()
    for _ in range(500):
        if len(calls) >= 3:
            break
        threading.Event().wait(0.01)
    stop.set()
    thread.join(10)
    assert not thread.is_alive() and len(calls) >= 3
    assert fired_per_case(db) == {case_id: 1 for case_id in case_ids(db)}


def test_two_workers_sweeping_in_batches_fire_every_due_case_exactly_once(db, waiting):
    def sweep(barrier) -> int:
        barrier.wait()
        return timers.fire_due(db, batch=5)

    two_workers(db, sweep)


def test_a_crash_inside_a_batch_loses_the_whole_batch_and_nothing_else(db, waiting, monkeypatch):
    """Batches of 5: the first commits; the crash on the 8th case undoes the 6th and 7th too
    (already advanced in memory), and the next sweep fires each remaining case once."""
    real_save = runtime.save
    saved = []

    def crash_on_the_eighth(session, case, *args, **kwargs):
        saved.append(case.id)
        if len(saved) == 8:
            raise RuntimeError("worker killed before commit")
        return real_save(session, case, *args, **kwargs)

    monkeypatch.setattr(runtime, "save", crash_on_the_eighth)
    with pytest.raises(RuntimeError):
        timers.fire_due(db, batch=5)
    first_batch = saved[:5]
    assert fired_per_case(db) == {case_id: 1 for case_id in first_batch}
    assert set(saved[5:8]) <= set(timers.due_cases(db))
    assert timers.fire_due(db, batch=5) == CASES - 5
    assert fired_per_case(db) == {case_id: 1 for case_id in case_ids(db)}
    assert timers.fire_due(db) == 0


def test_a_crash_inside_a_batch_of_overdue_steps_leaves_them_to_the_next_sweep(db, staff, frozen_clock, monkeypatch):
    """承诺件 steps past their promised date, checked 3 per transaction: a crash on the 5th step
    keeps the first batch, undoes the second, and the next sweep marks each step overdue once."""
    from engine.work import deadlines

    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    for _ in range(7):
        Matter(db, staff).do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(frozen_clock.value + timedelta(days=4))
    real_overdue = deadlines._overdue
    checked = []

    def crash_on_the_fifth(session, case, row, *args):
        checked.append(row.id)
        if len(checked) == 5:
            raise RuntimeError("worker killed before commit")
        return real_overdue(session, case, row, *args)

    monkeypatch.setattr(deadlines, "_overdue", crash_on_the_fifth)
    with pytest.raises(RuntimeError):
        deadlines.sweep(db, batch=3)
    assert overdue_per_case(db) == {case_id: 1 for case_id in cases_of(db, checked[:3])}
    assert set(checked[3:5]) <= set(deadlines.due_checks(db))
    assert deadlines.sweep(db, batch=3) == {"reminder": 0, "overdue": 4}
    assert overdue_per_case(db) == {case_id: 1 for case_id in case_ids(db)}
    assert deadlines.sweep(db) == {"reminder": 0, "overdue": 0}


def overdue_per_case(db) -> dict[int, int]:
    with db.read() as session:
        return dict(session.execute(select(AuditEvent.case_id, func.count()).where(AuditEvent.kind == "overdue")
                                    .group_by(AuditEvent.case_id)).all())


def cases_of(db, task_ids: list[int]) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(HumanTask.case_id).where(HumanTask.id.in_(task_ids))))


def test_a_case_failing_on_its_data_does_not_hold_back_the_others(db, staff, frozen_clock):
    """A timer leading to a condition that fails on one case's data: that case is postponed with the
    reason in its trail; the other due cases of the same batch still fire."""
    deploy_file(db, DATA / "timer_fails.bpmn")
    good = [case_api.start_case(db, staff["clerk"], "timer_fails", {"title": f"好{i}"}) for i in range(2)]
    bad = case_api.start_case(db, staff["clerk"], "timer_fails", {"title": "bad"})
    frozen_clock.set(frozen_clock.value + timedelta(hours=2))
    assert timers.fire_due(db) == 2
    for result in good:
        assert casepages.get_case(db, staff["auditor"], result.case_number).status == "completed"
    view = casepages.get_case(db, staff["auditor"], bad.case_number)
    failed = [e for e in view.history if e.kind == "timer_failed"]
    assert view.status == "running" and len(failed) == 1 and "missing" in failed[0].data["message"]
    assert timers.fire_due(db) == 0  # postponed, not retried at once
    frozen_clock.set(frozen_clock.value + timedelta(hours=2))
    assert timers.fire_due(db) == 0
    assert len([e for e in casepages.get_case(db, staff["auditor"], bad.case_number).history
                if e.kind == "timer_failed"]) == 2


def test_a_postponed_timer_is_recorded_by_the_system_with_when_it_is_tried_again(db, staff, frozen_clock):
    deploy_file(db, DATA / "timer_fails.bpmn")
    bad = case_api.start_case(db, staff["clerk"], "timer_fails", {"title": "bad"})
    frozen_clock.set(frozen_clock.value + timedelta(hours=2))
    assert timers.fire_due(db) == 0
    [failed] = [e for e in casepages.get_case(db, staff["auditor"], bad.case_number).history
                if e.kind == "timer_failed"]
    retry_at = (frozen_clock.value + timers.RETRY_FAILED_AFTER).isoformat()
    assert (failed.actor, failed.data["retry_at"], sorted(failed.data)) == ("system", retry_at, ["message", "retry_at"])


def test_a_postponed_timer_is_logged_as_a_warning_naming_the_case_and_the_reason(db, staff, frozen_clock, caplog):
    deploy_file(db, DATA / "timer_fails.bpmn")
    bad = case_api.start_case(db, staff["clerk"], "timer_fails", {"title": "bad"})
    frozen_clock.set(frozen_clock.value + timedelta(hours=2))
    with caplog.at_level(logging.WARNING, logger="engine.work.timers"):
        assert timers.fire_due(db) == 0
    [failed] = [e for e in casepages.get_case(db, staff["auditor"], bad.case_number).history
                if e.kind == "timer_failed"]
    [record] = [r for r in caplog.records if r.name == "engine.work.timers"]
    assert (record.levelno, record.getMessage()) == (
        logging.WARNING, f"timer of case {bad.case_id} failed: {failed.data['message']}")
