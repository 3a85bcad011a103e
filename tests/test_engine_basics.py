"""A small approval diagram through the engine: start, complete, errors leave no trace."""
from __future__ import annotations

import pytest

from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.work import casepages, cases, tasklist
from tests.conftest import DATA, deploy_file


@pytest.fixture
def approval(db, staff):
    deploy_file(db, DATA / "approval.bpmn")
    return db


def test_start_issues_a_case_number_and_routes_to_the_lane(approval, staff):
    result = cases.start_case(approval, staff["clerk"], "approval", {"title": "路灯不亮", "amount": "3"})
    assert result.case_number.startswith("SP-")
    assert [t.step_name for t in result.new_tasks] == ["审核"]
    queue = tasklist.tasks(approval, staff["leader"], "queue")
    assert [r.case_number for r in queue.items] == [result.case_number]
    assert tasklist.tasks(approval, staff["handler"], "queue").total == 0


def test_completion_runs_the_gateway_and_finishes(approval, staff):
    result = cases.start_case(approval, staff["clerk"], "approval", {"title": "路灯不亮"})
    task_id = result.new_tasks[0].id
    done = cases.complete_task(approval, staff["leader"], task_id, {"decision": "同意"})
    assert done.case_status == "completed"
    view = casepages.get_case(approval, staff["leader"], result.case_number)
    kinds = [e.kind for e in view.history]
    assert kinds == ["case_started", "task_ready", "task_completed", "gateway_decided", "case_completed"]
    assert view.history[3].data["flows"][0]["condition"]
    assert view.history[2].data["values"] == {"decision": "同意", "reason": None}


def test_bad_form_data_names_each_field_and_saves_nothing(approval, staff):
    with pytest.raises(InvalidInput) as err:
        cases.start_case(approval, staff["clerk"], "approval", {"title": "", "amount": "abc"})
    assert set(err.value.fields) == {"title", "amount"}
    result = cases.start_case(approval, staff["clerk"], "approval", {"title": "t"})
    with pytest.raises(InvalidInput) as err:
        cases.complete_task(approval, staff["leader"], result.new_tasks[0].id, {"decision": "不同意"})
    assert err.value.fields == {"reason": "此项为必填项"}
    view = casepages.get_case(approval, staff["leader"], result.case_number)
    assert view.status == "running" and len(view.history) == 2


def test_wrong_lane_is_forbidden(approval, staff):
    result = cases.start_case(approval, staff["clerk"], "approval", {"title": "t"})
    with pytest.raises(Forbidden):
        cases.complete_task(approval, staff["handler"], result.new_tasks[0].id, {"decision": "同意"})


def test_completed_twice_is_a_conflict(approval, staff):
    result = cases.start_case(approval, staff["clerk"], "approval", {"title": "t"})
    cases.complete_task(approval, staff["leader"], result.new_tasks[0].id, {"decision": "同意"})
    with pytest.raises(Conflict, match="已由 李主任"):
        cases.complete_task(approval, staff["leader"], result.new_tasks[0].id, {"decision": "同意"})


def test_unknown_task_is_not_found(approval, staff):
    with pytest.raises(NotFound):
        cases.complete_task(approval, staff["leader"], 9999, {})
