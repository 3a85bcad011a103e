"""工作日历: an administrator enters a year's 放假/调休 notice; it is kept in the database, audited,
and every open deadline and timer counted in working days that it changes is moved at once and
listed. Runs on SQLite and PostgreSQL.

The notice used here is made up for 2027 (the library does not know 2027 yet): 春节 2-5 … 2-12 off,
Sunday 2-14 and Saturday 2-20 worked. Without it, 2-11 and 2-12 are working days.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from engine.actor import SYSTEM
from engine.bpmn import calendar, deployments
from engine.clock import CHINA_TZ
from engine.errors import Forbidden, InvalidInput
from engine.people import notifications, users
from engine.store.models import Case
from engine.work import calendar_days, calendar_notices, casepages, cases, extensions, runtime, tasklist, timers
from tests.conftest import DATA, PASSWORD, PROCESSES, deploy_file
from tests.minqing import Matter

NOTICE = {"year": "2027", "days_off": "2027-01-01 元旦\n2027-02-05 至 2027-02-12 春节\n",
          "workdays": "2027-02-14 春节调休\n2027-02-20 春节调休"}


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ).astimezone(timezone.utc)


def local(moment: datetime) -> datetime:
    return moment.astimezone(CHINA_TZ).replace(tzinfo=None)


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.reload()
    yield
    calendar.reload()


@pytest.fixture
def admin(db):
    return users.create_user(db, "admin", PASSWORD, "管理员甲", ["管理员"])


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    frozen_clock.set(china(2026, 12, 28, 10, 0))
    return db


def test_a_上报件_answer_deadline_and_its_timer_move_when_the_notice_adds_days_off(line, staff, admin, frozen_clock):
    """3 working days after a reply on Wednesday 2-3 were 2-4, 2-11, 2-12; with the notice they are
    2-4, the 调休 Sunday 2-14 and 2-15. The step's deadline and the drawn timer both move."""
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="区住建局", report_content="需更换主管道")
    frozen_clock.set(china(2027, 2, 3, 10, 0))  # the reply comes that Wednesday (批复日期 may not lie ahead)
    m.do("UserTask_superior_reply", "superior", superior_decision="批准", reply="同意", reply_date="2027-02-03")
    feedback = [r for r in tasklist.tasks(line, staff["handler"], "inbox").items if r.step_id == "UserTask_feedback"][0]
    assert local(feedback.due_at) == datetime(2027, 2, 12, 23, 59, 59)

    entered = calendar_notices.enter_notice(line, admin, NOTICE)

    assert (entered.year, entered.days_off, entered.workdays) == (2027, 9, 2)
    assert sorted((x.kind, local(x.old), local(x.new)) for x in entered.moved) == [
        ("办理期限", datetime(2027, 2, 12, 23, 59, 59), datetime(2027, 2, 15, 23, 59, 59)),
        ("定时器", datetime(2027, 2, 12, 23, 59, 59), datetime(2027, 2, 15, 23, 59, 59))]
    assert {x.case_number for x in entered.moved} == {m.number}
    feedback = [r for r in tasklist.tasks(line, staff["handler"], "inbox").items if r.step_id == "UserTask_feedback"][0]
    assert local(feedback.due_at) == datetime(2027, 2, 15, 23, 59, 59)
    history = [e.kind for e in m.view().history]
    assert {"deadline_recomputed", "timer_recomputed"} <= set(history)
    frozen_clock.set(china(2027, 2, 13, 0, 0))
    assert timers.fire_due(line) == 0                      # the old moment no longer fires
    frozen_clock.set(china(2027, 2, 16, 0, 0))
    assert timers.fire_due(line) == 1
    assert "UserTask_supervise_answer" in m.waiting


def test_a_working_day_step_is_moved_and_reminded_at_nine_on_its_new_last_working_day(db, staff, admin, frozen_clock):
    deploy_file(db, DATA / "workday_deadline.bpmn")
    frozen_clock.set(china(2027, 2, 3, 10, 0))            # a Wednesday, before the notice came out
    cases.start_case(db, staff["clerk"], "workday_deadline", {"reply_date": "2027-02-03"})
    assert local(tasklist.tasks(db, staff["handler"], "queue").items[0].due_at) == datetime(2027, 2, 12, 23, 59, 59)
    calendar_notices.enter_notice(db, admin, NOTICE)
    assert local(tasklist.tasks(db, staff["handler"], "queue").items[0].due_at) == datetime(2027, 2, 15, 23, 59, 59)
    frozen_clock.set(china(2027, 2, 12, 9, 0))             # the old reminder time: now a holiday
    assert timers.sweep(db)["reminder"] == 0
    frozen_clock.set(china(2027, 2, 15, 9, 0))             # 09:00 of the new last working day
    assert timers.sweep(db)["reminder"] == 1


def test_the_notice_is_kept_in_the_database_and_used_by_every_process(db, admin):
    calendar_notices.enter_notice(db, admin, NOTICE)
    calendar.reload()                                      # another process: starts without it
    assert calendar.is_workday(date(2027, 2, 11))
    calendar_days.refresh(db)
    assert not calendar.is_workday(date(2027, 2, 11)) and calendar.is_workday(date(2027, 2, 14))
    assert calendar.coverage_warning(2027) is None
    page = calendar_notices.calendar_page(db, admin)
    assert [n.year for n in page.notices] == [2027]
    assert page.notices[0].entered_by == "管理员甲" and (date(2027, 2, 14), "春节调休") in page.notices[0].workdays


def test_a_corrected_notice_replaces_the_years_earlier_one_and_both_stay_in_the_history(db, admin):
    calendar_notices.enter_notice(db, admin, NOTICE)
    calendar_notices.enter_notice(db, admin, {**NOTICE, "workdays": "2027-02-14 春节调休"})
    assert not calendar.is_workday(date(2027, 2, 20))      # a Saturday again
    page = calendar_notices.calendar_page(db, admin)
    assert len(page.notices) == 1 and len(page.history) == 2
    assert page.notices[0].lines("days_off") == "2027-01-01 元旦\n2027-02-05 至 2027-02-12 春节"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"year": "27"}, "year", "四位数字"),
    ({"days_off": "2027-02-05 春节\n2027-02-30 春节"}, "days_off", "第 2 行"),
    ({"days_off": "春节 2027-02-05"}, "days_off", "应以日期开头"),
    ({"days_off": "2026-12-31 元旦"}, "days_off", "不在 2027 年内"),
    ({"days_off": ""}, "days_off", "至少填写一个"),
    ({"workdays": "2027-03-03"}, "workdays", "本来就是工作日"),
    ({"workdays": "2027-02-06"}, "workdays", "同时填在了放假日期中"),
])
def test_a_mistake_is_refused_next_to_its_field_and_nothing_is_kept(db, admin, change, field, words):
    with pytest.raises(InvalidInput) as refused:
        calendar_notices.enter_notice(db, admin, {**NOTICE, **change})
    assert words in refused.value.fields[field]
    assert calendar_notices.calendar_page(db, admin).history == ()


def test_only_an_administrator_keeps_the_calendar(db, staff):
    with pytest.raises(Forbidden):
        calendar_notices.enter_notice(db, staff["leader"], NOTICE)
    with pytest.raises(Forbidden):
        calendar_notices.calendar_page(db, staff["leader"])


def _extended(db, staff, task_id: int, until: str) -> None:
    """延期 granted on a step: its due date and the timer drawn on it move to `until`."""
    request_id = extensions.request_extension(db, staff["handler"], task_id, "需等待配件到货", until)
    extensions.decide_extension(db, staff["leader"], request_id, approve=True, note="同意")


def _revision(db, number: str) -> int:
    with db.read() as session:
        return session.scalar(select(Case.revision).where(Case.number == number))


def test_a_notice_meeting_several_cases_moves_only_the_timers_it_changes(line, staff, admin, frozen_clock):
    """The notice meets, in this order: a case with a deadline but no timer, one with a timer not counted in
    working days, a case of two working-day timers whose first was extended (延期), a 上报件 whose answer timer
    was extended, a 上报件 and a case (without a title) of two timers of which the notice changes the second
    only. Exactly the timers it changes move — an extended one stays, one on a day the notice leaves alone
    stays — and every case after the ones it passes over is still looked at. The workflows are read from the
    database (a web process that never held them), and a case whose timers all stay is not saved again."""
    deploy_file(line, DATA / "workday_deadline.bpmn")
    deploy_file(line, DATA / "timer_fails.bpmn")
    deploy_file(line, DATA / "two_workday_timers.bpmn")
    frozen_clock.set(china(2027, 2, 3, 10, 0))                 # Wednesday; the old calendar knows no 春节 yet
    no_timer = cases.start_case(line, staff["clerk"], "workday_deadline", {"reply_date": "2027-02-03"})
    not_workdays = cases.start_case(line, staff["clerk"], "timer_fails", {"title": "一小时"})
    first_extended = cases.start_case(line, staff["clerk"], "two_workday_timers",
                                      {"title": "楼道灯不亮", "reply_date": "2027-02-03"})
    _extended(line, staff, first_extended.new_tasks[0].id, "2027-02-10")
    answer_extended = reported(line, staff)
    _extended(line, staff, answer_extended.task_id("UserTask_feedback"), "2027-02-26")
    plain = reported(line, staff)
    second_only = cases.start_case(line, staff["clerk"], "two_workday_timers", {"reply_date": "2027-02-03"})
    kept = _revision(line, answer_extended.number)
    runtime.forget_all()

    entered = calendar_notices.enter_notice(line, admin, NOTICE)

    twelfth, fifteenth = datetime(2027, 2, 12, 23, 59, 59), datetime(2027, 2, 15, 23, 59, 59)
    assert sorted((x.case_number, x.case_title, x.what, local(x.old), local(x.new))
                  for x in entered.moved if x.kind == "定时器") == sorted([
        (first_extended.case_number, "楼道灯不亮", "三日未答复", twelfth, fifteenth),
        (plain.number, "3号楼暖气不热", "上报件答复期限届满", twelfth, fifteenth),
        (second_only.case_number, "", "三日未答复", twelfth, fifteenth)])                 # a case without a title
    listed = calendar_notices.calendar_page(line, admin).history[0].moved     # what the notice page lists
    assert sorted((x.case_number, x.case_title, x.what) for x in listed if x.kind == "定时器") == sorted([
        (first_extended.case_number, "楼道灯不亮", "三日未答复"), (plain.number, "3号楼暖气不热", "上报件答复期限届满"),
        (second_only.case_number, "", "三日未答复")])
    assert _revision(line, answer_extended.number) == kept
    assert not [e for e in answer_extended.view().history if e.kind == "timer_recomputed"]
    for number in (no_timer.case_number, not_workdays.case_number):
        assert not [e for e in casepages.get_case(line, staff["auditor"], number).history
                    if e.kind == "timer_recomputed"]
    [event] = [e for e in plain.view().history if e.kind == "timer_recomputed"]
    assert (event.actor, event.step_id, event.step_name, event.data) == (
        "admin", "BoundaryEvent_answer_overdue", "上报件答复期限届满",
        {"old": "2027-02-12T23:59:59+08:00", "new": "2027-02-15T23:59:59+08:00"})
    frozen_clock.set(china(2027, 2, 13, 0, 0))               # the old moment of the moved timers has passed
    assert timers.fire_due(line) == 3                          # the hour's, and the one-day timers of two cases
    assert "UserTask_supervise_answer" not in plain.waiting
    assert [s.step_id for s in casepages.get_case(line, staff["auditor"], second_only.case_number).open_steps] == [
        "Answer", "Remind"]


def test_the_worker_uses_a_notice_another_process_entered_just_before_its_sweep(db, admin, frozen_clock):
    """The worker reads the notices at the start of every sweep, however recently it last read them."""
    frozen_clock.set(china(2027, 1, 4, 10, 0))
    timers.sweep(db)                                       # the worker has just read the (empty) calendar
    calendar_notices.enter_notice(db, admin, NOTICE)       # in the web process …
    calendar.reload()                                      # … not this one
    assert calendar.is_workday(date(2027, 2, 11))
    timers.sweep(db)
    assert not calendar.is_workday(date(2027, 2, 11)) and calendar.is_workday(date(2027, 2, 14))


def reported(line, staff) -> Matter:
    """A 上报件 the superior answered on Wednesday 2027-02-03: its answer timer is due 3 working days on."""
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="区住建局", report_content="需更换主管道")
    m.do("UserTask_superior_reply", "superior", superior_decision="批准", reply="同意", reply_date="2027-02-03")
    return m


def test_timers_without_a_name_are_named_by_their_id(db, staff, admin, frozen_clock):
    """A diagram whose timers have no name: the notice lists the moved timer by its id, the fired timers are
    recorded with an empty name and named by their ids in the new steps' notices."""
    xml = (DATA / "two_workday_timers.bpmn").read_bytes()
    for name in ("一日未答复", "三日未答复"):
        xml = xml.replace(f' name="{name}"'.encode(), b"")
    deployments.deploy(db, xml, "two_workday_timers.bpmn", SYSTEM)
    frozen_clock.set(china(2027, 2, 3, 10, 0))
    started = cases.start_case(db, staff["clerk"], "two_workday_timers", {"title": "无名", "reply_date": "2027-02-03"})
    entered = calendar_notices.enter_notice(db, admin, NOTICE)
    assert [(x.what, x.kind) for x in entered.moved if x.kind == "定时器"] == [("Timer_three_days", "定时器")]
    frozen_clock.set(china(2027, 2, 16, 0, 0))
    assert timers.fire_due(db) == 1
    history = casepages.get_case(db, staff["auditor"], started.case_number).history
    assert [(e.step_id, e.step_name) for e in history if e.kind == "timer_fired"] == [
        ("Timer_one_day", ""), ("Timer_three_days", "")]
    assert [n.text for n in notifications.notifications_for(db, staff["supervisor"])] == [
        f"{started.case_number}(无名):Timer_one_day、Timer_three_days,新任务“答复督办”待办理。"]
