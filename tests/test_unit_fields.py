"""Form fields that choose units (单位字段, issue #18): type `unit` stores one unit's id, with `multiple = true`
a list of ids; `level` limits the choices to the open units of that level. A page shows the units' names; a
submission naming a unit that was not offered is refused with a message on that field, and nothing is kept."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from engine import clock
from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram, forms
from engine.errors import InvalidInput
from engine.people import units
from engine.store.models import Unit
from engine.work import casepages, cases, formpages, tasklist
from tests.tiny_diagrams import BPMN, CAMUNDA

ONE = ('<camunda:formField id="dept" label="承办部门" type="unit"><camunda:properties>'
       '<camunda:property id="level" value="职能部门"/></camunda:properties></camunda:formField>')
SEVERAL = ('<camunda:formField id="depts" label="召集的职能部门" type="unit"><camunda:properties>'
           '<camunda:property id="level" value="职能部门"/><camunda:property id="multiple" value="true"/>'
           '</camunda:properties><camunda:validation><camunda:constraint name="required"/></camunda:validation>'
           '</camunda:formField>')
SHOWN = ('<camunda:formField id="dept" label="承办部门" type="unit"><camunda:properties>'
         '<camunda:property id="level" value="职能部门"/></camunda:properties><camunda:validation>'
         '<camunda:constraint name="readonly"/></camunda:validation></camunda:formField>')


def process(start_fields: str = ONE, task_fields: str = SHOWN + SEVERAL) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="paidan" name="派单试验" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:extensionElements><camunda:properties><camunda:property name="caseTitle" value="title"/>
      </camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="title" label="事项" type="string"/>{start_fields}</camunda:formData>
      </bpmn:extensionElements><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="U" name="召集" camunda:candidateGroups="受理员"><bpmn:extensionElements><camunda:formData>
      {task_fields}</camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="E"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="U"/>
    <bpmn:sequenceFlow id="F2" sourceRef="U" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def depts(db, staff) -> dict[str, int]:
    """区住建局 and 区城管局 open, 区水务局 closed, beside the default unit; 东岗街道 below it."""
    deployments.deploy(db, process(), "paidan.bpmn", SYSTEM)
    with db.write() as session:
        home = units.default_unit(session)
        made = {name: units.create_unit(session, "test", name, level, home, beside=level == "职能部门").id
                for name, level in (("区住建局", "职能部门"), ("区城管局", "职能部门"), ("区水务局", "职能部门"),
                                    ("东岗街道", "街道"))}
        session.execute(update(Unit).where(Unit.id == made["区水务局"]).values(closed_at=clock.now()))
    return made


def _start(db, staff, **values):
    return cases.start_case(db, staff["clerk"], "paidan", {"title": "主管道更换", **values})


def test_a_unit_field_offers_the_open_units_of_its_level_by_name(db, staff, depts):
    form = cases.start_form(db, staff["clerk"], "paidan").form
    [dept] = [f for f in form if f.id == "dept"]
    assert dept.widget == "select" and not dept.multiple and dept.unit_level == "职能部门"
    assert [(c.id, c.name) for c in dept.choices] == [(str(depts["区住建局"]), "区住建局"),
                                                      (str(depts["区城管局"]), "区城管局")]


def test_a_unit_field_without_a_level_offers_every_open_unit(db, staff, depts):
    with db.read() as session:
        names = [c.name for c in formpages.unit_choices(session, None)]
    assert names == ["本社区", "东岗街道", "区住建局", "区城管局"]


def test_two_units_of_one_name_are_told_apart_by_their_parent(db, staff, depts):
    with db.write() as session:
        units.create_unit(session, "test", "城管科", "职能部门", depts["东岗街道"], beside=True)
        other = units.create_unit(session, "test", "拱星墩街道", "街道", units.default_unit(session))
        units.create_unit(session, "test", "城管科", "职能部门", other.id, beside=True)
        names = [c.name for c in formpages.unit_choices(session, "职能部门")]
    assert names == ["城管科(东岗街道)", "城管科(拱星墩街道)", "区住建局", "区城管局"]


def test_the_chosen_unit_is_stored_as_its_id(db, staff, depts):
    started = _start(db, staff, dept=str(depts["区城管局"]))
    view = casepages.get_case(db, staff["auditor"], started.case_number)
    assert view.data["dept"] == depts["区城管局"]


@pytest.mark.parametrize("chosen, says", [
    ("东岗街道", "“{id}” 不是可选的职能部门;可选:区住建局、区城管局"),   # another level
    ("区水务局", "“{id}” 不是可选的职能部门;可选:区住建局、区城管局"),   # closed
    ("区住建局,区城管局", "只能选择一个单位"),                             # several where one belongs
])
def test_a_unit_that_was_not_offered_is_refused_naming_the_field(db, staff, depts, chosen, says):
    ids = [str(depts[name]) for name in chosen.split(",")]
    with pytest.raises(InvalidInput) as refused:
        _start(db, staff, dept=ids if len(ids) > 1 else ids[0])
    assert refused.value.fields == {"dept": says.format(id=ids[0])}
    assert refused.value.message.startswith("表单有 1 处需要修改:承办部门:")
    assert tasklist.tasks(db, staff["clerk"], "queue").total == 0


@pytest.mark.parametrize("raw", ["abc", "99999", "1.5", True])
def test_what_is_no_unit_id_at_all_is_refused(db, staff, depts, raw):
    with pytest.raises(InvalidInput) as refused:
        _start(db, staff, dept=raw)
    assert refused.value.fields["dept"].endswith("不是可选的职能部门;可选:区住建局、区城管局")


def test_a_field_of_several_units_stores_their_ids_in_the_order_offered_each_once(db, staff, depts):
    started = _start(db, staff, dept=str(depts["区住建局"]))
    [task] = started.new_tasks
    picked = [str(depts["区城管局"]), str(depts["区住建局"]), str(depts["区城管局"])]
    cases.complete_task(db, staff["clerk"], task.id, {"depts": picked})
    view = casepages.get_case(db, staff["auditor"], started.case_number)
    assert view.data["depts"] == [depts["区住建局"], depts["区城管局"]]


def test_a_field_of_several_units_takes_one_sent_alone(db, staff, depts):
    [task] = _start(db, staff).new_tasks
    cases.complete_task(db, staff["clerk"], task.id, {"depts": str(depts["区城管局"])})


@pytest.mark.parametrize("picked, says", [
    ([], "此项为必填项"),
    (["区住建局", "区水务局"], "“{id}” 不是可选的职能部门;可选:区住建局、区城管局"),
])
def test_a_field_of_several_units_is_refused_whole_when_one_is_not_offered(db, staff, depts, picked, says):
    [task] = _start(db, staff).new_tasks
    ids = [str(depts[name]) for name in picked]
    with pytest.raises(InvalidInput) as refused:
        cases.complete_task(db, staff["clerk"], task.id, {"depts": ids})
    assert refused.value.fields == {"depts": says.format(id=ids[-1] if ids else "")}
    assert [t.id for t in tasklist.tasks(db, staff["clerk"], "queue").items] == [task.id]


def test_the_task_page_shows_units_by_name_a_read_only_one_too(db, staff, depts):
    [task] = _start(db, staff, dept=str(depts["区住建局"])).new_tasks
    page = tasklist.get_task(db, staff["clerk"], task.id)
    shown, several = page.form
    assert shown.readonly and shown.named(page.values["dept"]) == "区住建局"
    assert several.widget == "checkboxes" and [c.name for c in several.choices] == ["区住建局", "区城管局"]
    assert several.named([depts["区城管局"], depts["区住建局"]]) == "区住建局、区城管局"
    assert several.picked([depts["区城管局"]]) == {str(depts["区城管局"])}


@pytest.mark.parametrize("field, says", [
    ('<camunda:formField id="x" label="x" type="string"><camunda:properties><camunda:property id="level" '
     'value="职能部门"/></camunda:properties></camunda:formField>',
     "表单字段 “x” 的属性 level 只用于单位字段(type = unit)"),
    ('<camunda:formField id="x" label="x" type="enum"><camunda:value id="a" name="a"/><camunda:properties>'
     '<camunda:property id="multiple" value="true"/></camunda:properties></camunda:formField>',
     "表单字段 “x” 的属性 multiple 只用于单位字段(type = unit)"),
    ('<camunda:formField id="x" label="x" type="unit"><camunda:properties><camunda:property id="multiple" '
     'value="多个"/></camunda:properties></camunda:formField>',
     "单位字段 “x” 的属性 multiple 只能是 true(可选多个单位)或 false"),
    ('<camunda:formField id="x" label="x" type="unit"><camunda:properties><camunda:property id="level" '
     'value=" "/></camunda:properties></camunda:formField>',
     "单位字段 “x” 的属性 level 为空;请写单位层级,例如 职能部门,或删去该属性"),
    ('<camunda:formField id="x" label="x" type="unit" defaultValue="3"/>',
     "单位字段 “x” 不能有默认值:各地的单位不同,请由办理人选择"),
])
def test_a_unit_field_drawn_wrong_is_refused_at_validation(field, says):
    found = diagram.problems_of(process(start_fields=field), "t.bpmn")
    assert [p.message for p in found] == [says]


def test_unit_is_a_known_field_type():
    assert "unit" in forms.TYPES
    assert diagram.problems_of(process(), "t.bpmn") == []
