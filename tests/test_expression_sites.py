"""Every expression of a diagram is checked at validation, and none fails silently on a case (issue #16).

The sites are one list (`engine/bpmn/sites.py`) that validation checks and the runtime evaluates by.
A publishing expression that fails on a case stops the step with a 422 naming the element and the
property; a deadline, requiredIf, default or 专项反馈 rule that fails is recorded on the case
(`expression_failed`), for auditors in the trace and for staff on the case page.
"""
from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn import diagram, sites
from engine.design import trial, workspace
from engine.errors import ExpressionError, InvalidInput
from engine.people import users
from engine.public import publications
from engine.work import casepages, cases, runtime
from tests.conftest import DATA, PASSWORD, deploy_file
from tests.tiny_diagrams import ATTACK, looped_subprocess, message_throw, one_lane_process

SITES = DATA / "expression_sites.bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"


def problems(xml: bytes) -> list:
    return diagram.problems_of(xml, "test.bpmn")


def with_step_expression(step_id: str, name: str, value: str) -> bytes:
    """The sample diagram with one attribute or property of a step set to `value`."""
    root = etree.fromstring(SITES.read_bytes())
    step = root.find(f".//{{{BPMN}}}userTask[@id='{step_id}']")
    if name in sites.STEP_ATTRIBUTES:
        step.set(f"{{{CAMUNDA}}}{name}", value)
    else:
        props = step.find(f"./{{{BPMN}}}extensionElements/{{{CAMUNDA}}}properties")
        found = props.find(f"./{{{CAMUNDA}}}property[@name='{name}']")
        if found is None:
            found = etree.SubElement(props, f"{{{CAMUNDA}}}property", name=name)
        found.set("value", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_the_sample_diagram_is_deployable():
    assert problems(SITES.read_bytes()) == []


@pytest.mark.parametrize("name", [*sites.STEP_ATTRIBUTES, *sites.STEP_PROPERTIES])
def test_every_expression_of_a_step_is_checked_at_validation(name):
    """`publishWhen`, `withdrawWhen`, `publishTitle`, `publishResult`, `publicityDays` were not checked:
    a diagram running Python there was “deployable” and its cases stuck at the step for ever."""
    found = problems(with_step_expression("Publish", name, ATTACK))
    assert [(p.element_id, sites.LABELS[name] in p.message, "不允许" in p.message) for p in found] == [
        ("Publish", True, True)]


@pytest.mark.parametrize("name, value, says", [
    ("dueDate", "${'下周'}", "不是日期、时刻或时长"),
    ("dueDate", "${[0] * 10**9}", "超出计算限制"),
    ("publicityDays", "${-3}", "0–3650"),
    ("publicityDays", "${'七天'}", "应为整数"),
    ("publishWhen", "${publish_flag}", "没有的字段 “publish_flag”"),
    ("answerLinkedCases", "${confirmd}", "没有的字段 “confirmd”"),
    ("dueDate", "${add_workdays(reply_dat, 3)}", "没有的字段 “reply_dat”"),
])
def test_what_validation_can_know_of_a_step_expression_is_told_to_the_designer(name, value, says):
    found = problems(with_step_expression("Answer", name, value))
    assert any(p.element_id == "Answer" and says in p.message and sites.LABELS[name] in p.message for p in found), found


def test_a_form_rule_reading_a_field_no_form_has_is_refused_with_its_line():
    xml = SITES.read_bytes().replace(b'config="${confirmed}"', b'config="${confirmd}"')
    [problem] = problems(xml)
    assert problem.element_id == "Answer" and problem.line
    assert "表单字段 “note” 的条件必填(requiredIf)引用了流程图中没有的字段 “confirmd”" in problem.message


@pytest.mark.parametrize("xml, label", [
    (one_lane_process(looped_subprocess(f"<bpmn:standardLoopCharacteristics><bpmn:loopCondition>{ATTACK}"
                                 "</bpmn:loopCondition></bpmn:standardLoopCharacteristics>")), "循环条件"),
    (one_lane_process(f"""<bpmn:intermediateCatchEvent id="T" name="等条件"><bpmn:incoming>F1</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing><bpmn:conditionalEventDefinition id="C">
      <bpmn:condition>{ATTACK}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>"""),
     "条件事件的条件"),
    (one_lane_process(*message_throw(ATTACK)), "消息关联表达式"),
])
def test_every_expression_the_engine_library_evaluates_is_checked_at_validation(xml, label):
    """Loop conditions, conditional events and message correlations were not checked; a message
    correlation was even run by the library's own `eval`."""
    assert any(label in p.message and "不允许" in p.message for p in problems(xml))


# --- failures on a real case --------------------------------------------------------------

@pytest.fixture
def started(db, staff, frozen_clock):
    deploy_file(db, SITES)
    return cases.start_case(db, staff["clerk"], "expression_sites", {"title": "路灯"})


def _view(db, staff, number):
    runtime.forget_all()
    return casepages.get_case(db, staff["auditor"], number)


def _failures(view) -> list[tuple[str, str, str]]:
    return [(e.data["element"], e.data["site"], e.data.get("field", "")) for e in view.history
            if e.kind == "expression_failed"]


def test_a_deadline_that_cannot_be_computed_is_recorded_on_the_case(db, staff, started):
    view = _view(db, staff, started.case_number)
    [answer] = view.open_steps
    assert answer.due_at is None
    assert _failures(view) == [("Answer", "dueDate", "")]
    [event] = [e for e in view.history if e.kind == "expression_failed"]
    assert event.step_id == "Answer" and event.actor == "system"
    assert event.data["expression"] == "add_days(reply_date, 3)"
    assert "reply_date" in event.data["message"] and event.data["effect"] == "本步骤没有办理期限"


def test_a_requiredIf_that_cannot_be_computed_makes_the_field_required_and_says_why(db, staff, started):
    task_id = _view(db, staff, started.case_number).open_steps[0].task_id
    with pytest.raises(InvalidInput) as err:
        cases.complete_task(db, staff["clerk"], task_id, {})
    assert err.value.fields["note"] == "此项为必填项(条件必填规则 confirmed 无法计算,按必填处理)"
    assert _failures(_view(db, staff, started.case_number)) == [("Answer", "dueDate", "")]  # nothing else kept
    cases.complete_task(db, staff["clerk"], task_id, {"note": "已答复"})
    assert _failures(_view(db, staff, started.case_number)) == [
        ("Answer", "dueDate", ""), ("Answer", "requiredIf", "note"), ("Answer", "defaultValue", "suggested"),
        ("Answer", "answerLinkedCases", "")]


def test_a_publishing_expression_that_fails_refuses_the_step_and_names_it(db, staff, started):
    cases.complete_task(db, staff["clerk"], _view(db, staff, started.case_number).open_steps[0].task_id,
                        {"note": "已答复"})
    task_id = _view(db, staff, started.case_number).open_steps[0].task_id
    with pytest.raises(ExpressionError) as err:
        cases.complete_task(db, staff["clerk"], task_id, {"days": "-5", "confirmed": "true"})
    assert err.value.status == 422
    assert "“Publish” 的公示天数(publicityDays)无效" in err.value.message and "0–3650" in err.value.message
    view = _view(db, staff, started.case_number)
    assert [s.step_id for s in view.open_steps] == ["Publish"] and view.data.get("days") is None
    assert publications.board(db).items == ()
    cases.complete_task(db, staff["clerk"], task_id, {"days": "7", "confirmed": "true"})
    [entry] = publications.board(db).items
    assert entry.title == "公示:路灯"


def test_a_trial_case_computes_its_publishing_expressions_too(db, staff, frozen_clock):
    """试运行 used to skip publishing, so a step that would stick on a real case passed the trial."""
    designer = users.create_user(db, "designer", PASSWORD, "周设计", ["流程设计人员"])
    draft = workspace.save_draft(db, designer, SITES.read_bytes(), "expression_sites.bpmn")
    number = trial.start(db, designer, draft.version_id, {"title": "试一试"}).case_number
    trial.complete_step(db, designer, trial.trial_case(db, designer, number).steps[0].task_id, {"note": "好"})
    task_id = trial.trial_case(db, designer, number).steps[0].task_id
    with pytest.raises(ExpressionError, match="“Publish” 的公示天数"):
        trial.complete_step(db, designer, task_id, {"days": "100000"})
    assert trial.complete_step(db, designer, task_id, {"days": "5"}).case_status == "completed"
    assert publications.board(db).items == ()
