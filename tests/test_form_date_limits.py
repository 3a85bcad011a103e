"""Date limits a designer sets on a date field (`min` / `max`): `today`, `today±N`, a date, or another
date field. Issue #17: a 承诺办结日期 in 2020 or a 批复日期 seven months ahead was taken at face value."""
from __future__ import annotations

from datetime import date

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram, forms
from engine.errors import InvalidInput
from tests.conftest import PROCESSES
from tests.minqing import Matter
from tests.tiny_diagrams import BPMN, CAMUNDA


@pytest.fixture
def line(db, staff, frozen_clock):
    """The deployed 民情流水线; today is 2026-11-23 in China."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def _field(**limits: str) -> forms.FormField:
    return forms.FormField("d", "批复日期", "date", date_min=limits.get("low"), date_max=limits.get("high"))


@pytest.mark.parametrize("value, low, high, says", [
    ("2026-11-22", "today", None, "不能早于今天(2026-11-23)"),
    ("2026-11-24", None, "today", "不能晚于今天(2026-11-23)"),
    ("2027-01-01", None, "today+30", "不能晚于今天之后 30 天(2026-12-23)"),
    ("2026-01-01", "2026-06-01", None, "不能早于2026-06-01"),
    ("2026-10-23", "today-30", None, "不能早于今天之前 30 天(2026-10-24)"),
    ("2026-11-24", "today - 1", "today + 0", "不能晚于今天(2026-11-23)"),
    ("2026-11-25", None, "today+1", "不能晚于今天之后 1 天(2026-11-24)"),
    ("2026-11-21", "today-1", None, "不能早于今天之前 1 天(2026-11-22)"),
])
def test_a_date_outside_its_limits_is_refused_saying_the_limit(value, low, high, says):
    errors = forms.date_limit_errors((_field(low=low, high=high),), {"d": value}, {}, date(2026, 11, 23))
    assert errors == {"d": says}


def test_a_date_on_its_limit_is_accepted():
    f = _field(low="today", high="today")
    assert forms.date_limit_errors((f,), {"d": "2026-11-23"}, {}, date(2026, 11, 23)) == {}


def test_a_limit_naming_another_field_says_that_fields_label_and_value():
    f = forms.with_limit_labels((_field(low="received_at"),), {"received_at": "受理日期"})
    errors = forms.date_limit_errors(f, {"d": "2026-11-01"}, {"received_at": "2026-11-20"}, date(2026, 11, 23))
    assert errors == {"d": "不能早于“受理日期”(2026-11-20)"}


def test_a_limit_naming_a_field_without_a_known_label_says_its_id():
    errors = forms.date_limit_errors((_field(low="received_at"),), {"d": "2026-11-01"}, {"received_at": "2026-11-20"},
                                     date(2026, 11, 23))
    assert errors == {"d": "不能早于“received_at”(2026-11-20)"}


def test_a_limit_naming_another_field_reads_its_value_as_submitted_else_as_the_case_holds_it():
    """A value sent in the same form counts over the case's; one sent empty does not erase the case's."""
    start = forms.FormField("start", "开始日期", "date")
    end = _field(low="start")
    today = date(2026, 11, 23)
    assert forms.date_limit_errors((start, end), {"start": "2026-11-15", "d": "2026-11-10"}, {"start": "2026-11-01"},
                                   today) == {"d": "不能早于“开始日期”(2026-11-15)"}
    assert forms.date_limit_errors((start, end), {"start": None, "d": "2026-11-10"}, {"start": "2026-11-12"},
                                   today) == {"d": "不能早于“开始日期”(2026-11-12)"}
    assert forms.date_limit_errors((start, end), {"start": "2026-11-01", "d": "2026-11-10"}, {"start": "2026-11-15"},
                                   today) == {}


def test_a_latest_date_naming_another_field_says_that_fields_label_and_value():
    """开始日期 not after 结束日期: a max rule names a field like a min rule does, and only when passed."""
    start = forms.FormField("start", "开始日期", "date", date_max="end")
    end = forms.FormField("end", "结束日期", "date")
    today = date(2026, 11, 23)
    assert forms.date_limit_errors((start, end), {"start": "2026-11-21"}, {"end": "2026-11-20"}, today) == {
        "start": "不能晚于“结束日期”(2026-11-20)"}
    assert forms.date_limit_errors((start, end), {"start": "2026-11-20"}, {"end": "2026-11-20"}, today) == {}


def test_a_limit_naming_a_field_that_holds_a_time_too_is_that_fields_day():
    """A value written with its time of day (2026-11-20T16:30) limits by its date, the time dropped."""
    for held in ("2026-11-20T16:30:00+08:00", "2026-11-20 16:30"):
        errors = forms.date_limit_errors((_field(low="received_at"),), {"d": "2026-11-19"}, {"received_at": held},
                                         date(2026, 11, 23))
        assert errors == {"d": "不能早于“received_at”(2026-11-20)"}
        assert forms.date_limit_errors((_field(low="received_at"),), {"d": "2026-11-20"}, {"received_at": held},
                                       date(2026, 11, 23)) == {}


def test_a_limit_naming_an_empty_field_limits_nothing():
    assert forms.date_limit_errors((_field(low="received_at"),), {"d": "2000-01-01"}, {}, date(2026, 11, 23)) == {}


def test_the_page_gets_the_limits_known_now_as_dates_for_the_date_picker():
    own = forms.FormField("start", "开始", "date")
    f = forms.FormField("end", "结束", "date", date_min="received_at", date_max="today")
    mine = forms.FormField("later", "之后", "date", date_min="start")
    shown = forms.resolve_dates((own, f, mine), {"received_at": "2026-11-20"}, date(2026, 11, 23))
    assert (shown[1].html_min, shown[1].html_max) == ("2026-11-20", "2026-11-23")
    assert shown[2].html_min is None, "a field of the same form may still change: checked on submit only"


def test_a_promised_date_in_the_past_is_refused_next_to_the_field_and_nothing_is_saved(line, staff):
    m = Matter(line, staff)
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2020-01-01")
    assert err.value.fields == {"promised_date": "不能早于今天(2026-11-23)"}
    assert m.waiting == ["UserTask_classify"]


def test_a_superior_reply_dated_ahead_or_before_the_matter_is_refused(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="区住建局", report_content="更换主管道")
    reply = {"superior_decision": "批准", "reply": "同意"}
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_superior_reply", "superior", **reply, reply_date="2027-06-23")
    assert err.value.fields == {"reply_date": "不能晚于今天(2026-11-23)"}
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_superior_reply", "superior", **reply, reply_date="2026-11-01")
    assert err.value.fields == {"reply_date": "不能早于“受理日期”(2026-11-23)"}
    m.do("UserTask_superior_reply", "superior", **reply, reply_date="2026-11-23")
    assert m.waiting == ["UserTask_feedback"]


def test_an_intake_dated_in_the_future_is_refused(line, staff):
    with pytest.raises(InvalidInput) as err:
        Matter(line, staff, received_at="2026-12-01")
    assert err.value.fields == {"received_at": "不能晚于今天(2026-11-23)"}


def _with_limit(config: str, *, on: str = "due", extra: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="p" name="p" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="received" label="收到日期" type="date"/>
      <camunda:formField id="count" label="数量" type="long"/>{extra}</camunda:formData></bpmn:extensionElements>
      <bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="U" name="办理" camunda:candidateGroups="受理员"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="{on}" label="办结日期" type="date"><camunda:validation>
        <camunda:constraint name="min" config="{config}"/></camunda:validation></camunda:formField>
      </camunda:formData></bpmn:extensionElements><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="U"/>
    <bpmn:sequenceFlow id="F2" sourceRef="U" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.mark.parametrize("config", ["today", "today+7", "today-30", "2026-01-01", "received"])
def test_a_designer_may_limit_a_date_by_today_a_date_or_another_date_field(config):
    assert diagram.problems_of(_with_limit(config), "t.bpmn") == []


@pytest.mark.parametrize("config, says", [
    ("recieved", "日期字段 “due” 的 min/max 引用了流程图中没有的字段 “recieved”"),
    ("count", "日期字段 “due” 的 min/max 引用的字段 “count” 不是日期字段"),
    ("tomorrow()", "“tomorrow()” 无法识别;请写 today、today+天数、today-天数、日期(如 2026-01-01)"
                   "或另一个日期字段的 id"),
    ("", "表单字段 “due” 的校验规则 min:“” 无法识别;请写 today、today+天数、today-天数、日期(如 2026-01-01)"
         "或另一个日期字段的 id"),  # a rule left empty is no field's id
    ("2026-02-30", "不是有效的日期"),
    ("2026/01/01" * 5, f"“{'2026/01/01' * 4}” 无法识别"),  # a long rule is shown by its first 40 characters
])
def test_a_date_limit_that_cannot_be_read_is_refused_at_validation_naming_the_step(config, says):
    found = diagram.problems_of(_with_limit(config), "t.bpmn")
    assert len(found) == 1 and found[0].element_id == "U" and says in found[0].message and found[0].line, found
