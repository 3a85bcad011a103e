"""Deadlines of human steps: working-day deadlines from the diagram, reminders, overdue and
escalation, 延期申请 (approved and refused), 催办, and the in-app notification list."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram
from engine.clock import CHINA_TZ
from engine.errors import Conflict, DiagramInvalid, Forbidden, InvalidInput, NotFound
from engine.people import notifications
from engine.work import cases, extensions, tasklist, timers
from tests.conftest import DATA, PROCESSES, deploy_file
from tests.minqing import Matter


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ).astimezone(timezone.utc)


def local(moment: datetime) -> datetime:
    return moment.astimezone(CHINA_TZ).replace(tzinfo=None)


@pytest.fixture
def workday(db, staff, frozen_clock):
    deploy_file(db, DATA / "workday_deadline.bpmn")
    return db


def open_task(db, actor, step_id: str):
    rows = [r for r in tasklist.tasks(db, actor, "queue").items if r.step_id == step_id]
    assert rows, f"{step_id} not in the queue"
    return rows[0]


def events(db, staff, number: str) -> list[str]:
    from engine.work import casepages

    return [e.kind for e in casepages.get_case(db, staff["auditor"], number).history]


def test_working_day_deadline_counts_from_the_case_field_named_in_the_diagram(workday, staff, frozen_clock):
    frozen_clock.set(china(2026, 9, 29, 10, 0))
    cases.start_case(workday, staff["clerk"], "workday_deadline", {"title": "答复", "reply_date": "2026-09-30"})
    row = open_task(workday, staff["handler"], "Answer")
    assert local(row.due_at) == datetime(2026, 10, 10, 23, 59, 59)   # 10-8, 10-9, 10-10 (调休 Saturday)


def test_working_day_deadline_without_dueFrom_counts_from_when_the_step_became_ready(workday, staff, frozen_clock):
    frozen_clock.set(china(2026, 11, 27, 10, 0))                       # a Friday
    started = cases.start_case(workday, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-27"})
    cases.complete_task(workday, staff["handler"], started.new_tasks[0].id, {})
    row = open_task(workday, staff["handler"], "Check")
    assert local(row.due_at) == datetime(2026, 11, 30, 23, 59, 59)   # next working day: Monday
    frozen_clock.set(china(2026, 11, 30, 19, 59))                      # process remindBefore PT4H
    assert timers.sweep(workday)["reminder"] == 0
    frozen_clock.set(china(2026, 11, 30, 20, 0))
    assert timers.sweep(workday)["reminder"] == 1


def test_working_day_deadline_is_reminded_at_nine_on_its_last_working_day(workday, staff, frozen_clock):
    """remindBefore P1D on a working-day deadline: 09:00 of the due day, not 23:59:59 the evening before."""
    frozen_clock.set(china(2026, 11, 23, 10, 0))                       # a Monday; due Thursday 11-26
    cases.start_case(workday, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-23"})
    frozen_clock.set(china(2026, 11, 26, 8, 59))
    assert timers.sweep(workday)["reminder"] == 0
    frozen_clock.set(china(2026, 11, 26, 9, 0))
    assert timers.sweep(workday)["reminder"] == 1


@pytest.mark.parametrize(("due_day", "lead", "reminded"), [
    (date(2026, 11, 30), "P1D", datetime(2026, 11, 30, 9, 0)),         # Monday: that morning
    (date(2026, 11, 30), "P2D", datetime(2026, 11, 27, 9, 0)),         # the working day before: Friday, not Sunday
    (date(2026, 10, 4), "P1D", datetime(2026, 9, 30, 9, 0)),           # a National Day holiday: the last working day
    (date(2026, 10, 12), "PT4H", datetime(2026, 10, 12, 19, 59, 59)),  # hours are counted on the clock
])
def test_a_day_deadline_counts_whole_reminder_days_in_working_days_from_nine(due_day, lead, reminded):
    """Whole days of remindBefore before a deadline at the end of a day are working days, and the
    reminder comes at the start of work (09:00) — never on a day off."""
    from engine.work import deadlines

    due = deadlines.end_of_day(due_day)
    moment = deadlines.remind_moment(due, {"remindBefore": lead}, {}, china(2026, 9, 1, 0, 0))
    assert local(moment) == reminded


def test_overdue_step_is_escalated_to_the_role_the_diagram_names(workday, staff, frozen_clock):
    frozen_clock.set(china(2026, 11, 23, 10, 0))
    started = cases.start_case(workday, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-23"})
    frozen_clock.set(china(2026, 11, 27, 0, 0))                        # due 11-26 end of day
    assert timers.sweep(workday) == {"timers": 0, "reminder": 0, "overdue": 1, "sent": 0}
    assert timers.sweep(workday)["overdue"] == 0                       # recorded once
    assert {"overdue", "escalated"} <= set(events(workday, staff, started.case_number))
    supervisor = notifications.notifications_for(workday, staff["supervisor"])
    assert [n.kind for n in supervisor] == ["escalation"] and started.case_number in supervisor[0].text
    assert tasklist.tasks(workday, staff["handler"], "queue").items[0].overdue


def test_a_step_completed_in_time_is_neither_reminded_nor_overdue(workday, staff, frozen_clock):
    started = cases.start_case(workday, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-23"})
    cases.complete_task(workday, staff["handler"], started.new_tasks[0].id, {})
    frozen_clock.set(china(2026, 11, 27, 0, 0))
    done = timers.sweep(workday)
    assert done["overdue"] == 1                                        # only the next step, 回访
    assert "escalated" not in events(workday, staff, started.case_number)  # 回访 names no escalateTo


@pytest.mark.parametrize("prop, value, message", [
    ("dueWorkingDays", "三", "dueWorkingDays"),
    ("dueWorkingDays", "0", "dueWorkingDays"),
    ("remindBefore", "1 day", "remindBefore"),
])
def test_bad_deadline_properties_are_refused_at_validation(prop, value, message):
    xml = (DATA / "workday_deadline.bpmn").read_text(encoding="utf-8")
    xml = xml.replace('<camunda:property name="dueWorkingDays" value="1"/>',
                      f'<camunda:property name="{prop}" value="{value}"/>')
    with pytest.raises(DiagramInvalid) as err:
        diagram.inspect(xml.encode(), "bad.bpmn")
    assert any(message in p.message and p.element_id == "Check" for p in err.value.problems)


# --- 延期申请 and 催办 on 民情流水线 ------------------------------------------------------

@pytest.fixture
def promised(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    return m


def test_extension_approved_moves_the_due_date_and_the_drawn_timer(db, staff, promised, frozen_clock):
    task_id = promised.task_id("UserTask_handle_promised")
    request_id = extensions.request_extension(db, staff["handler"], task_id, "需等待配件到货", "2026-11-30")
    assert [n.kind for n in notifications.notifications_for(db, staff["leader"])] == ["extension"]
    extensions.decide_extension(db, staff["leader"], request_id, approve=True, note="同意")
    assert local(promised.view().open_steps[0].due_at) == datetime(2026, 11, 30, 23, 59, 59)
    frozen_clock.set(china(2026, 11, 26, 1, 0))
    assert timers.fire_due(db) == 0 and timers.sweep(db)["overdue"] == 0   # the old deadline is gone
    frozen_clock.set(china(2026, 12, 1, 0, 1))
    assert timers.fire_due(db) == 1
    assert "UserTask_supervise_overdue" in promised.waiting
    trail = [e for e in promised.view().history if e.kind.startswith("extension_")]
    assert [e.kind for e in trail] == ["extension_requested", "extension_approved"]
    assert trail[1].data["old_due"].startswith("2026-11-25") and trail[1].data["new_due"].startswith("2026-11-30")
    (view,) = extensions.of_task(db, staff["handler"], task_id)
    assert view.status == "approved" and view.old_due.astimezone(CHINA_TZ).date() == date(2026, 11, 25)


def test_extension_refused_keeps_the_deadline_and_both_dates_stay_in_the_trail(db, staff, promised, frozen_clock):
    task_id = promised.task_id("UserTask_handle_promised")
    request_id = extensions.request_extension(db, staff["handler"], task_id, "人手不足", "2026-12-05")
    with pytest.raises(InvalidInput) as err:
        extensions.decide_extension(db, staff["leader"], request_id, approve=False)
    assert err.value.fields == {"note": "请填写不批准的理由"}
    with pytest.raises(Forbidden):
        extensions.decide_extension(db, staff["supervisor"], request_id, approve=False, note="不行")
    extensions.decide_extension(db, staff["leader"], request_id, approve=False, note="请按承诺时限办结")
    with pytest.raises(Conflict):
        extensions.decide_extension(db, staff["leader"], request_id, approve=True)
    assert local(promised.view().open_steps[0].due_at) == datetime(2026, 11, 25, 23, 59, 59)
    refused = [e for e in promised.view().history if e.kind == "extension_refused"][0]
    assert refused.data["old_due"].startswith("2026-11-25") and refused.data["requested_due"].startswith("2026-12-05")
    assert any("未批准" in n.text for n in notifications.notifications_for(db, staff["handler"]))


def test_a_request_still_pending_when_its_step_ends_lapses_and_leaves_the_approvers_list(db, staff, promised):
    """The 承办人 asks for more time, then finishes the step anyway before the 负责人 decides: the request is
    shown as lapsed, no longer waits in the 负责人's list, and deciding it is refused. A request on a step
    that still waits stays in the list."""
    task_id = promised.task_id("UserTask_handle_promised")
    request_id = extensions.request_extension(db, staff["handler"], task_id, "需等待配件到货", "2026-11-30")
    assert [e.id for e in extensions.pending_for(db, staff["leader"])] == [request_id]
    promised.do("UserTask_handle_promised", "handler", handling_result="配件提前到货,已修复")
    assert extensions.pending_for(db, staff["leader"]) == ()
    (view,) = extensions.of_task(db, staff["handler"], task_id)
    assert (view.status, view.status_name) == ("lapsed", "已失效(步骤已结束)")
    with pytest.raises(Conflict):
        extensions.decide_extension(db, staff["leader"], request_id, approve=True)
    assert [e.kind for e in promised.view().history if e.kind.startswith("extension_")] == ["extension_requested"]


@pytest.mark.parametrize("reason, wanted, fields", [
    ("", "2026-11-30", {"reason"}),
    ("配件", "", {"requested_due"}),
    ("配件", "30/11/2026", {"requested_due"}),
    ("配件", "2026-11-24", {"requested_due"}),
])
def test_bad_extension_requests_name_the_field_and_change_nothing(db, staff, promised, reason, wanted, fields):
    task_id = promised.task_id("UserTask_handle_promised")
    with pytest.raises(InvalidInput) as err:
        extensions.request_extension(db, staff["handler"], task_id, reason, wanted)
    assert set(err.value.fields) == fields
    assert extensions.of_task(db, staff["handler"], task_id) == ()


def test_extension_must_be_asked_before_the_due_time(db, staff, promised, frozen_clock):
    task_id = promised.task_id("UserTask_handle_promised")
    frozen_clock.set(china(2026, 11, 26, 9, 0))
    with pytest.raises(Conflict):
        extensions.request_extension(db, staff["handler"], task_id, "来不及", "2026-11-30")
    with pytest.raises(Forbidden):
        extensions.request_extension(db, staff["clerk"], task_id, "来不及", "2026-11-30")


def test_urging_tells_the_handlers_and_is_recorded(db, staff, promised):
    task_id = promised.task_id("UserTask_handle_promised")
    assert extensions.urge(db, staff["leader"], task_id, "今天务必联系居民") == 2   # both 承办人
    assert "urged" in [e.kind for e in promised.view().history]
    assert [n.kind for n in notifications.notifications_for(db, staff["handler"])] == ["urge"]
    with pytest.raises(Forbidden):
        extensions.urge(db, staff["handler"], task_id)


def test_notifications_are_read_by_their_owner_only(db, staff, promised):
    task_id = promised.task_id("UserTask_handle_promised")
    extensions.urge(db, staff["leader"], task_id)
    assert notifications.unread_count(db, staff["handler"]) == 1
    (note,) = notifications.notifications_for(db, staff["handler"])
    with pytest.raises(NotFound):
        notifications.mark_read(db, staff["handler2"], note.id)
    assert notifications.mark_read(db, staff["handler"], note.id) == 1
    assert notifications.unread_count(db, staff["handler"]) == 0
    assert notifications.unread_count(db, staff["handler2"]) == 1
    assert notifications.mark_read(db, staff["handler2"]) == 1
