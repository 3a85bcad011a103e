"""Every timer of 民情流水线 fires on time, with the clock moved by hand (no sleeping).

承诺件 promised date → 逾期督办; 补办件 waiting period → 逾期未补齐结案; 上报件 3 working days
after the superior's reply → 答复超期督办. Each runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.clock import CHINA_TZ
from engine.people import notifications
from engine.store.models import Case
from engine.work import casepages, cases, runtime, tasklist, timers
from tests.conftest import DATA, PROCESSES, deploy_file
from tests.minqing import Matter


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ).astimezone(timezone.utc)


def kinds_of(m: Matter) -> list[str]:
    return [e.kind for e in m.view().history]


def inbox_texts(db, actor) -> list[str]:
    return [n.text for n in notifications.notifications_for(db, actor)]


def test_承诺件_overdue_is_escalated(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(china(2026, 11, 25, 23, 59))
    assert timers.fire_due(line) == 0                          # not yet: the promised day is not over
    frozen_clock.set(china(2026, 11, 26, 0, 1))
    assert timers.fire_due(line) == 1
    assert timers.fire_due(line) == 0                          # fired once only
    assert sorted(m.waiting) == ["UserTask_handle_promised", "UserTask_supervise_overdue"]
    assert any("逾期督办" in t for t in inbox_texts(line, staff["supervisor"]))
    # the deadline sweep marks the step overdue, records it and tells the supervisor
    assert timers.sweep(line)["overdue"] == 1
    assert {"timer_fired", "overdue", "escalated"} <= set(kinds_of(m))
    row = tasklist.tasks(line, staff["handler"], "queue").items[0]
    assert row.step_id == "UserTask_handle_promised" and row.overdue
    assert any("已逾期" in t for t in inbox_texts(line, staff["supervisor"]))
    assert any("已超过办理期限" in t for t in inbox_texts(line, staff["handler2"]))


def test_承诺件_handler_is_reminded_at_the_start_of_the_promised_day(line, staff, frozen_clock):
    """A promised date is a whole day: the reminder (remindBefore P1D) comes at 09:00 of that
    day, not at midnight or the evening before."""
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-27")
    frozen_clock.set(china(2026, 11, 27, 8, 59))
    assert timers.sweep(line)["reminder"] == 0
    frozen_clock.set(china(2026, 11, 27, 9, 0))
    assert timers.sweep(line)["reminder"] == 1
    assert timers.sweep(line)["reminder"] == 0                # once
    assert kinds_of(m).count("reminder") == 1
    assert any("到期" in t for t in inbox_texts(line, staff["handler"]))
    assert not inbox_texts(line, staff["supervisor"])


def test_a_promised_date_on_a_holiday_is_reminded_on_the_last_working_day_before(line, staff, frozen_clock):
    frozen_clock.set(china(2026, 9, 28, 10, 0))
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-10-04")  # National Day
    frozen_clock.set(china(2026, 9, 30, 8, 59))
    assert timers.sweep(line)["reminder"] == 0
    frozen_clock.set(china(2026, 9, 30, 9, 0))                # 10-3 is a holiday too: 9-30 at 09:00
    assert timers.sweep(line)["reminder"] == 1
    assert "reminder" in kinds_of(m)


def test_补办件_waiting_period_closes_the_case_as_not_supplemented(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="补办件")
    m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
    frozen_clock.set(frozen_clock.value + timedelta(days=14, hours=23))
    assert timers.fire_due(line) == 0
    frozen_clock.set(frozen_clock.value + timedelta(hours=2))
    assert timers.fire_due(line) == 1
    assert m.waiting == ["UserTask_close_unsupplied"]
    assert any("逾期未补齐结案" in t for t in inbox_texts(line, staff["handler"]))
    m.do("UserTask_close_unsupplied", "handler", not_supplied_reason="逾期未补齐")
    assert m.data()["not_supplied_reason"] == "逾期未补齐"


def reported(line, staff, frozen_clock, reply_date: str) -> Matter:
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="区住建局", report_content="需更换主管道")
    m.do("UserTask_superior_reply", "superior", superior_decision="批准", reply="同意", reply_date=reply_date)
    return m


def test_上报件_answer_not_given_within_3_working_days_is_escalated(line, staff, frozen_clock):
    frozen_clock.set(china(2026, 9, 30, 10, 0))
    m = reported(line, staff, frozen_clock, "2026-09-30")
    assert m.waiting == ["UserTask_feedback"]
    frozen_clock.set(china(2026, 10, 10, 23, 0))              # the 3rd working day is the 调休 Saturday
    assert timers.fire_due(line) == 0
    frozen_clock.set(china(2026, 10, 11, 0, 0))
    assert timers.fire_due(line) == 1
    assert sorted(m.waiting) == ["UserTask_feedback", "UserTask_supervise_answer"]
    m.do("UserTask_supervise_answer", "supervisor", answer_supervision_note="请今日答复群众")
    m.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已答复", answered_at="2026-10-11")
    assert m.waiting == ["UserTask_rate"]


def test_上报件_answered_in_time_fires_nothing(line, staff, frozen_clock):
    frozen_clock.set(china(2026, 9, 30, 10, 0))
    m = reported(line, staff, frozen_clock, "2026-09-30")
    frozen_clock.set(china(2026, 10, 9, 10, 0))               # answered on the 2nd working day
    m.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已答复", answered_at="2026-10-09")
    frozen_clock.set(china(2026, 10, 20, 0, 0))
    assert timers.fire_due(line) == 0
    assert m.waiting == ["UserTask_rate"]


def test_other_kinds_have_no_answer_timer(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已处理")
    assert m.waiting == ["UserTask_feedback"]
    frozen_clock.set(frozen_clock.value + timedelta(days=400))
    assert timers.fire_due(line) == 0
    assert m.waiting == ["UserTask_feedback"]


def test_承诺件_overdue_escalation_names_the_case_the_timer_and_the_new_step(line, staff, frozen_clock):
    """The supervisor's notice links the case and the new step; the audit trail records the timer by id and
    name, fired by the system."""
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(china(2026, 11, 26, 0, 1))
    assert timers.fire_due(line) == 1
    [note] = [n for n in notifications.notifications_for(line, staff["supervisor"]) if n.kind == "escalation"]
    [step] = [s for s in m.view().open_steps if s.step_id == "UserTask_supervise_overdue"]
    assert (note.text, note.case_number, note.task_id) == (
        f"{m.number}(3号楼暖气不热):承诺时限到期,新任务“逾期督办”待办理。", m.number, step.task_id)
    [fired] = [e for e in m.view().history if e.kind == "timer_fired"]
    assert (fired.actor, fired.step_id, fired.step_name, fired.data) == (
        "system", "BoundaryEvent_promised_overdue", "承诺时限到期", {})


def test_one_case_fired_alone_leaves_another_due_case_for_the_next_sweep(line, staff, frozen_clock):
    first, second = Matter(line, staff), Matter(line, staff)
    for m in (first, second):
        m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(china(2026, 11, 26, 0, 1))
    with line.read() as session:
        first_id = session.scalar(select(Case.id).where(Case.number == first.number))
    assert len(timers.due_cases(line)) == 2
    assert timers.fire_case(line, first_id) is True
    assert "UserTask_supervise_overdue" in first.waiting and "UserTask_supervise_overdue" not in second.waiting
    assert timers.fire_due(line) == 1 and "UserTask_supervise_overdue" in second.waiting


def test_two_timers_of_one_case_due_together_fire_at_once_and_are_named_together(db, staff, frozen_clock):
    """A worker started afresh (nothing of the case in its memory) fires both timers of a case in one sweep;
    each is recorded, and each new step's people are told the names of both, joined by 、. A timer that fired
    in an earlier sweep is not counted again."""
    deploy_file(db, DATA / "two_workday_timers.bpmn")
    frozen_clock.set(china(2026, 11, 23, 10, 0))              # Monday: 一日 on Tuesday, 三日 on Thursday
    started = cases.start_case(db, staff["clerk"], "two_workday_timers", {"title": "楼道灯不亮",
                                                                           "reply_date": "2026-11-23"})
    frozen_clock.set(china(2026, 11, 27, 0, 0))
    runtime.forget_all()
    assert timers.fire_due(db) == 1
    number = started.case_number
    assert inbox_texts(db, staff["handler"]) == [
        f"{number}(楼道灯不亮):一日未答复、三日未答复,新任务“提醒答复”待办理。"]
    assert inbox_texts(db, staff["supervisor"]) == [
        f"{number}(楼道灯不亮):一日未答复、三日未答复,新任务“答复督办”待办理。"]
    history = casepages.get_case(db, staff["auditor"], number).history
    assert [(e.actor, e.step_id, e.step_name, e.data) for e in history if e.kind == "timer_fired"] == [
        ("system", "Timer_one_day", "一日未答复", {}), ("system", "Timer_three_days", "三日未答复", {})]
    open_steps = casepages.get_case(db, staff["auditor"], number).open_steps
    assert [s.step_id for s in open_steps] == ["Answer", "Remind", "Urge"]
    cases.complete_task(db, staff["handler"], open_steps[1].task_id, {})   # the fired workflow, as kept in memory
    assert [s.step_id for s in casepages.get_case(db, staff["auditor"], number).open_steps] == ["Answer", "Urge"]


def test_a_finished_case_left_with_a_timer_moment_is_cleared_not_fired(db, staff, frozen_clock):
    """A case that is no longer running but still has a `next_timer_at` (left behind) is taken as due once:
    the sweep clears the moment and fires nothing."""
    deploy_file(db, DATA / "timer_fails.bpmn")
    started = cases.start_case(db, staff["clerk"], "timer_fails", {"title": "办完"})
    cases.complete_task(db, staff["clerk"], started.new_tasks[0].id, {})
    with db.write() as session:
        case = session.get(Case, started.case_id)
        assert case.status == "completed"
        case.next_timer_at = frozen_clock.value - timedelta(minutes=1)
    assert timers.due_cases(db) == [started.case_id]
    assert timers.fire_due(db) == 0
    assert timers.due_cases(db) == []
    with db.read() as session:
        assert session.get(Case, started.case_id).next_timer_at is None


def test_a_timer_fired_in_an_earlier_sweep_is_not_named_or_recorded_again(db, staff, frozen_clock):
    deploy_file(db, DATA / "two_workday_timers.bpmn")
    frozen_clock.set(china(2026, 11, 23, 10, 0))
    started = cases.start_case(db, staff["clerk"], "two_workday_timers", {"title": "楼道灯不亮",
                                                                           "reply_date": "2026-11-23"})
    frozen_clock.set(china(2026, 11, 25, 0, 0))               # the one-day timer only
    assert timers.fire_due(db) == 1
    frozen_clock.set(china(2026, 11, 27, 0, 0))
    runtime.forget_all()
    assert timers.fire_due(db) == 1
    number = started.case_number
    assert inbox_texts(db, staff["supervisor"]) == [f"{number}(楼道灯不亮):三日未答复,新任务“答复督办”待办理。"]
    history = casepages.get_case(db, staff["auditor"], number).history
    assert [e.step_id for e in history if e.kind == "timer_fired"] == ["Timer_one_day", "Timer_three_days"]


def test_a_sweep_fires_due_cases_batch_by_batch_up_to_its_limit(line, staff, frozen_clock):
    """Four due cases, at most three in this sweep, one per transaction: three fired (each counted), the
    fourth left for the next sweep."""
    matters = [Matter(line, staff) for _ in range(4)]
    for m in matters:
        m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(china(2026, 11, 26, 0, 1))
    assert timers.fire_due(line, limit=3, batch=1) == 3
    assert sum("UserTask_supervise_overdue" in m.waiting for m in matters) == 3
    assert timers.fire_due(line, batch=2) == 1
    assert all("UserTask_supervise_overdue" in m.waiting for m in matters)
    assert timers.fire_due(line) == 0


def test_the_way_a_gateway_after_a_timer_went_is_recorded(db, staff, frozen_clock):
    deploy_file(db, DATA / "timer_fails.bpmn")
    started = cases.start_case(db, staff["clerk"], "timer_fails", {"title": "好"})
    frozen_clock.set(frozen_clock.value + timedelta(hours=2))
    assert timers.fire_due(db) == 1
    view = casepages.get_case(db, staff["auditor"], started.case_number)
    assert view.status == "completed"
    assert [(e.kind, e.step_id) for e in view.history if e.kind in ("timer_fired", "gateway_decided")] == [
        ("timer_fired", "Timer"), ("gateway_decided", "Gw")]
