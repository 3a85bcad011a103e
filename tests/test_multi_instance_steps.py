"""Multi-instance user tasks (多实例步骤): one step done several times, by count or item by item,
at the same time or one after another. Each instance is a task of its own in the step's lane:
listed, claimed, completed and audited on its own, and the case goes on when all are done."""
from __future__ import annotations

import pytest

from engine.bpmn.spiff import StepFailed
from engine.errors import Forbidden
from engine.work import casepages, cases, tasklist
from tests.conftest import DATA, deploy_file


@pytest.fixture
def multi(db, staff):
    deploy_file(db, DATA / "multi_instance.bpmn")
    return db


def _start(db, staff, **values):
    return cases.start_case(db, staff["clerk"], "multi", {"title": "小区加装电梯", **values})


def test_a_step_with_a_count_gives_that_many_tasks_in_its_lane(multi, staff):
    result = _start(multi, staff, mode="并行", count="3")
    assert [t.step_name for t in result.new_tasks] == ["提出意见"] * 3
    queue = tasklist.tasks(multi, staff["handler"], "queue")
    assert queue.total == 3 and {r.step_id for r in queue.items} == {"Ask_parallel"}
    assert {r.roles for r in queue.items} == {("承办人",)}
    assert tasklist.tasks(multi, staff["leader"], "queue").total == 0


def test_each_instance_is_claimed_and_completed_by_its_own_person(multi, staff):
    result = _start(multi, staff, mode="并行", count="2")
    first, second = (t.id for t in result.new_tasks)
    cases.claim(multi, staff["handler"], first)
    cases.claim(multi, staff["handler2"], second)
    with pytest.raises(Forbidden):
        cases.complete_task(multi, staff["leader"], first, {"opinion": "同意"})
    page = tasklist.get_task(multi, staff["handler"], first)
    assert page.step_id == "Ask_parallel" and page.roles == ("承办人",)
    assert cases.complete_task(multi, staff["handler"], first, {"opinion": "同意"}).case_status == "running"
    done = cases.complete_task(multi, staff["handler2"], second, {"opinion": "要听听一楼住户的意见"})
    assert done.case_status == "completed"
    view = casepages.get_case(multi, staff["auditor"], result.case_number)
    completed = [e for e in view.history if e.kind == "task_completed"]
    assert [(e.step_id, e.data["values"]["opinion"]) for e in completed] == [
        ("Ask_parallel", "同意"), ("Ask_parallel", "要听听一楼住户的意见")]
    assert [o["opinion"] for o in view.data["opinions"]] == ["同意", "要听听一楼住户的意见"]


def test_a_sequential_step_offers_one_instance_at_a_time(multi, staff):
    result = _start(multi, staff, mode="依次", count="2")
    assert [t.step_name for t in result.new_tasks] == ["依次提出意见"]
    second = cases.complete_task(multi, staff["handler"], result.new_tasks[0].id, {"opinion": "先修楼道"})
    assert [t.step_name for t in second.new_tasks] == ["依次提出意见"] and second.case_status == "running"
    done = cases.complete_task(multi, staff["handler2"], second.new_tasks[0].id, {"opinion": "同意"})
    assert done.case_status == "completed"


def test_a_step_over_a_list_gives_one_task_per_item_showing_its_item(multi, staff):
    result = _start(multi, staff, mode="逐项", topics="加装电梯\n更换水管")
    tasks = [tasklist.get_task(multi, staff["handler"], t.id) for t in result.new_tasks]
    assert [t.values["topic"] for t in tasks] == ["加装电梯", "更换水管"]
    for task in tasks:
        last = cases.complete_task(multi, staff["handler"], task.id, {"opinion": f"同意{task.values['topic']}"})
    assert last.case_status == "completed"
    view = casepages.get_case(multi, staff["auditor"], result.case_number)
    assert [o["opinion"] for o in view.data["opinions"]] == ["同意加装电梯", "同意更换水管"]


@pytest.mark.parametrize("values, says", [
    ({"mode": "并行", "count": ""}, "循环次数(loopCardinality)“count” 应得出 0–1000 的整数,这里得到的是空值"),
    ({"mode": "逐项", "topics": ""}, "要逐项处理的列表 “topics” 没有值或不是列表"),
])
def test_a_step_without_a_count_or_items_stops_with_a_message_and_keeps_nothing(multi, staff, values, says):
    with pytest.raises(StepFailed) as failed:
        _start(multi, staff, **values)
    assert says in failed.value.message and failed.value.status == 422
    assert tasklist.tasks(multi, staff["handler"], "queue").total == 0
