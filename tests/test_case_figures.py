"""Each case keeps its 考核 figures on its own row (engine/store/casefigures.py): steps due, done on time and done
late, 退单, escalations, and once it is completed its start → 办结 time (统计's handling time). A ranking of a
whole year reads them instead of every step and event, so they must follow the case through the engine's every
path, in the same transaction. (Every test of the suite also ends with `casefigures.drift` empty: see
`tests/conftest.py`.) On SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.clock import CHINA_TZ
from engine.errors import InvalidInput
from engine.store import casefigures, migrate, worktallies
from engine.store.models import Case
from engine.work import runtime, timers
from tests.conftest import PROCESSES, refresh_kept
from tests.minqing import Matter

BEFORE_FIGURES = "7c2e9a4d1b63"  # migration 0014
NOTHING_KEPT = {**dict.fromkeys(casefigures.COLUMNS, 0), "handling_seconds": None}


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ).astimezone(timezone.utc)


def kept(db, number: str) -> dict[str, int | float | None]:
    with db.read() as session:
        row = session.execute(select(*(getattr(Case, c) for c in casefigures.COLUMNS))
                              .where(Case.number == number)).one()
    return dict(zip(casefigures.COLUMNS, row, strict=True))


def late_and_escalated(line, staff, frozen_clock) -> Matter:
    """A 承诺件 promised for 25 November, escalated when the day has passed, then handled on the 27th."""
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(china(2026, 11, 26, 0, 1))
    assert timers.fire_due(line) == 1
    assert timers.sweep(line)["overdue"] == 1  # marks the 承办 step overdue and escalates it
    frozen_clock.set(china(2026, 11, 27, 10, 0))
    m.do("UserTask_handle_promised", "handler", handling_result="已修复")
    return m


def answered_and_rated(line, staff, frozen_clock) -> Matter:
    """A 即办件 started on 23 November at 09:00 and rated, which completes it, on the 24th at 15:30."""
    frozen_clock.set(china(2026, 11, 23, 9, 0))
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已办")
    m.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已处理", answered_at="2026-11-23")
    frozen_clock.set(china(2026, 11, 24, 15, 30))
    m.do("UserTask_rate", "clerk", rating="满意")
    assert m.view().status == "completed"
    return m


def test_a_new_case_keeps_nothing_yet(line, staff):
    m = Matter(line, staff)
    assert kept(line, m.number) == NOTHING_KEPT


def test_a_case_keeps_no_handling_time_until_it_is_completed_then_its_start_to_办结_time(line, staff, frozen_clock):
    frozen_clock.set(china(2026, 11, 23, 9, 0))
    running = Matter(line, staff)
    running.do("UserTask_classify", "leader", kind="即办件")
    assert kept(line, running.number)["handling_seconds"] is None
    done = answered_and_rated(line, staff, frozen_clock)
    assert kept(line, done.number)["handling_seconds"] == pytest.approx(30.5 * 3600, abs=0.01)
    assert kept(line, running.number)["handling_seconds"] is None


def test_a_step_done_by_its_due_time_is_kept_as_due_and_on_time(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-30")
    m.do("UserTask_handle_promised", "handler", handling_result="已修复")
    figures = kept(line, m.number)
    assert (figures["due_steps"], figures["on_time_steps"], figures["late_steps"]) == (1, 1, 0)


def test_a_step_done_after_its_due_time_and_its_escalation_are_kept(line, staff, frozen_clock):
    m = late_and_escalated(line, staff, frozen_clock)
    assert kept(line, m.number) == {"due_steps": 1, "on_time_steps": 0, "late_steps": 1, "returns": 0,
                                    "escalations": 1, "handling_seconds": None}


def test_a_returned_step_is_one_退单_and_a_step_not_returned_is_none(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", return_to_leader="true", return_reason="需上级审批,非即办")
    assert kept(line, m.number)["returns"] == 1
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", return_to_leader="false", handling_result="已处理")
    assert kept(line, m.number)["returns"] == 1


def test_a_refused_completion_changes_no_figure(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    before = kept(line, m.number)
    with pytest.raises(InvalidInput):
        m.do("UserTask_handle_immediate", "handler", return_to_leader="true")  # no reason given
    assert kept(line, m.number) == before


def test_rows_written_behind_the_engine_show_as_drift_until_refreshed(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-30")
    with line.write() as session:  # a bulk load's kind of write: no audit event, so no refresh
        session.execute(text("UPDATE human_tasks SET status = 'COMPLETED', completed_at = due_at "
                             "WHERE step_id = 'UserTask_handle_promised'"))
    with line.read() as session:
        assert casefigures.drift(session.connection()) == [(m.number, "due_steps", 0, 1),
                                                          (m.number, "on_time_steps", 0, 1)]
        [(key, kept_tally, actual)] = worktallies.drift(session.connection())
        assert key[3] == "UserTask_handle_promised" and (kept_tally, actual) == ((0, 0, 0), (1, 1, 1))
    with line.write() as session:
        refresh_kept(session.connection())
    with line.read() as session:
        assert casefigures.drift(session.connection()) == [] and worktallies.drift(session.connection()) == []
    assert kept(line, m.number)["on_time_steps"] == 1


def test_the_migrations_fill_the_figures_of_existing_cases(line, staff, frozen_clock):
    done = answered_and_rated(line, staff, frozen_clock)
    late = late_and_escalated(line, staff, frozen_clock)
    returned = Matter(line, staff)
    returned.do("UserTask_classify", "leader", kind="即办件")
    returned.do("UserTask_handle_immediate", "handler", return_to_leader="true", return_reason="非即办")
    cases = (done, late, returned)
    before = {m.number: kept(line, m.number) for m in cases}
    assert before[late.number]["late_steps"] == 1 and before[returned.number]["returns"] == 1
    assert before[done.number]["handling_seconds"] == pytest.approx(30.5 * 3600, abs=0.01)
    migrate.downgrade(line, BEFORE_FIGURES)
    try:
        with line.engine.connect() as conn:
            assert not {"due_steps", "handling_seconds"} & {c["name"] for c in conn.dialect.get_columns(conn, "cases")}
    finally:
        migrate.upgrade(line)
    runtime.forget_all()
    assert {m.number: kept(line, m.number) for m in cases} == before
