"""Readiness and the figures behind the metrics (engine.work.vitals), on both databases."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.people import outbox
from engine.store import migrate
from engine.store.db import Database
from engine.store.models import Case, OutboxMessage, WorkerHeartbeat
from engine.work import cases, heartbeat, timers, vitals
from tests.conftest import DATA, deploy_file


def checks(readiness: vitals.Readiness) -> dict[str, bool]:
    return {check.name: check.ok for check in readiness.checks}


def test_ready_when_the_schema_is_current_and_a_worker_beat_lately(db, frozen_clock):
    """A worker sweeping every 30 s is alive until it misses three sweeps (plus a minute's grace)."""
    heartbeat.beat(db, "host-a:1", 30.0, frozen_clock())
    assert checks(vitals.readiness(db)) == {"database": True, "migrations": True, "worker": True}
    frozen_clock.set(frozen_clock() + timedelta(seconds=149))
    assert vitals.readiness(db).ok
    frozen_clock.set(frozen_clock() + timedelta(seconds=2))
    late = vitals.readiness(db)
    assert not late.ok and checks(late)["worker"] is False
    assert "host-a:1" in late.checks[-1].detail and "没有心跳" in late.checks[-1].detail


def test_not_ready_without_any_worker_unless_the_worker_is_not_checked(db):
    none = vitals.readiness(db)
    assert checks(none) == {"database": True, "migrations": True, "worker": False}
    assert "minyi worker" in none.checks[-1].detail
    assert vitals.readiness(db, check_worker=False).ok


def test_one_live_worker_among_dead_ones_is_enough(db, frozen_clock):
    heartbeat.beat(db, "old:1", 30.0, frozen_clock())
    frozen_clock.set(frozen_clock() + timedelta(hours=1))
    heartbeat.beat(db, "new:2", 30.0, frozen_clock())
    assert vitals.readiness(db).ok


def test_a_schema_behind_the_code_is_not_ready_and_names_the_command(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(database, "4d8e2a6b9c17")
    found = vitals.readiness(database, check_worker=False)
    database.dispose()
    assert checks(found) == {"database": True, "migrations": False}
    assert "minyi db upgrade" in found.checks[1].detail


def test_an_unreachable_database_is_not_ready_and_nothing_raises():
    found = vitals.readiness(Database("postgresql://postgres@127.0.0.1:9/none?connect_timeout=2"))
    assert checks(found) == {"database": False, "migrations": False, "worker": False}
    assert found.checks[0].detail == "数据库无法连接"


def test_the_worker_beats_before_each_sweep(db, frozen_clock):
    timers.run_worker(db, interval=5.0, once=True)
    state = heartbeat.liveliest(db)
    assert state is not None and state.worker == heartbeat.worker_name() and state.age == timedelta(0)


def test_figures_count_due_timers_their_lag_and_the_outbox(db, staff, frozen_clock):
    """Timer lag is how long the most overdue timer has waited; the backlog leaves out sent and given-up messages."""
    deploy_file(db, DATA / "approval.bpmn")
    now = frozen_clock()
    started = [cases.start_case(db, staff["clerk"], "approval", {"title": f"路灯 {n}", "amount": "3"}).case_id
               for n in range(3)]
    with db.write() as session:
        for case_id, due in zip(started, (now - timedelta(seconds=90), now - timedelta(seconds=5),
                                          now + timedelta(hours=1)), strict=True):
            session.get(Case, case_id).next_timer_at = due
        session.add_all([
            OutboxMessage(channel="webhook", payload={}, created_at=now, attempts=0),
            OutboxMessage(channel="webhook", payload={}, created_at=now, attempts=outbox.MAX_ATTEMPTS),
            OutboxMessage(channel="webhook", payload={}, created_at=now, attempts=1, sent_at=now),
        ])
    found = vitals.figures(db)
    assert (found.timers_due, found.timer_lag_seconds) == (2, 90.0)
    assert (found.outbox_pending, found.outbox_failed, found.worker_heartbeat_age_seconds) == (1, 1, None)


def test_figures_with_nothing_due(db):
    found = vitals.figures(db)
    assert (found.timers_due, found.timer_lag_seconds, found.outbox_pending, found.outbox_failed) == (0, 0.0, 0, 0)


def test_the_worker_sweeps_every_30_seconds_unless_told_otherwise(db, frozen_clock):
    timers.run_worker(db, once=True)
    with db.read() as session:
        assert session.scalars(select(WorkerHeartbeat.interval_seconds)).all() == [30.0]


def test_a_sweep_that_did_something_is_logged_and_an_idle_one_is_not(db, staff, frozen_clock, caplog):
    deploy_file(db, DATA / "timer_fails.bpmn")
    cases.start_case(db, staff["clerk"], "timer_fails", {"title": "一小时"})
    with caplog.at_level(logging.INFO, logger="engine.work.timers"):
        timers.run_worker(db, interval=5.0, once=True)
        assert not [r for r in caplog.records if r.name == "engine.work.timers"]
        frozen_clock.set(frozen_clock() + timedelta(hours=2))
        timers.run_worker(db, interval=5.0, once=True)
    [record] = [r for r in caplog.records if r.name == "engine.work.timers"]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("worker sweep: {'timers': 1, ")


def test_a_failed_sweep_is_logged_with_its_error_and_the_retry_interval(db, caplog, monkeypatch):
    def failing(database):
        raise RuntimeError("database restarting")

    monkeypatch.setattr(timers, "sweep", failing)
    with caplog.at_level(logging.INFO, logger="engine.work.timers"), pytest.raises(RuntimeError):
        timers.run_worker(db, interval=5.0, once=True)
    [record] = [r for r in caplog.records if r.name == "engine.work.timers"]
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "worker sweep failed; retrying in 5.0 s")
    assert record.exc_info is not None and str(record.exc_info[1]) == "database restarting"
