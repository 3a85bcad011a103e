"""民情流水线, online intake: a matter a resident submits on the website (电子信箱/网站) waits for a
受理员 to check it (网上受理核实) before the 社区负责人 sees it; a clerk-registered matter does not.

受理 sends it on to 分类交办 like any other matter. 不予受理 (advertising, abuse, nothing to act on)
closes the matter at once with the reason the clerk writes for the resident, which the resident reads
with the follow-up code; like an invalid 12345 ticket it is not dispatched, not rated and not counted
in satisfaction.
"""
from __future__ import annotations

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.clock import CHINA_TZ
from engine.errors import Forbidden, InvalidInput
from engine.public import procedures_page, residents
from engine.work import casepages, cases, tasklist
from tests.conftest import PROCESSES

MATTER = {"topic": "环境绿化", "title": "小区绿地被占", "description": "12号楼前绿地被改成停车位。",
          "reporter_name": "孙先生", "reporter_contact": "13700003333", "address": "和平小区12号楼"}
REFUSAL = "该内容为商业广告,不属于民情事项,不予受理。如有问题请重新反映。"


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


@pytest.fixture
def submitted(line, tmp_path) -> residents.Receipt:
    return residents.submit(line, MATTER, [])


def waiting(db, staff, number: str) -> list[str]:
    return [s.step_id for s in casepages.get_case(db, staff["auditor"], number).open_steps]


def verify(db, staff, number: str, who: str = "clerk", **values) -> cases.StepResult:
    step = next(s for s in casepages.get_case(db, staff["auditor"], number).open_steps
                if s.step_id == "UserTask_verify_online")
    return cases.complete_task(db, staff[who], step.task_id, values)


def test_an_online_submission_waits_in_the_clerks_queue_not_the_leaders(line, staff, submitted):
    assert waiting(line, staff, submitted.number) == ["UserTask_verify_online"]
    queue = tasklist.tasks(line, staff["clerk"], "queue").items
    assert [(r.case_number, r.step_name) for r in queue] == [(submitted.number, "网上受理核实")]
    assert tasklist.tasks(line, staff["leader"], "queue").total == 0
    step = casepages.get_case(line, staff["auditor"], submitted.number).open_steps[0]
    assert step.roles == ("受理员",)
    assert step.due_at.astimezone(CHINA_TZ).date().isoformat() == "2026-11-24"  # one working day
    follow = residents.follow(line, submitted.number, submitted.code)
    assert follow.stage == "受理" and not follow.completed


def test_受理_sends_the_matter_on_to_分类交办_with_the_grid_the_clerk_added(line, staff, submitted):
    result = verify(line, staff, submitted.number, verified="受理", grid="第五网格", verify_note="已电话联系孙先生核实")
    assert [t.step_name for t in result.new_tasks] == ["分类交办"]
    assert waiting(line, staff, submitted.number) == ["UserTask_classify"]
    assert casepages.get_case(line, staff["auditor"], submitted.number).data["grid"] == "第五网格"
    assert [r.case_number for r in tasklist.tasks(line, staff["leader"], "queue").items] == [submitted.number]
    assert residents.follow(line, submitted.number, submitted.code).answers == ()


def test_不予受理_closes_the_matter_and_tells_the_resident_why(line, staff, submitted):
    result = verify(line, staff, submitted.number, verified="不予受理", verify_note="内容为广告", answer=REFUSAL)
    assert result.new_tasks == () and result.case_status == "completed"
    assert tasklist.tasks(line, staff["leader"], "queue").total == 0
    assert tasklist.tasks(line, staff["clerk"], "queue").total == 0
    follow = residents.follow(line, submitted.number, submitted.code)
    assert follow.completed and [a.text for a in follow.answers] == [REFUSAL]
    assert not follow.can_rate and "内容为广告" not in repr(follow)  # the clerk's own note stays internal
    view = casepages.get_case(line, staff["auditor"], submitted.number)
    assert view.kind is None and view.data["verified"] == "不予受理"
    assert [e.step_id for e in view.history if e.kind == "task_completed"] == ["UserTask_verify_online"]


def test_不予受理_needs_the_answer_to_the_resident_and_受理_takes_none(line, staff, submitted):
    with pytest.raises(InvalidInput) as err:
        verify(line, staff, submitted.number, verified="不予受理")
    assert set(err.value.fields) == {"answer"}
    with pytest.raises(InvalidInput) as err:
        verify(line, staff, submitted.number, verified="受理", answer="已受理")
    assert err.value.fields == {"answer": "受理时不填写告知内容"}
    with pytest.raises(InvalidInput) as err:
        verify(line, staff, submitted.number)
    assert set(err.value.fields) == {"verified"}
    assert waiting(line, staff, submitted.number) == ["UserTask_verify_online"]


def test_only_a_clerk_verifies_an_online_submission(line, staff, submitted):
    with pytest.raises(Forbidden):
        verify(line, staff, submitted.number, who="leader", verified="受理")
    assert waiting(line, staff, submitted.number) == ["UserTask_verify_online"]


def test_a_matter_a_clerk_registers_from_the_hotline_skips_the_check(line, staff):
    intake = {**MATTER, "channel": "构筑平台及时受理", "channel_way": "民情热线"}
    started = cases.start_case(line, staff["clerk"], "minqing_liushuixian", intake)
    assert [t.step_name for t in started.new_tasks] == ["分类交办"]
    without_way = cases.start_case(line, staff["clerk"], "minqing_liushuixian",
                                   {**MATTER, "channel": "政务大厅集中受理"})
    assert [t.step_name for t in without_way.new_tasks] == ["分类交办"]


def test_the_public_procedures_page_lists_the_check_under_民情受理(line):
    [procedure] = [p for p in procedures_page.procedures(line) if p.name == "民情流水线"]
    intake = next(stage for stage in procedure.stages if stage.name == "民情受理")
    assert [(s.name, s.roles, s.time_limits) for s in intake.steps][1] == ("网上受理核实", "受理员", ("1 个工作日",))
