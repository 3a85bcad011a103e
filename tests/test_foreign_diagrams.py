"""Diagrams from other modelling tools (ADONIS, GenMyModel, ARIS, Activiti, …): each is accepted and
runs, or is refused with Chinese messages that name the element or the line; what the libraries say
in English is translated in one place (engine/bpmn/messages.py), and another tool's way of writing a
reference never costs a diagram its drawing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.actor import SYSTEM, Actor
from engine.bpmn import bpmngraph, deployments, diagram, expressions, foreign, messages
from engine.bpmn.spiff import StepFailed
from engine.design import workspace
from engine.errors import ExpressionError
from engine.work import cases, tasklist
from tests.conftest import DATA

APPROVAL = (DATA / "approval.bpmn").read_bytes()
MIWG = DATA / "miwg"
EXPORTS = sorted(MIWG.rglob("*.bpmn"))
GENMYMODEL = MIWG / "GenMyModel 0.47" / "A.1.0-export.bpmn"
ADONIS = MIWG / "ADONIS 17.0" / "A.1.0-export.bpmn"
DESIGNER = Actor(0, "designer", "周设计", frozenset({"流程设计人员"}), grants=frozenset({("流程设计人员", 1)}),
                 scope=None)
ANYONE = Actor(1, "tester", "测试", frozenset({"测试"}), grants=frozenset({("测试", 1)}), scope=None)


def english(message: str) -> str | None:
    """Three English words in a row outside quotes, element names and attribute values: a library's
    sentence that reached the user untranslated. (An expression error ends with the designer's own
    expression, shown as written.)"""
    message = re.sub(r"(表达式语法错误\(第 \d+ 个字符\)): .*", r"\1", message, flags=re.S)
    bare = re.sub(r"“[^”]*”|\"[^\"]*\"|<[^>]*>|\{[^}]*\}\w+|\w+:\w+|\([^()]*[A-Za-z][^()]*\)", " ", message)
    found = re.search(r"[A-Za-z]{2,}(?:[ ,.;'-]+[A-Za-z]{2,}){2,}", bare)
    return found.group(0) if found else None


def with_roles(xml: bytes, tag: bytes) -> bytes:
    """Another tool's export with a role on each plain task, as a designer gives them after uploading it."""
    return xml.replace(tag, tag + b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
                       + 'camunda:candidateGroups="测试" '.encode())


def genmymodel_with_roles() -> bytes:
    return with_roles(GENMYMODEL.read_bytes(), b"<bpmn2:task ")


def problems(xml: bytes) -> list:
    return deployments.problems_of_file(xml, "test.bpmn")


def _approval(old: str, new: str) -> bytes:
    text = APPROVAL.decode()
    assert old in text
    return text.replace(old, new).encode()


# --- extension elements are refused by namespace, not by local name ---------------------------

def test_another_tools_connector_metadata_is_not_a_camunda_connector():
    """ADONIS writes `adonis:connector` on every sequence flow; it runs nothing and is accepted."""
    xml = _approval('<bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Review"/>',
                    '<bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Review">'
                    '<bpmn:extensionElements><adonis:connector xmlns:adonis="http://www.boc-group.com" '
                    'instance="F1"/></bpmn:extensionElements></bpmn:sequenceFlow>')
    assert problems(xml) == []


def test_the_adonis_export_is_refused_for_what_it_lacks_not_for_its_metadata():
    """Its one process is marked not executable and its tasks have no role: both said at once, in Chinese;
    with those two put right, as a designer would, it is accepted."""
    xml = ADONIS.read_bytes()
    assert b"<adonis:connector" in xml
    found = problems(xml)
    assert (found[0].element_id, found[0].line) == ("process_f88c25a7-ff33-4fc8-bbcd-8f3b748519ef", 22)
    assert "不可执行" in found[0].message
    assert {p.message for p in found[1:]} == {"任务没有负责角色:请把它放进一个泳道,或填写 candidateGroups"}
    assert not [p for p in found if "连接器" in p.message]
    executable = xml.replace(b'isExecutable="false"', b'isExecutable="true"')
    assert problems(with_roles(executable, b"<task ")) == []


def test_a_camunda_connector_is_still_refused_at_its_element():
    xml = _approval('<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">\n      <bpmn:extensionElements>',
                    '<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">\n      <bpmn:extensionElements>'
                    '<camunda:connector><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector>')
    found = problems(xml)
    assert [(p.element_id, p.message) for p in found] == [("Review", "连接器(camunda:connector)暂不支持")]


def test_a_listener_in_the_old_activiti_namespace_is_refused_like_a_camunda_one():
    """Camunda 7 reads its Activiti namespace too (the Camunda Eclipse plugin writes it), so such a
    listener would run code there: it is refused here as well."""
    xml = _approval('<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">\n      <bpmn:extensionElements>',
                    '<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">\n      <bpmn:extensionElements>'
                    '<activiti:executionListener xmlns:activiti="http://activiti.org/bpmn" event="start" '
                    'class="org.example.Evil"/>')
    assert [p.element_id for p in problems(xml)] == ["Review"]


def test_a_form_field_may_be_called_like_a_reserved_element_id():
    """The reserved ids (Start, End) are names of BPMN elements; a form field is not one."""
    xml = _approval('<camunda:formField id="reason" label="理由"', '<camunda:formField id="End" label="理由"')
    assert not [p for p in problems(xml) if "保留" in p.message]


# --- a plain task (what most tools draw) is a step people do ------------------------------------

def test_a_plain_task_is_a_step_of_its_lane(db, staff):
    """SpiffWorkflow waits for a person at a task drawn without a type; its lane says whose it is."""
    xml = _approval('<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">',
                    '<bpmn:task id="Review" name="审核">')
    deployments.deploy(db, xml.replace(b"</bpmn:userTask>", b"</bpmn:task>"), "approval.bpmn", SYSTEM)
    started = cases.start_case(db, staff["clerk"], "approval", {"title": "路灯不亮"})
    assert [(t.step_name, t.roles) for t in started.new_tasks] == [("审核", ("社区负责人",))]
    assert tasklist.tasks(db, staff["leader"], "queue").total == 1
    done = cases.complete_task(db, staff["leader"], started.new_tasks[0].id, {"decision": "同意"})
    assert done.case_status == "completed"


def test_plain_tasks_outside_any_lane_are_refused_like_user_tasks():
    found = problems((MIWG / "Yaoqiang BPMN Editor 4.0" / "A.1.0-export.bpmn").read_bytes())
    assert [(p.element_id, p.line) for p in found] == [("_3", 11), ("_5", 16), ("_7", 21)]
    assert {p.message for p in found} == {"任务没有负责角色:请把它放进一个泳道,或填写 candidateGroups"}


# --- the libraries' English is translated, at the element and line ----------------------------

def test_a_process_marked_not_executable_is_explained_in_chinese_at_its_line():
    found = problems(_approval('isExecutable="true"', 'isExecutable="false"'))
    assert [(p.element_id, p.line) for p in found] == [("approval", 3)]
    assert "不可执行" in found[0].message and not english(found[0].message)


def test_a_file_without_an_executable_process_names_its_processes_at_the_first():
    text = APPROVAL.decode().replace('isExecutable="true"', 'isExecutable="false"')
    text = text.replace("</bpmn:definitions>", '<bpmn:process id="other" isExecutable="false"/></bpmn:definitions>')
    found = problems(text.encode())
    assert [(p.element_id, p.line) for p in found] == [("approval", 3)]
    assert "approval、other" in found[0].message and not english(found[0].message)


def test_a_subprocess_without_a_start_event_is_explained_in_chinese():
    found = problems(with_roles((MIWG / "ARIS 10.2025.07" / "A.3.0-export.bpmn").read_bytes(), b"<semantic:task "))
    assert [(p.element_id, p.line) for p in found] == [("ID-7b6da09c-70be-11e9-69f8-f48e38b53512", 11)]
    assert found[0].message == "子流程必须有且只有一个开始事件(startEvent),这里有 0 个"


def test_malformed_xml_is_explained_in_chinese_with_line_and_column():
    found = problems(b"<?xml version='1.0'?>\n<bpmn:definitions xmlns:bpmn='x'>\n<a>\n</b>\n</bpmn:definitions>")
    assert found[0].line == 4
    assert found[0].message == "XML 格式错误(第 4 行第 5 列): 开始标签 <a>(第 3 行)与结束标签 </b> 不匹配"


def test_a_schema_violation_is_explained_in_chinese_at_its_element():
    found = problems(_approval('<bpmn:userTask id="Review" name="审核"',
                               '<bpmn:userTask id="Review" name="审核" colour="red"'))
    assert [(p.element_id, p.line) for p in found] == [("Review", 18)]
    assert found[0].message == "不符合 BPMN 2.0 规范(XSD): 元素 bpmn:userTask 不允许有属性 colour"


def test_a_gateway_whose_conditions_all_fail_stops_the_step_in_chinese(db, staff):
    xml = _approval('<bpmn:exclusiveGateway id="Gw" name="结论?" default="F_no">',
                    '<bpmn:exclusiveGateway id="Gw" name="结论?">')
    xml = xml.replace(b'<bpmn:sequenceFlow id="F_no" sourceRef="Gw" targetRef="EndNo"/>',
                      '<bpmn:sequenceFlow id="F_no" sourceRef="Gw" targetRef="EndNo"><bpmn:conditionExpression '
                      'xsi:type="bpmn:tFormalExpression">decision == "驳回"</bpmn:conditionExpression>'
                      '</bpmn:sequenceFlow>'.encode())
    deployments.deploy(db, xml, "approval.bpmn", SYSTEM)
    started = cases.start_case(db, staff["clerk"], "approval", {"title": "路灯"})
    with pytest.raises(StepFailed) as failed:
        cases.complete_task(db, staff["leader"], started.new_tasks[0].id, {"decision": "不同意", "reason": "没有预算"})
    assert "网关 “Gw” 的所有分支条件都不成立" in failed.value.message and not english(failed.value.message)


@pytest.mark.parametrize("original", [
    "Process WFP-6- is not executable.",
    "Exactly one start event is required in a SubWorkflow Task; found 2.",
    "A multiinstance task must specify exactly one of cardinality or loop input data reference",
    "When looking for a task spec, we found two items, perhaps a form has the same ID? (Task_1)",
    "No conditions satisfied for Gateway_1",
    "Multiinstance data input must be iterable",
    "Time Specification Error. Unable to parse 'P3X'",
    "Something SpiffWorkflow may say one day",
])
def test_every_spiffworkflow_message_comes_out_in_chinese(original):
    assert not english(messages.library(original))


@pytest.mark.parametrize("original", [
    "Premature end of data in tag definitions line 2, line 9, column 1",
    "Namespace prefix bpmn2 on task is not defined, line 4, column 30",
    "Input is not proper UTF-8, indicate encoding !\nBytes: 0xE9 0x74 0x61 0x70, line 3, column 12",
    "Something libxml2 may say one day, line 1, column 1",
])
def test_every_xml_syntax_message_comes_out_in_chinese(original):
    assert not english(messages.xml_syntax(original))


@pytest.mark.parametrize("original", [
    "Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}process', attribute 'processType': [facet "
    "'enumeration'] The value 'Private ' is not an element of the set {'None', 'Public', 'Private'}.",
    "Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}incoming': This element is not expected. "
    "Expected is ( {http://www.omg.org/spec/BPMN/20100524/MODEL}eventDefinitionRef ).",
    "Element '{http://www.omg.org/spec/BPMN/20100524/MODEL}task', attribute 'id': 'Task 1' is not a valid "
    "value of the atomic type 'xs:ID'.",
    "Element '{http://example.com}odd': Something the schema checker may say one day.",
])
def test_every_schema_message_comes_out_in_chinese(original):
    assert not english(messages.schema(original))


@pytest.mark.parametrize("expression, says", [
    ("1 / zero", "除数为零"),
    ("title + 1", "数据类型不匹配"),
    ('int(word)', "取值无效"),
])
def test_an_expression_failing_on_real_data_says_why_in_chinese(expression, says):
    with pytest.raises(ExpressionError) as failed:
        expressions.evaluate(expression, {"zero": 0, "title": "路灯", "word": "十"})
    assert failed.value.message == f"表达式求值失败({says}" + failed.value.message.split(says, 1)[1]
    assert failed.value.message.endswith(f"): {expression}") and not english(failed.value.message)


def test_an_expression_that_fails_without_case_data_is_refused_before_it_runs_in_chinese():
    """A constant part that cannot be computed is known at validation: the message names the part."""
    with pytest.raises(ExpressionError) as failed:
        expressions.check('int("十") + count')
    assert failed.value.message.startswith("表达式中的 “int(\"十\")” 无法计算:表达式求值失败(取值无效")
    assert not english(failed.value.message)


# --- drawings written with prefixed references --------------------------------------------------

def test_prefixed_drawing_references_are_written_as_plain_ids():
    original = GENMYMODEL.read_bytes()
    assert b'bpmnElement="bpmn2:_sSUQVB8nEeW9keBtFZy97Q"' in original
    normalised = foreign.normalise(original, GENMYMODEL.name)
    assert b'bpmnElement="bpmn2:' not in normalised
    assert b'bpmnElement="_sSUQVB8nEeW9keBtFZy97Q"' in normalised
    assert foreign.normalise(APPROVAL) is APPROVAL  # an ordinary file keeps its bytes (and its hash)


def test_a_genmymodel_diagram_is_deployed_with_its_drawing(sqlite_db):
    version, _ = deployments.deploy(sqlite_db, genmymodel_with_roles(), GENMYMODEL.name, SYSTEM)
    with sqlite_db.read() as session:
        stored = deployments.diagram_of(session, version.id)
    graph = bpmngraph.parse(stored.xml)
    assert {s.element_id for s in graph.shapes} == set(graph.nodes) and len(graph.shapes) == 5
    assert {e.flow_id for e in graph.edges} == set(graph.flows) and len(graph.edges) == 4
    assert cases.start_case(sqlite_db, ANYONE, version.process_id, {}).case_number


def test_the_auditors_diagram_draws_a_version_stored_with_prefixed_references():
    """Versions deployed before normalising existed keep their `bpmn2:` references; the trace still draws them."""
    graph = bpmngraph.parse(GENMYMODEL.read_bytes())
    assert len(graph.shapes) == 5 and len(graph.edges) == 4


def test_a_genmymodel_upload_opens_in_the_modeler_with_plain_references():
    opened = workspace.open_upload(DESIGNER, GENMYMODEL.read_bytes(), GENMYMODEL.name)
    assert b'bpmnElement="bpmn2:' not in opened.xml and b'bpmnElement="_sSUQWh8nEeW9keBtFZy97Q"' in opened.xml


def test_a_shape_of_an_element_that_does_not_exist_is_a_problem_at_its_line():
    xml = _approval("</bpmn:definitions>", """<bpmndi:BPMNDiagram id="D" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
 xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"><bpmndi:BPMNPlane id="P" bpmnElement="approval">
<bpmndi:BPMNShape id="Gone_di" bpmnElement="bpmn:Gone">
<dc:Bounds x="1" y="1" width="10" height="10"/></bpmndi:BPMNShape>
</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>""")
    found = problems(xml)
    assert [(p.element_id, p.line) for p in found] == [("Gone_di", 35)]
    assert "“bpmn:Gone” 在文件中不存在" in found[0].message


# --- every tool's export we keep: accepted and runs, or refused clearly --------------------------

@pytest.mark.parametrize("path", EXPORTS, ids=lambda p: str(p.relative_to(MIWG)))
def test_an_export_of_another_tool_runs_or_is_refused_in_chinese_at_an_element_or_line(path: Path, sqlite_db):
    found = problems(path.read_bytes())
    for problem in found:
        assert problem.element_id or problem.line, problem
        assert not english(problem.message), problem
    if not found:
        version, _ = deployments.deploy(sqlite_db, path.read_bytes(), path.name, SYSTEM)
        assert cases.start_case(sqlite_db, ANYONE, version.process_id, {}).case_number
        with sqlite_db.read() as session:
            stored = deployments.diagram_of(session, version.id).xml
        assert diagram.problems_of(stored, path.name) == []  # what is stored needs no more normalising
