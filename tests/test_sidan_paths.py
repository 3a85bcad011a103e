"""四单 (居民点单 → 支部派单, 三事分流 → 全员接单 → 反馈 → 组织晒单): every path, deployed through the
designer workspace, run through the task list — the procedure has no Python of its own."""
from __future__ import annotations

import pytest

from engine.design import workspace
from engine.people import users
from engine.work import casepages, cases, tasklist
from tests.conftest import PASSWORD, PROCESSES

ROLES = {"xinxiyuan": "民情信息员", "zhibu": "社区党支部", "baobao": "包保单位", "wangge": "党员网格员",
         "zhiyuan": "志愿服务队"}
ORDER = {
    "title": "小区东门停车难", "source": "点单征集日", "description": "东门晚间车辆乱停,消防通道被占。",
    "reporter_name": "刘阿姨", "address": "光明社区3网格",
}


@pytest.fixture
def people(db):
    found = {name: users.create_user(db, name, PASSWORD, name, [role]) for name, role in ROLES.items()}
    found["designer"] = users.create_user(db, "designer", PASSWORD, "周设计", ["流程设计人员"])
    xml = (PROCESSES / "sidan.bpmn").read_bytes()
    check = workspace.check(db, found["designer"], xml, "sidan.bpmn")
    assert check.deployable and check.warnings == (), check
    workspace.deploy(db, found["designer"], xml, "sidan.bpmn", "四单上线")
    return found


def do(db, people, number, who, step_name, **values):
    """Complete the step from `who`'s queue, as staff do in the task list."""
    queue = tasklist.tasks(db, people[who], "queue").items
    mine = [t for t in queue if t.case_number == number and t.step_name == step_name]
    assert mine, f"{step_name} not in {who}'s queue: {[(t.case_number, t.step_name) for t in queue]}"
    return cases.complete_task(db, people[who], mine[0].id, values)


@pytest.mark.parametrize("category, who, step", [
    ("公家事", "baobao", "共商公家事(包保单位接单)"),
    ("大家事", "wangge", "共议大家事(党员网格员接单)"),
    ("自家事", "zhiyuan", "共解自家事(志愿服务队接单)"),
])
def test_四单_each_kind_of_matter_goes_to_its_takers_and_ends_published(db, people, category, who, step):
    started = cases.start_case(db, people["xinxiyuan"], "sidan", ORDER)
    number = started.case_number
    assert number.startswith("SD-") and [t.step_name for t in started.new_tasks] == ["支部派单"]
    dispatched = do(db, people, number, "zhibu", "支部派单", category=category, menu="事务代办",
                    taker="结对共建单位", dispatch_note="请一周内处理")
    assert [t.step_name for t in dispatched.new_tasks] == [step]
    for other in {"baobao", "wangge", "zhiyuan"} - {who}:
        assert tasklist.tasks(db, people[other], "queue").total == 0
    do(db, people, number, who, step, result="已协调物业划线并安排夜间巡查", solved="true")
    do(db, people, number, "xinxiyuan", "反馈点单居民", feedback="已电话告知刘阿姨", satisfaction="满意")
    done = do(db, people, number, "zhibu", "组织晒单", shai_content="东门停车问题已解决", shai_way="小区公开栏")
    assert done.case_status == "completed"
    view = casepages.get_case(db, people["zhibu"], number)
    assert view.kind == category
    assert [e.step_name for e in view.history if e.kind == "task_completed"] == [
        "支部派单", step, "反馈点单居民", "组织晒单"]


def test_四单_dispatch_needs_the_three_way_split(db, people):
    from engine.errors import InvalidInput

    number = cases.start_case(db, people["xinxiyuan"], "sidan", ORDER).case_number
    with pytest.raises(InvalidInput) as caught:
        do(db, people, number, "zhibu", "支部派单", menu="事务代办", taker="网格长")
    assert set(caught.value.fields) == {"category"}


def test_四单_takers_have_their_deadlines_from_the_diagram(db, people):
    number = cases.start_case(db, people["xinxiyuan"], "sidan", ORDER).case_number
    queue = tasklist.tasks(db, people["zhibu"], "queue").items
    dispatch = next(t for t in queue if t.case_number == number)
    assert dispatch.due_at is not None and (dispatch.due_at - dispatch.created_at).days == 2
