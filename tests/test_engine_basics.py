"""A small approval diagram through the engine: start, complete, errors leave no trace."""
from __future__ import annotations

import re

import pytest

from engine.design import workspace
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.people.oversight import READ_ONLY_MESSAGE
from engine.people import users
from engine.work import casepages, cases, tasklist
from tests.conftest import DATA, PASSWORD, deploy_file
from tests.test_designer import with_new_review_field


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


# --- who may start, and who may work a 试运行 case ---------------------------------------------------

def test_a_procedure_is_started_by_its_starter_roles_and_by_an_administrator_only(approval, staff):
    admin = users.create_user(approval, "admin", PASSWORD, "管理员甲", ["管理员"])
    with pytest.raises(Forbidden) as err:
        cases.start_case(approval, staff["handler"], "approval", {"title": "承办人发起"})
    assert err.value.message == "您的角色不能发起“简单审批”(需要:受理员)"
    assert [p.process_id for p in cases.procedures_for(approval, staff["handler"])] == []
    for who in (staff["clerk"], admin):
        assert [p.process_id for p in cases.procedures_for(approval, who)] == ["approval"]
        assert cases.start_case(approval, who, "approval", {"title": "发起"}).case_status == "running"


def test_a_designer_works_any_lane_of_a_trial_case_and_no_step_of_a_real_one(approval, staff):
    """试运行: a 流程设计人员 walks a sandbox case through lanes they do not hold; that never opens a real
    case's step to them, a sandbox case shows in nobody's list, and only designers start one, of a version
    of that very procedure."""
    designer = users.create_user(approval, "designer", PASSWORD, "周设计", ["流程设计人员"])
    draft = workspace.save_draft(approval, designer, with_new_review_field(), "approval.bpmn")
    trial = cases.start_case(approval, designer, "approval", {"title": "试一试"}, sandbox_version=draft.version_id)
    real = cases.start_case(approval, staff["clerk"], "approval", {"title": "真的"})
    assert [r.case_number for r in tasklist.tasks(approval, staff["leader"], "queue").items] == [real.case_number]
    with pytest.raises(Forbidden) as err:
        cases.complete_task(approval, designer, real.new_tasks[0].id, {"decision": "同意"})
    assert re.fullmatch("该任务属于.+的“社区负责人”,您无权查看或办理", err.value.message)
    done = cases.complete_task(approval, designer, trial.new_tasks[0].id, {"decision": "同意"})
    assert done.case_status == "completed"
    with pytest.raises(Forbidden) as err:
        cases.start_case(approval, staff["clerk"], "approval", {"title": "x"}, sandbox_version=draft.version_id)
    assert err.value.message == "只有流程设计人员可以试运行流程"
    for process_id, version in (("approval", draft.version_id + 1000), ("workday_deadline", draft.version_id)):
        with pytest.raises(NotFound) as err:
            cases.start_case(approval, designer, process_id, {"title": "x"}, sandbox_version=version)
        assert err.value.message == f"流程 “{process_id}” 没有版本 {version}"


# --- 关联: who may link two cases, and which -----------------------------------------------------------

def test_a_clerk_or_a_leader_links_two_cases_of_one_procedure_that_they_may_act_on(approval, staff):
    deploy_file(approval, DATA / "workday_deadline.bpmn")
    first, second, third = (cases.start_case(approval, staff["clerk"], "approval", {"title": t}).case_number
                            for t in ("一", "二", "三"))
    other = cases.start_case(approval, staff["clerk"], "workday_deadline", {"reply_date": "2026-11-27"}).case_number
    cases.link_cases(approval, staff["clerk"], first, second)
    cases.link_cases(approval, staff["leader"], first, third)
    assert casepages.get_case(approval, staff["leader"], first).linked == (second, third)
    assert casepages.get_case(approval, staff["leader"], third).linked == (first,)
    cases.link_cases(approval, staff["clerk"], second, first)  # linked already: nothing more is recorded
    linked = [(e.actor, e.data) for e in casepages.get_case(approval, staff["leader"], first).history
              if e.kind == "case_linked"]
    assert linked == [("clerk", {"linked": second}), ("leader", {"linked": third})]
    with pytest.raises(Forbidden) as err:
        cases.link_cases(approval, staff["handler"], second, third)
    assert err.value.message == "只有受理员或社区负责人可以关联事项"
    clerk_auditor = users.create_user(approval, "clerk_auditor", PASSWORD, "钱受理", ["受理员", "审计"])
    with pytest.raises(Forbidden) as err:  # reads every case as 审计, acts on none as 受理员 who did not start it
        cases.link_cases(approval, clerk_auditor, second, third)
    assert err.value.message == READ_ONLY_MESSAGE
    for one, two, message, field in ((first, other, "只能关联同一流程的事项", "不是同一流程"),
                                     (first, first, "不能把事项与自身关联", "请填写另一个受理编号")):
        with pytest.raises(InvalidInput) as err:
            cases.link_cases(approval, staff["clerk"], one, two)
        assert (err.value.message, err.value.fields) == (message, {"other": field})
    with pytest.raises(NotFound, match="事项 SP-0 不存在"):
        cases.link_cases(approval, staff["clerk"], first, "SP-0")
