"""The designer workspace at the engine level: deploy, version pinning, drafts and 试运行 (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.design import diff, trial, workspace
from engine.errors import DiagramInvalid, Forbidden, InvalidInput
from engine.people import users
from engine.store.models import Case, DiagramVersion
from engine.work import casepages, cases, tasklist
from tests.conftest import DATA, PASSWORD, PROCESSES

APPROVAL = (DATA / "approval.bpmn").read_bytes()
NEW_FIELD = '<camunda:formField id="phone" label="联系电话" type="string"/></camunda:formData>'


def with_new_review_field(xml: bytes = APPROVAL) -> bytes:
    """The approval diagram with the 审核 label renamed and a field added, as a designer would."""
    text = xml.decode()
    head, tail = text.split('<bpmn:userTask id="Review"', 1)
    tail = tail.replace('label="结论"', 'label="审核结论"', 1).replace("</camunda:formData>", NEW_FIELD, 1)
    return (head + '<bpmn:userTask id="Review"' + tail).encode()


@pytest.fixture
def designer_actor(db, staff):
    return users.create_user(db, "designer", PASSWORD, "周设计", ["流程设计人员"])


def version_count(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(DiagramVersion.id)))


def start(db, staff, title="路灯不亮"):
    return cases.start_case(db, staff["clerk"], "approval", {"title": title, "amount": "3"})


def review_form(db, actor, number) -> list[str]:
    view = casepages.get_case(db, actor, number)
    task = tasklist.get_task(db, actor, view.open_steps[0].task_id)
    return [f.label for f in task.form]


def test_deploy_from_workspace_records_who_when_and_why(db, staff, designer_actor):
    done = workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首次上线")
    assert done.created and done.version.number == 1 and done.version.latest
    listed = workspace.procedures(db, designer_actor)
    assert [(p.process_id, [v.note for v in p.versions]) for p in listed] == [("approval", ["首次上线"])]
    assert listed[0].versions[0].deployed_by == "designer"


def test_invalid_diagram_is_refused_and_changes_nothing(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    broken = APPROVAL.replace(b'<bpmn:sequenceFlow id="F_no" sourceRef="Gw" targetRef="EndNo"/>',
                              b'<bpmn:sequenceFlow id="F_no" sourceRef="Gw" targetRef="EndNo"/>'
                              b'<bpmn:scriptTask id="Evil" name="x"><bpmn:script>1</bpmn:script></bpmn:scriptTask>')
    with pytest.raises(DiagramInvalid) as caught:
        workspace.deploy(db, designer_actor, broken, "approval.bpmn", "加脚本")
    assert any(p.element_id == "Evil" and "脚本任务" in p.message for p in caught.value.problems)
    assert version_count(db) == 1


def test_a_deploy_needs_a_change_note(db, staff, designer_actor):
    with pytest.raises(InvalidInput) as caught:
        workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "  ")
    assert "note" in caught.value.fields
    assert version_count(db) == 0


def test_only_designers_use_the_workspace(db, staff):
    with pytest.raises(Forbidden):
        workspace.deploy(db, staff["clerk"], APPROVAL, "approval.bpmn", "x")
    with pytest.raises(Forbidden):
        workspace.procedures(db, staff["leader"])


@pytest.mark.parametrize("edit, element, words", [
    (b'<bpmn:sequenceFlow id="F_ok" sourceRef="Gw" targetRef="EndOk"><bpmn:conditionExpression '
     b'xsi:type="bpmn:tFormalExpression">${decision == "\xe5\x90\x8c\xe6\x84\x8f"}</bpmn:conditionExpression>',
     "F_ok", "没有条件"),
    (b"__import__", "F_ok", "__import__"),
])
def test_validation_lists_problems_with_the_element(db, staff, designer_actor, edit, element, words):
    if edit == b"__import__":
        xml = APPROVAL.replace(b'${decision == "\xe5\x90\x8c\xe6\x84\x8f"}', b"__import__('os').system('x')")
    else:
        xml = APPROVAL.replace(edit, b'<bpmn:sequenceFlow id="F_ok" sourceRef="Gw" targetRef="EndOk">'
                                     b'<bpmn:documentation>x</bpmn:documentation>')
    result = workspace.check(db, designer_actor, xml, "approval.bpmn")
    assert not result.deployable
    assert any(p.element_id == element and words in p.message for p in result.problems), result.problems


def test_roles_nobody_holds_are_warned_not_refused(db, staff, designer_actor):
    xml = APPROVAL.replace('name="社区负责人"'.encode(), 'name="社区负责任"'.encode())
    result = workspace.check(db, designer_actor, xml, "approval.bpmn")
    assert result.deployable
    assert [(w.element_id, "社区负责任" in w.message) for w in result.warnings] == [("Review", True)]
    assert workspace.check(db, designer_actor, APPROVAL, "approval.bpmn").warnings == ()


def test_running_case_keeps_its_form_and_new_cases_get_the_new_one(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    old = start(db, staff, "旧事项")
    workspace.deploy(db, designer_actor, with_new_review_field(), "approval.bpmn", "审核加联系电话")
    new = start(db, staff, "新事项")
    assert review_form(db, staff["leader"], old.case_number) == ["结论", "理由"]
    assert review_form(db, staff["leader"], new.case_number) == ["审核结论", "理由", "联系电话"]
    counts = {v.number: (v.running, v.completed) for v in workspace.procedures(db, designer_actor)[0].versions}
    assert counts == {1: (1, 0), 2: (1, 0)}


def test_diff_names_the_changed_step_and_its_form(db, staff, designer_actor):
    first = workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版").version
    second = workspace.deploy(db, designer_actor, with_new_review_field(), "approval.bpmn", "改表单").version
    comparison = diff.compare(db, designer_actor, first.id, second.id)
    assert comparison.added == () and comparison.removed == ()
    assert [(c.element_id, c.details) for c in comparison.changed] == [
        ("Review", ("修改表单字段 decision:标签: “结论” → “审核结论”", "新增表单字段 phone(“联系电话”)"))]


def test_diff_compares_meaning_so_a_modeler_rewriting_the_xml_shows_only_the_real_change():
    """A modeler that saves with other namespace prefixes, other indentation and attributes in
    another order changes nothing a designer meant: the one label changed is the one difference."""
    original = (PROCESSES / "minqing_liushuixian.bpmn").read_bytes()
    rewritten = (original.decode().replace("xmlns:camunda=", "xmlns:cam=").replace("camunda:", "cam:")
                 .replace("><", ">\n    <").replace('label="核实结果" type="enum"', 'type="enum" label="核实结果"')
                 .replace('label="所属网格"', 'label="所属网格(小网格)"', 1))
    added, removed, changed = diff.differences(original, rewritten.encode())
    assert added == removed == ()
    assert [(c.element_id, c.details) for c in changed] == [
        ("StartEvent_intake", ("修改表单字段 grid:标签: “所属网格” → “所属网格(小网格)”",))]
    assert diff.differences(original, original.decode().replace("camunda:", "c:").replace(
        "xmlns:camunda=", "xmlns:c=").encode()) == ((), (), ())


def test_diff_names_what_changed_inside_a_form_field():
    original = (PROCESSES / "minqing_liushuixian.bpmn").read_bytes()
    changed = original.replace('<camunda:value id="不予受理" name="不予受理" />'.encode(),
                               '<camunda:value id="不予受理" name="不予受理(书面告知)" />'.encode(), 1)
    details = [d for c in diff.differences(original, changed)[2] for d in c.details]
    assert details == ["修改表单字段 verified:选项: “受理、不予受理” → “受理、不予受理(书面告知)”"]


def test_a_draft_is_never_the_latest_version(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    draft = workspace.save_draft(db, designer_actor, with_new_review_field(), "approval.bpmn")
    real = start(db, staff)
    with db.read() as session:
        assert session.scalar(select(Case.version_id).where(Case.number == real.case_number)) != draft.version_id
    assert [len(p.versions) for p in workspace.procedures(db, designer_actor)] == [1]


def test_trial_cases_stay_out_of_task_lists_and_counts(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    draft = workspace.save_draft(db, designer_actor, with_new_review_field(), "approval.bpmn")
    started = trial.start(db, designer_actor, draft.version_id, {"title": "试一试"})
    assert started.case_number.startswith("试运行-")
    assert tasklist.tasks(db, staff["leader"], "queue").total == 0
    assert tasklist.counts(db, staff["leader"]).queue == 0
    assert workspace.procedures(db, designer_actor)[0].versions[0].running == 0


def test_designer_walks_a_trial_case_through_every_lane(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    draft = workspace.save_draft(db, designer_actor, with_new_review_field(), "approval.bpmn")
    started = trial.start(db, designer_actor, draft.version_id, {"title": "试一试"})
    sandbox = trial.trial_case(db, designer_actor, started.case_number)
    assert [(s.name, s.roles, [f.id for f in s.form]) for s in sandbox.steps] == [
        ("审核", ("社区负责人",), ["decision", "reason", "phone"])]
    done = trial.complete_step(db, designer_actor, sandbox.steps[0].task_id, {"decision": "同意"})
    assert done.case_status == "completed"


def test_a_designer_cannot_act_in_a_real_case(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    real = start(db, staff)
    task_id = casepages.get_case(db, staff["leader"], real.case_number).open_steps[0].task_id
    with pytest.raises(Forbidden):
        trial.complete_step(db, designer_actor, task_id, {"decision": "同意"})
    with pytest.raises(Forbidden):
        cases.complete_task(db, designer_actor, task_id, {"decision": "同意"})


def test_only_designers_start_trial_cases(db, staff, designer_actor):
    workspace.deploy(db, designer_actor, APPROVAL, "approval.bpmn", "首版")
    draft = workspace.save_draft(db, designer_actor, with_new_review_field(), "approval.bpmn")
    with pytest.raises(Forbidden):
        cases.start_case(db, staff["clerk"], "approval", {"title": "x"}, sandbox_version=draft.version_id)
