"""固定式公开: the public procedures page is generated from the deployed diagrams and follows their changes."""
from __future__ import annotations

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.public import procedures_page
from engine.public.procedures_page import readable_limit
from tests.conftest import PROCESSES

SOURCE = (PROCESSES / "minqing_liushuixian.bpmn").read_bytes()


def steps_of(procedure) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    return {s.name: (stage.name, s.roles, s.time_limits) for stage in procedure.stages for s in stage.steps}


@pytest.mark.parametrize("text, shown", [
    ("P15D", "15 天"),
    ("${P1D}", "1 天"),
    ("PT2H", "2 小时"),
    ("P1W", "1 周"),
    ("P1DT12H", "1 天 12 小时"),
    ("${add_workdays(reply_date, 3)}", "自“批复日期”起 3 个工作日"),
    ("${add_workdays(reply_date, 3) if kind == '上报件' else None}", "上报件:自“批复日期”起 3 个工作日"),
    ("${add_days(received_at, 7)}", "自“受理日期”起 7 天"),
    ("${promised_date}", "按“承诺办结日期”"),
    ("${now() + something_odd}", "视具体事项而定"),
    ("${add_days(publicity_from, publicityDays)}", "自“公示开始日期”起 7 天"),  # a process property's number
    ("${add_days(publicity_from, unknown_days)}", "视具体事项而定"),
])
def test_time_limits_are_written_as_a_resident_reads_them(text, shown):
    labels = {"reply_date": "批复日期", "received_at": "受理日期", "promised_date": "承诺办结日期",
              "publicity_from": "公示开始日期"}
    assert readable_limit(text, labels, {"publicityDays": "7"}) == shown


def test_the_page_lists_stages_steps_roles_and_time_limits_of_the_民情流水线(db):
    deployments.deploy(db, SOURCE, "minqing_liushuixian.bpmn", SYSTEM)
    [procedure] = procedures_page.procedures(db)
    assert procedure.name == "民情流水线"
    assert [s.name for s in procedure.stages] == ["民情受理", "限期办理", "公示反馈", "跟踪监督"]
    steps = steps_of(procedure)
    assert steps["民情受理"] == ("民情受理", "受理员、居民", ())
    assert steps["分类交办"][:2] == ("限期办理", "社区负责人")
    assert steps["即办件办理"] == ("限期办理", "承办人", ("1 天",))
    assert steps["补齐材料登记"] == ("限期办理", "受理员、居民", ("补办期限届满:15 天",))
    assert steps["反馈答复"][:2] == ("公示反馈", "承办人")
    assert "上报件:自“批复日期”起 3 个工作日" in steps["反馈答复"][2]
    assert steps["一事一评"][:2] == ("跟踪监督", "居民、受理员")


def test_the_一征三议两公开_page_says_how_long_objections_are_taken_and_who_answers_them_after(db):
    deployments.deploy(db, (PROCESSES / "yizheng_sanyi.bpmn").read_bytes(), "yizheng_sanyi.bpmn", SYSTEM)
    [procedure] = procedures_page.procedures(db)
    steps = steps_of(procedure)
    assert steps["登记异议"] == ("两公开", "社区“两委”", ("公示期满:自“公示开始日期”起 7 天",))
    assert steps["审查期满前未审查的异议"][:2] == ("两公开", "社区“两委”")


def test_a_designers_change_shows_on_the_page_after_deployment(db):
    deployments.deploy(db, SOURCE, "minqing_liushuixian.bpmn", SYSTEM)
    text = SOURCE.decode()
    head, review, tail = text.partition('<bpmn:userTask id="UserTask_review" name="督办复核">')
    stage = '<camunda:property name="stage" value="跟踪监督" />'
    tail = tail.replace(stage, stage + '<camunda:property name="dueWorkingDays" value="5" />', 1)
    changed = (head + review + tail).replace('camunda:dueDate="P1D"', 'camunda:dueDate="PT4H"').replace(
        '<camunda:property name="caseNumberPrefix" value="MQ" />',
        '<camunda:property name="caseNumberPrefix" value="MQ" />'
        '<camunda:property name="publicDescription" value="居民反映的问题按四道工序办理。" />'
        '<camunda:property name="basis" value="《民情流水线工作制度》" />'
        '<camunda:property name="fees" value="不收费" />').encode()
    deployments.deploy(db, changed, "minqing_liushuixian.bpmn", SYSTEM)
    [procedure] = procedures_page.procedures(db)
    steps = steps_of(procedure)
    assert steps["即办件办理"][2] == ("4 小时",)
    assert steps["督办复核"][2] == ("5 个工作日",)
    assert procedure.details == (("说明", "居民反映的问题按四道工序办理。"), ("办理依据", "《民情流水线工作制度》"),
                                 ("收费标准", "不收费"))


def test_nothing_deployed_means_an_empty_page(db):
    assert procedures_page.procedures(db) == ()
