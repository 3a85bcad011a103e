"""Validation of uploaded diagrams: every problem is named by element, line and a sentence."""
from __future__ import annotations

import pytest

from engine.bpmn import diagram
from engine.errors import DiagramInvalid
from tests.conftest import DATA, PROCESSES

APPROVAL = (DATA / "approval.bpmn").read_bytes()


def problems(xml: bytes) -> list:
    return diagram.problems_of(xml, "test.bpmn")


def test_the_sample_diagram_is_deployable():
    assert problems(APPROVAL) == []


def test_xxe_is_refused_without_reading_the_file():
    xml = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&x;</bpmn:definitions>"""
    found = problems(xml)
    assert len(found) == 1 and "DOCTYPE" in found[0].message
    assert "root:" not in str(found[0])


def test_billion_laughs_is_refused():
    entities = "".join(f'<!ENTITY l{i} "&l{i-1};&l{i-1};&l{i-1};&l{i-1};&l{i-1};">' for i in range(1, 10))
    xml = f"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "ha">{entities}]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&l9;</bpmn:definitions>"""
    found = problems(xml.encode())
    assert len(found) == 1 and "实体" in found[0].message


def test_malformed_xml_names_the_line():
    found = problems(b"<?xml version='1.0'?>\n<bpmn:definitions>\n<oops>\n</bpmn:definitions>")
    assert found[0].line in (2, 3, 4) and "XML 格式错误" in found[0].message


def test_not_bpmn_is_refused():
    found = problems(b"<html><body>hi</body></html>")
    assert "不是 BPMN 2.0 文件" in found[0].message


def _replace(old: str, new: str) -> bytes:
    text = APPROVAL.decode()
    assert old in text
    return text.replace(old, new).encode()


def test_script_task_is_refused():
    xml = _replace('<bpmn:endEvent id="EndNo" name="不同意">',
                   '<bpmn:scriptTask id="Evil" name="坏脚本"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
                   '<bpmn:endEvent id="EndNo" name="不同意">')
    found = problems(xml)
    assert any(p.element_id == "Evil" and "脚本任务" in p.message for p in found)
    assert all(p.line for p in found)


def test_listener_with_script_is_refused():
    xml = _replace('<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">\n      <bpmn:extensionElements>',
                   '<bpmn:userTask id="Review" name="审核" camunda:dueDate="P2D">\n      <bpmn:extensionElements>'
                   '<camunda:taskListener event="create"><camunda:script scriptFormat="groovy">x</camunda:script>'
                   '</camunda:taskListener>')
    found = problems(xml)
    assert any(p.element_id == "Review" and "监听器" in p.message for p in found)


def test_code_in_a_condition_is_refused_at_validation():
    xml = _replace('${decision == "同意"}', "${__import__('os').system('id')}")
    found = problems(xml)
    assert any(p.element_id == "F_ok" and "不允许访问属性" in p.message for p in found)


def test_gateway_branch_without_condition_or_default():
    xml = _replace('default="F_no"', "")
    found = problems(xml)
    assert [(p.element_id, p.element_name) for p in found] == [("F_no", "")]
    assert "没有条件" in found[0].message and found[0].line


def test_user_task_without_role():
    xml = _replace("<bpmn:flowNodeRef>Review</bpmn:flowNodeRef>", "")
    found = problems(xml)
    assert any(p.element_id == "Review" and p.element_name == "审核" and "负责角色" in p.message for p in found)


@pytest.mark.parametrize("field, says", [
    ('<camunda:formField id="2bad" label="x" type="string"/>', "不合法"),
    ('<camunda:formField id="title" label="重复" type="string"/>', "重复"),
    ('<camunda:formField id="f" label="x" type="color"/>', "不受支持"),
    ('<camunda:formField id="f" label="x" type="enum"/>', "没有任何选项"),
    ('<camunda:formField id="f" label="x" type="long"><camunda:validation>'
     '<camunda:constraint name="max" config="many"/></camunda:validation></camunda:formField>', "需要数字"),
    ('<camunda:formField id="f" label="x" type="string"><camunda:validation>'
     '<camunda:constraint name="requiredIf" config="${x.y}"/></camunda:validation></camunda:formField>', "requiredIf"),
])
def test_malformed_form_fields(field, says):
    xml = _replace('<camunda:formField id="amount"', field + '<camunda:formField id="amount"')
    found = problems(xml)
    assert any(p.element_id == "StartEvent_1" and says in p.message for p in found), found


def test_reserved_ids_are_explained():
    xml = APPROVAL.decode().replace("StartEvent_1", "Start").encode()
    assert any("保留名称" in p.message for p in problems(xml))


def test_invalid_diagram_raises_with_every_problem():
    xml = _replace('default="F_no"', "").decode().replace("<bpmn:flowNodeRef>Review</bpmn:flowNodeRef>", "").encode()
    with pytest.raises(DiagramInvalid) as err:
        diagram.inspect(xml, "x.bpmn")
    assert len(err.value.problems) == 2
    assert "x.bpmn:" in err.value.message


@pytest.mark.parametrize("old, new, element_id, says", [
    ('sourceRef="StartEvent_1"', 'sourceRef="Nowhere"', "F1", "“Nowhere”(sourceRef)"),
    ('targetRef="EndOk"', 'targetRef="EndYes"', "F_ok", "“EndYes”(targetRef)"),
    ('default="F_no"', 'default="F_none"', "Gw", "“F_none”(default)"),
    ("<bpmn:flowNodeRef>Gw</bpmn:flowNodeRef>", "<bpmn:flowNodeRef>Gateway</bpmn:flowNodeRef>", "Lane_b",
     "“Gateway”(flowNodeRef)"),
    ("<bpmn:incoming>F2</bpmn:incoming>", "<bpmn:incoming>F3</bpmn:incoming>", "Gw", "“F3”(incoming)"),
])
def test_a_reference_to_an_id_that_is_not_in_the_file_is_refused(old, new, element_id, says):
    """A reference by id that names nothing is dropped by the modeler on save: refused, naming it and its line."""
    xml = _replace(old, new)
    line = xml.decode()[: xml.decode().index(new)].count("\n") + 1
    found = [p for p in problems(xml) if "无法解析" in p.message]
    assert [(p.element_id, p.line) for p in found] == [(element_id, line)]
    assert says in found[0].message and "建模器保存时会丢掉" in found[0].message


def test_a_multi_instance_over_a_case_variable_must_declare_it():
    """简易程序 resolves items one by one over the case variable `items`; the reference needs a declaration
    (bpmn:property id="items"), or a modeler drops it and the diagram no longer says what to iterate over."""
    source = (PROCESSES / "yizheng_jianyi.bpmn").read_text(encoding="utf-8")
    assert problems(source.encode()) == []
    start = source.index('<bpmn:property id="items"')
    end = source.index("</bpmn:property>", start) + len("</bpmn:property>")
    undeclared = (source[:start] + source[end:]).encode()
    [found] = problems(undeclared)
    assert found.element_id == "SubProcess_items" and found.element_name == "逐项决议"
    line = undeclared.decode().splitlines()[found.line - 1]
    assert line.strip().startswith("<bpmn:multiInstanceLoopCharacteristics>")
    assert "“items”(loopDataInputRef)无法解析" in found.message
    assert '<bpmn:property id="items" name="items" />' in found.message


def test_a_reference_through_a_namespace_prefix_resolves():
    """QName references may carry a prefix (tns:Msg); the id is what follows it."""
    xml = _replace('<bpmn:process id="approval"', '<bpmn:message id="Msg" name="m"/><bpmn:process id="approval"')
    xml = xml.decode().replace(
        '<bpmn:startEvent id="StartEvent_1" name="登记">',
        '<bpmn:startEvent id="StartEvent_1" name="登记" xmlns:tns="http://minyi.test">'
        '<bpmn:messageEventDefinition id="Med" messageRef="tns:Msg"/>').encode()
    assert not [p for p in problems(xml) if "无法解析" in p.message]
