"""ISO durations have one reader (engine/bpmn/durations.py): what validation accepts, what the engine runs
and what residents read on the procedures page (固定式公开) are the same durations, read the same way.

P1.5D is a day and a half everywhere (ISO 8601 allows a fraction on the last component); P1W2D is
refused at validation (weeks stand alone in ISO 8601 and the timer engine refuses them), so no page
promises a limit the engine would not keep.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from xml.sax.saxutils import quoteattr

import pytest

from engine.bpmn import deployments, diagram, durations
from engine.clock import CHINA_TZ
from engine.public import procedures_page
from engine.public.procedures_page import readable_limit
from engine.work import casepages, cases
from tests.conftest import DATA

APPROVAL = (DATA / "approval.bpmn").read_text(encoding="utf-8")
START = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA_TZ)


@pytest.mark.parametrize("text, length, shown", [
    ("P15D", timedelta(days=15), "15 天"),
    ("P1.5D", timedelta(hours=36), "1.5 天"),
    ("P1,5D", timedelta(hours=36), "1.5 天"),
    ("PT1.5H", timedelta(minutes=90), "1.5 小时"),
    ("P2W", timedelta(days=14), "2 周"),
    ("P1DT12H", timedelta(hours=36), "1 天 12 小时"),
    ("PT30M", timedelta(minutes=30), "30 分钟"),
])
def test_a_duration_is_read_once_for_its_length_and_its_words(text, length, shown):
    duration = durations.parse(text)
    assert duration.fixed() == length and duration.after(START) == START + length
    assert duration.readable() == shown == readable_limit(text, {})


@pytest.mark.parametrize("text", ["P1W2D", "P1.5DT2H", "P1D2H", "P", "PT", "p1d", "P1DP", "1D", "", "P-1D"])
def test_what_is_not_an_iso_duration_is_not_read_as_one(text):
    assert durations.parse(text) is None
    assert durations.due_moment(text, START) is None
    assert durations.lead_time(text) is None


@pytest.mark.parametrize("due, says", [
    ("P1W2D", "“P1W2D” 不是有效的 ISO 时长:周(W)不能与其他单位合用,例如把 P1W2D 写成 P9D"),
    ("P1.5DT2H", "“P1.5DT2H” 不是有效的 ISO 时长:小数只能用在最后一个单位上,例如把 P1.5DT2H 写成 P1DT14H"),
    ("P1D2H", "“P1D2H” 不是有效的 ISO 时长,例如 P3D(3 天)、P1.5D(1.5 天)、PT4H(4 小时)、P2W(2 周)"),
])
def test_a_duration_the_engine_would_refuse_or_misread_is_refused_at_validation(due, says):
    """SpiffWorkflow refuses P1W2D when the timer runs, and reads P1.5DT2H as two hours: both stop here."""
    [problem] = diagram.problems_of(with_due(due), "approval.bpmn")
    assert (problem.element_id, problem.line) == ("Review", 18)
    assert problem.message == f"办理期限(dueDate)无效: {says}"


def test_months_count_on_the_calendar_from_the_start():
    assert durations.parse("P1M").fixed() is None
    january_end = datetime(2027, 1, 31, tzinfo=CHINA_TZ)
    assert durations.parse("P1M").after(january_end) == january_end + timedelta(days=31)  # as the timer engine counts


def with_due(due: str) -> bytes:
    return APPROVAL.replace('camunda:dueDate="P2D"', f"camunda:dueDate={quoteattr(due)}").encode()


@pytest.mark.parametrize("due", ["P1.5D", '${"P1.5D"}'])
def test_a_day_and_a_half_is_the_deadline_set_and_the_limit_residents_read(db, staff, frozen_clock, due):
    deployments.deploy(db, with_due(due), "approval.bpmn", staff["clerk"])
    number = cases.start_case(db, staff["clerk"], "approval", {"title": "一天半"}).case_number
    [step] = casepages.get_case(db, staff["auditor"], number).open_steps
    assert step.due_at == frozen_clock() + timedelta(hours=36)
    [procedure] = procedures_page.procedures(db)
    assert {s.name: s.time_limits for stage in procedure.stages for s in stage.steps}["审核"] == ("1.5 天",)


@pytest.mark.parametrize("due", ["P1W2D", '${"P1W2D"}', "${'P1W2D'}"])
def test_weeks_with_days_are_refused_at_validation_with_the_way_to_write_it(due):
    [problem] = diagram.problems_of(with_due(due), "approval.bpmn")
    assert problem.element_id == "Review" and problem.line == 18
    assert problem.message == ("办理期限(dueDate)无效: “P1W2D” 不是有效的 ISO 时长:"
                               "周(W)不能与其他单位合用,例如把 P1W2D 写成 P9D")


def test_a_limit_the_engine_would_not_keep_is_not_promised_to_residents():
    """Whatever reaches the page (an older version, a value computed at run time), no limit is shown for it."""
    assert readable_limit('${"P1W2D"}', {}) == ""
    assert durations.due_moment("P1W2D", START) is None
    assert durations.due_moment("P1.5D", START) == START + timedelta(hours=36)
