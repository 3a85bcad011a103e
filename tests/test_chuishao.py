"""街乡吹哨、部门报到 in the 民情流水线 (seed 003, DOMAIN.md §5): a 上报件 goes up to the case's 街道; the
街道 may 吹哨 — pick the 职能部门 concerned and say what it asks — and each department's 联络员 then 报到
within 5 working days with what it did; when all have reported the 街道 closes the summons (吹哨销号) with
its 批复, and the reply goes back down to the 社区 that handles the matter.

The tree here: 城关区 → 东岗街道 → 示范社区 (and 另一社区 of another 街道), with 区住建局, 区城管局 and 区民政局
beside it under the 区. Every person holds their role in their own unit."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from lxml import etree

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram
from engine.errors import Forbidden, InvalidInput
from engine.people import units, users
from engine.work import casepages, cases, runtime, tasklist
from tests.conftest import PASSWORD, PROCESSES
from tests.minqing import INTAKE, PROCESS
from tests.tiny_diagrams import BPMN

DI = "http://www.omg.org/spec/BPMN/20100524/DI"


@pytest.fixture
def tree(db, staff, frozen_clock):
    """Unit ids by name, and the people of the tree by username."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    with db.write() as session:
        qu = units.create_unit(session, "test", "城关区", "区")
        street = units.create_unit(session, "test", "东岗街道", "街道", qu.id)
        other_street = units.create_unit(session, "test", "拱星墩街道", "街道", qu.id)
        community = units.create_unit(session, "test", "示范社区", "社区", street.id)
        elsewhere = units.create_unit(session, "test", "另一社区", "社区", other_street.id)
        departments = {name: units.create_unit(session, "test", name, "职能部门", qu.id, beside=True).id
                       for name in ("区住建局", "区城管局", "区民政局")}
        ids = {"城关区": qu.id, "东岗街道": street.id, "拱星墩街道": other_street.id, "示范社区": community.id,
               "另一社区": elsewhere.id, **departments}
    people = {
        "s_clerk": ("社区受理员", "受理员", "示范社区"), "s_leader": ("社区主任", "社区负责人", "示范社区"),
        "s_handler": ("社区承办人", "承办人", "示范社区"), "jd": ("街道干部", "上级部门", "东岗街道"),
        "jd_other": ("别街道干部", "上级部门", "拱星墩街道"), "zj": ("住建联络员", "联络员", "区住建局"),
        "cg": ("城管联络员", "联络员", "区城管局"), "mz": ("民政联络员", "联络员", "区民政局"),
        "qu_audit": ("区审计", "审计", "城关区"), "jd_supervisor": ("街道监督员", "民情监督员", "东岗街道"),
    }
    actors = {name: users.create_user(db, name, PASSWORD, display, [], grants=[(role, ids[unit])])
              for name, (display, role, unit) in people.items()}
    return ids, actors


def _do(db, actor, task_id, **values):
    runtime.forget_all()
    return cases.complete_task(db, actor, task_id, values)


def _queue(db, actor) -> list[tuple[str, int]]:
    return [(t.step_id, t.id) for t in tasklist.tasks(db, actor, "queue").items]


def _inbox(db, actor) -> list[tuple[str, int]]:
    return [(t.step_id, t.id) for t in tasklist.tasks(db, actor, "inbox").items]


def _reported_up(db, people) -> str:
    """A 上报件 of 示范社区, reported up to the 街道."""
    number = cases.start_case(db, people["s_clerk"], PROCESS, INTAKE).case_number
    [(_, classify)] = _queue(db, people["s_leader"])
    _do(db, people["s_leader"], classify, kind="上报件", handler="s_handler")
    [(_, report)] = _inbox(db, people["s_handler"])
    _do(db, people["s_handler"], report, report_department="东岗街道", report_content="主管道老化,需区住建局更换")
    return number


def _whistled(db, people, ids, departments=("区住建局", "区城管局")) -> str:
    number = _reported_up(db, people)
    [(_, reply)] = _queue(db, people["jd"])
    _do(db, people["jd"], reply, superior_decision="吹哨报到")
    [(step, whistle)] = _inbox(db, people["jd"])
    assert step == "UserTask_whistle"
    _do(db, people["jd"], whistle, whistle_departments=[str(ids[d]) for d in departments],
        whistle_request="请于五个工作日内到场查看并更换主管道")
    return number


def test_上报件_goes_to_the_cases_街道_not_to_another_街道(db, tree):
    ids, people = tree
    number = _reported_up(db, people)
    assert [s for s, _ in _queue(db, people["jd"])] == ["UserTask_superior_reply"]
    assert _queue(db, people["jd_other"]) == []
    with pytest.raises(Forbidden):
        casepages.get_case(db, people["jd_other"], number)


def test_a_上报件_replied_without_吹哨_comes_back_to_the_community_handler(db, tree):
    ids, people = tree
    number = _reported_up(db, people)
    [(_, reply)] = _queue(db, people["jd"])
    _do(db, people["jd"], reply, superior_decision="批准", reply="同意更换", reply_date="2026-11-23")
    assert [s for s, _ in _inbox(db, people["s_handler"])] == ["UserTask_feedback"]
    for liaison in ("zj", "cg", "mz"):
        assert _queue(db, people[liaison]) == []
    view = casepages.get_case(db, people["qu_audit"], number)
    assert [s.step_id for s in view.open_steps] == ["UserTask_feedback"]


def test_吹哨_needs_the_departments_and_what_is_asked(db, tree):
    ids, people = tree
    _reported_up(db, people)
    [(_, reply)] = _queue(db, people["jd"])
    _do(db, people["jd"], reply, superior_decision="吹哨报到")
    [(_, whistle)] = _inbox(db, people["jd"])
    with pytest.raises(InvalidInput) as refused:
        _do(db, people["jd"], whistle, whistle_request="")
    assert refused.value.fields == {"whistle_departments": "此项为必填项", "whistle_request": "此项为必填项"}
    with pytest.raises(InvalidInput) as refused:  # a 街道 is no 职能部门
        _do(db, people["jd"], whistle, whistle_departments=[str(ids["东岗街道"])], whistle_request="请到场")
    assert refused.value.fields["whistle_departments"] == (
        f"“{ids['东岗街道']}” 不是可选的职能部门;可选:区住建局、区城管局、区民政局")


def test_吹哨_to_two_departments_gives_each_联络员_exactly_their_报到(db, tree):
    ids, people = tree
    number = _whistled(db, people, ids)
    [(step, zj_task)] = _queue(db, people["zj"])
    [(_, cg_task)] = _queue(db, people["cg"])
    assert step == "UserTask_report_in" and zj_task != cg_task
    assert _queue(db, people["mz"]) == []  # summoned were 住建 and 城管 only
    with pytest.raises(Forbidden):
        casepages.get_case(db, people["mz"], number)
    page = tasklist.get_task(db, people["zj"], zj_task)
    shown = {f.id: f.named(page.values.get(f.id)) for f in page.form}
    assert shown["department"] == "区住建局" and shown["whistle_request"] == "请于五个工作日内到场查看并更换主管道"
    with pytest.raises(Forbidden):  # 住建 cannot open, let alone do, 城管's 报到
        tasklist.get_task(db, people["cg"], zj_task)
    with pytest.raises(Forbidden):
        _do(db, people["cg"], zj_task, report_action="已处理")


def test_each_报到_is_due_in_5_working_days(db, tree):
    ids, people = tree
    _whistled(db, people, ids)  # on Monday 2026-11-23
    due = [t.due_at for t in tasklist.tasks(db, people["zj"], "queue").items]
    assert [d.date() for d in due] == [datetime(2026, 11, 30).date()]


def test_the_街道_closes_the_summons_once_all_have_reported_and_the_reply_goes_back_to_the_community(
        db, tree, frozen_clock):
    ids, people = tree
    number = _whistled(db, people, ids)
    frozen_clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc))  # the departments report on Tuesday
    [(_, zj_task)] = _queue(db, people["zj"])
    [(_, cg_task)] = _queue(db, people["cg"])
    _do(db, people["zj"], zj_task, report_action="已到场,主管道本周内更换")
    assert [s for s, _ in _inbox(db, people["jd"])] == []  # 城管 has not reported yet
    _do(db, people["cg"], cg_task, report_action="已清理施工现场占道")
    [(step, close)] = _inbox(db, people["jd"])
    assert step == "UserTask_whistle_close"
    _do(db, people["jd"], close, whistle_summary="两部门均已报到", superior_decision="批准",
        reply="主管道已由区住建局更换", reply_date="2026-11-24")
    assert [s for s, _ in _inbox(db, people["s_handler"])] == ["UserTask_feedback"]
    view = casepages.get_case(db, people["qu_audit"], number)
    completed = [e.step_id for e in view.history if e.kind == "task_completed"]
    assert completed == ["UserTask_classify", "UserTask_report_up", "UserTask_superior_reply", "UserTask_whistle",
                         "UserTask_report_in", "UserTask_report_in", "UserTask_whistle_close"]
    reports = {r["department"]: r["report_action"] for r in view.data["whistle_reports"]}
    assert reports == {ids["区住建局"]: "已到场,主管道本周内更换", ids["区城管局"]: "已清理施工现场占道"}
    assert view.data["whistle_departments"] == [ids["区住建局"], ids["区城管局"]]
    assert view.data["superior_decision"] == "批准" and view.data["reply_date"] == "2026-11-24"


def test_where_each_报到_went_is_recorded_by_department_name(db, tree):
    ids, people = tree
    number = _whistled(db, people, ids)
    view = casepages.get_case(db, people["qu_audit"], number)
    ready = [e.data["units"] for e in view.history if e.kind == "task_ready" and e.step_id == "UserTask_report_in"]
    assert sorted(u["联络员"] for u in ready) == ["区住建局", "区城管局"]
    [reply_ready] = [e.data["units"] for e in view.history
                     if e.kind == "task_ready" and e.step_id == "UserTask_superior_reply"]
    assert reply_ready == {"上级部门": "东岗街道"}



def test_a_matter_reopened_after_review_can_吹哨_again(db, tree):
    """督办复核 may send the matter back to 分类交办; a second 上报件 may summon the departments again, and
    each 报到 again goes to its own department."""
    ids, people = tree
    number = _whistled(db, people, ids, departments=("区住建局",))
    [(_, zj_task)] = _queue(db, people["zj"])
    _do(db, people["zj"], zj_task, report_action="已到场查看")
    [(_, close)] = _inbox(db, people["jd"])
    _do(db, people["jd"], close, whistle_summary="已报到", superior_decision="不批准", reply="暂不更换",
        reply_date="2026-11-23")
    [(_, feedback)] = _inbox(db, people["s_handler"])
    _do(db, people["s_handler"], feedback, feedback_method="单项式反馈", answer="暂不更换", answered_at="2026-11-23")
    [(_, rate)] = _queue(db, people["s_clerk"])
    _do(db, people["s_clerk"], rate, rating="不满意")
    [(_, review)] = _queue(db, people["jd_supervisor"])
    _do(db, people["jd_supervisor"], review, review_decision="重新办理", review_note="请区城管局一并处理")
    [(_, classify)] = _queue(db, people["s_leader"])
    _do(db, people["s_leader"], classify, kind="上报件", handler="s_handler")
    [(_, report)] = _inbox(db, people["s_handler"])
    _do(db, people["s_handler"], report, report_department="东岗街道", report_content="再次上报")
    [(_, reply)] = _queue(db, people["jd"])
    _do(db, people["jd"], reply, superior_decision="吹哨报到")
    [(_, whistle)] = _inbox(db, people["jd"])
    _do(db, people["jd"], whistle, whistle_departments=[str(ids["区城管局"]), str(ids["区住建局"])],
        whistle_request="两部门联合处置")
    assert [s for s, _ in _queue(db, people["zj"])] == ["UserTask_report_in"]
    assert [s for s, _ in _queue(db, people["cg"])] == ["UserTask_report_in"]
    view = casepages.get_case(db, people["qu_audit"], number)
    assert [s.step_id for s in view.open_steps] == ["UserTask_report_in", "UserTask_report_in"]


def test_the_case_history_names_the_summoned_departments_not_their_ids(db, tree):
    ids, people = tree
    number = _whistled(db, people, ids)
    view = casepages.get_case(db, people["qu_audit"], number)
    [whistle] = [e for e in view.history if e.kind == "task_completed" and e.step_id == "UserTask_whistle"]
    assert whistle.data["values"]["whistle_departments"] == "区住建局、区城管局"
    assert whistle.labels["whistle_departments"] == "召集的职能部门"


# --- the diagram --------------------------------------------------------------------------------------

LINE = PROCESSES / "minqing_liushuixian.bpmn"


def test_the_line_with_吹哨报到_validates_and_draws_every_element():
    source = LINE.read_bytes()
    assert diagram.problems_of(source, LINE.name) == []
    root = etree.fromstring(source)
    process = root.find(f"{{{BPMN}}}process")
    drawn = {el.get("bpmnElement") for el in root.iter(f"{{{DI}}}BPMNShape", f"{{{DI}}}BPMNEdge")}
    elements = {el.get("id") for el in process if el.get("id") and etree.QName(el).localname not in ("property",)}
    lanes = {lane.get("id") for lane in process.iter(f"{{{BPMN}}}lane")}
    assert elements - {"LaneSet_minqing_liushuixian"} <= drawn and lanes <= drawn


def test_the_steps_of_the_上级部门_lane_go_to_the_街道_and_each_报到_to_its_department():
    d = diagram.load(LINE.read_bytes(), LINE.name)
    superior = {sid: s.properties.get("unitLevel") for sid, s in d.steps.items() if s.lane == "上级部门"}
    assert superior == {"UserTask_superior_reply": "街道", "UserTask_whistle": "街道", "UserTask_whistle_close": "街道"}
    report_in = d.steps["UserTask_report_in"]
    assert report_in.lane == "联络员" and report_in.properties["unitField"] == "department"
    assert report_in.properties["dueWorkingDays"] == "5"
    assert not any("unitLevel" in s.properties or "unitField" in s.properties
                   for s in d.steps.values() if s.lane not in ("上级部门", "联络员"))


def test_a_unit_field_property_naming_no_field_is_refused():
    source = LINE.read_bytes().replace(b'name="unitField" value="department"', b'name="unitField" value="dept"')
    [found] = diagram.problems_of(source, LINE.name)
    assert found.element_id == "UserTask_report_in"
    assert found.message == "属性 unitField 引用了流程图中没有的字段 “dept”:请写一个单位字段或多实例元素变量的编号"
