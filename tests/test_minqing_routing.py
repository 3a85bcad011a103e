"""Who does the next step, drawn in the diagram (issue #17): in 分类交办 the leader picks the 承办人
(a form field of type `user`, role 承办人, and `camunda:assignee="${handler}"` on the handling steps);
反馈答复 goes to whoever did the handling (`sameAssigneeAs`), not back to 待认领."""
from __future__ import annotations

import pytest
from sqlalchemy import delete

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram, formrules
from engine.bpmn.forms import Choice, FormField
from engine.errors import Conflict, InvalidInput
from engine.store.models import UserRole
from engine.work import cases, tasklist
from tests.conftest import PROCESSES
from tests.minqing import Matter
from tests.tiny_diagrams import BPMN, CAMUNDA


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def inbox(db, actor) -> list[str]:
    return [t.step_id for t in tasklist.tasks(db, actor, "inbox").items]


def test_the_leader_picks_the_handler_and_the_step_lands_in_that_persons_inbox(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件", handler="handler2")
    assert inbox(line, staff["handler2"]) == ["UserTask_handle_immediate"]
    assert tasklist.tasks(line, staff["handler"], "queue").total == 0
    with pytest.raises(Conflict):
        m.do("UserTask_handle_immediate", "handler", handling_result="已处理")
    assigned = [e for e in m.view().history if e.kind == "task_assigned"]
    assert [(e.step_id, e.data["assignee_name"]) for e in assigned] == [("UserTask_handle_immediate", "赵承办")]


def test_the_case_page_shows_the_picked_and_assigned_person_by_name_not_username(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件", handler="handler2")
    history = m.view().history
    [classified] = [e for e in history if e.step_id == "UserTask_classify" and e.kind == "task_completed"]
    assert classified.data["values"]["handler"] == "赵承办"
    assert [e.data["assignee_name"] for e in history if e.kind == "task_assigned"] == ["赵承办"]


def test_the_choice_offers_the_current_holders_of_the_role_by_name(line, staff):
    m = Matter(line, staff)
    page = tasklist.get_task(line, staff["leader"], m.task_id("UserTask_classify"))
    [handler] = [f for f in page.form if f.id == "handler"]
    assert handler.widget == "select"
    assert {(c.id, c.name) for c in handler.choices} == {("handler", "张承办"), ("handler2", "赵承办")}


@pytest.mark.parametrize("who", ["clerk", "nobody"])
def test_someone_who_does_not_hold_the_role_cannot_be_picked(line, staff, who):
    m = Matter(line, staff)
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_classify", "leader", kind="即办件", handler=who)
    assert err.value.fields["handler"].startswith("请从担任“承办人”的人员中选择:")
    assert m.waiting == ["UserTask_classify"]


def test_without_a_pick_the_step_waits_in_the_queue_as_before(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    assert [t.step_id for t in tasklist.tasks(line, staff["handler"], "queue").items] == ["UserTask_handle_immediate"]


def test_the_feedback_stays_with_whoever_did_the_handling(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-30")
    cases.claim(line, staff["handler2"], m.task_id("UserTask_handle_promised"))
    m.do("UserTask_handle_promised", "handler2", handling_result="已更换阀门")
    assert inbox(line, staff["handler2"]) == ["UserTask_feedback"]
    assert tasklist.tasks(line, staff["handler"], "queue").total == 0


def test_a_handler_who_left_the_role_meanwhile_is_not_assigned_and_the_feedback_waits_in_the_queue(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件", handler="handler2")
    m.do("UserTask_report_up", "handler2", report_department="区住建局", report_content="更换主管道")
    with line.write() as session:  # 赵承办 moves to another post while the superior decides
        session.execute(delete(UserRole).where(UserRole.user_id == staff["handler2"].id))
    m.do("UserTask_superior_reply", "superior", superior_decision="批准", reply="同意", reply_date="2026-11-23")
    assert [t.step_id for t in tasklist.tasks(line, staff["handler"], "queue").items] == ["UserTask_feedback"]


def _process(task_attributes: str = "", properties: str = "", field: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="p" name="p" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>{field}</camunda:formData>
      </bpmn:extensionElements><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="U" name="办理" camunda:candidateGroups="承办人" {task_attributes}>
      <bpmn:extensionElements><camunda:properties>{properties}</camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="V" name="答复" camunda:candidateGroups="受理员"><bpmn:incoming>F2</bpmn:incoming>
      <bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="U"/>
    <bpmn:sequenceFlow id="F2" sourceRef="U" targetRef="V"/>
    <bpmn:sequenceFlow id="F3" sourceRef="V" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


PICK = '<camunda:formField id="who" label="承办人" type="user"><camunda:properties>' \
       '<camunda:property id="role" value="承办人"/></camunda:properties></camunda:formField>'


def test_a_people_field_naming_its_role_and_an_assignee_reading_it_are_deployable():
    assert diagram.problems_of(_process('camunda:assignee="${who}"', field=PICK), "t.bpmn") == []


@pytest.mark.parametrize("attributes, properties, field, says", [
    ("", "", '<camunda:formField id="who" label="承办人" type="user"/>', "人员字段 “who” 须有属性 role"),
    ("", "", '<camunda:formField id="who" label="承办人" type="string"><camunda:properties>'
     '<camunda:property id="role" value="承办人"/></camunda:properties></camunda:formField>',
     "表单字段 “who” 的属性 role 只用于人员字段(type = user)"),
    ('camunda:assignee="${whom}"', "", PICK, "办理人(assignee)引用了流程图中没有的字段 “whom”"),
    ("", '<camunda:property name="sameAssigneeAs" value="Nope"/>', "", "“Nope” 不是本流程中由人办理的步骤"),
    ("", '<camunda:property name="sameAssigneeAs" value="V"/>', "", "没有共同的办理角色"),
])
def test_a_routing_rule_that_cannot_work_is_refused_at_validation(attributes, properties, field, says):
    found = diagram.problems_of(_process(attributes, properties, field), "t.bpmn")
    assert len(found) == 1 and says in found[0].message, found


def test_a_person_is_picked_from_the_current_holders_of_the_role_and_none_is_offered_when_nobody_holds_it():
    """The message names the role and every holder one may pick; with no holder at all it says so."""
    who = FormField("who", "承办人", "user", properties=(("role", "承办人"),),
                    choices=(Choice("handler", "张承办"), Choice("handler2", "赵承办")))
    assert formrules.convert_person(who, "handler2") == ("handler2", None)
    assert formrules.convert_person(who, "clerk") == (None, "请从担任“承办人”的人员中选择:张承办、赵承办")
    nobody = FormField("who", "承办人", "user", properties=(("role", "承办人"),))
    assert formrules.convert_person(nobody, "handler") == (None, "目前没有担任“承办人”的在职人员可选")
