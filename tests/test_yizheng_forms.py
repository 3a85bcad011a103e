"""The three generic form features 一征三议两公开 needed: validIf, list="lines" and appendTo."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn import forms
from engine.errors import InvalidInput

HEAD = ('<bpmn:userTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="T"><bpmn:extensionElements><camunda:formData>')
TAIL = "</camunda:formData></bpmn:extensionElements></bpmn:userTask>"


def parse(fields_xml: str):
    return forms.parse_form(etree.fromstring(HEAD + fields_xml + TAIL))


VOTES = parse(
    '<camunda:formField id="present" label="实到" type="long" />'
    '<camunda:formField id="votes_for" label="赞成" type="long" />'
    '<camunda:formField id="abstain" label="弃权" type="long">'
    '<camunda:properties><camunda:property id="validIfMessage" value="赞成与弃权之和须等于实到" /></camunda:properties>'
    '<camunda:validation><camunda:constraint name="validIf" config="${votes_for + abstain == present}" />'
    '</camunda:validation></camunda:formField>')[0]


def test_validIf_accepts_values_that_satisfy_the_rule():
    assert forms.validate(VOTES, {"present": "5", "votes_for": "4", "abstain": "1"}, {}) == {
        "present": 5, "votes_for": 4, "abstain": 1}


def test_validIf_attaches_the_designers_message_to_its_field():
    with pytest.raises(InvalidInput) as err:
        forms.validate(VOTES, {"present": "5", "votes_for": "4", "abstain": "0"}, {})
    assert err.value.fields == {"abstain": "赞成与弃权之和须等于实到"}


def test_validIf_that_cannot_be_evaluated_does_not_pass():
    with pytest.raises(InvalidInput) as err:
        forms.validate(VOTES, {"present": "5", "abstain": "1"}, {})
    assert set(err.value.fields) == {"abstain"}


def test_an_unsafe_validIf_is_reported_when_the_diagram_is_loaded():
    _, problems = parse('<camunda:formField id="x" label="X" type="long"><camunda:validation>'
                        '<camunda:constraint name="validIf" config="${x.__class__}" /></camunda:validation>'
                        '</camunda:formField>')
    assert problems and "validIf" in problems[0][2]


def test_a_list_of_lines_field_keeps_one_item_per_non_empty_line():
    fields, problems = parse('<camunda:formField id="items" label="事项" type="string"><camunda:properties>'
                             '<camunda:property id="list" value="lines" /></camunda:properties></camunda:formField>')
    assert problems == [] and fields[0].widget == "textarea"
    assert forms.validate(fields, {"items": " 甲 \n\n乙\r\n"}, {}) == {"items": ["甲", "乙"]}
    assert forms.default_values(fields, {"items": ["甲", "乙"]}) == {"items": "甲\n乙"}


def test_appendTo_adds_one_record_per_completion():
    fields, problems = parse(
        '<camunda:formField id="content" label="意见" type="string"><camunda:properties>'
        '<camunda:property id="appendTo" value="opinions" /></camunda:properties></camunda:formField>'
        '<camunda:formField id="done" label="结束" type="boolean" />')
    assert problems == []
    first = forms.appended(fields, {"content": "甲", "done": False}, {})
    assert first == {"opinions": [{"content": "甲"}]}
    assert forms.appended(fields, {"content": "乙"}, first) == {"opinions": [{"content": "甲"}, {"content": "乙"}]}
    assert forms.appended(fields, {"content": None}, first) == {}


def test_appendTo_may_not_name_a_field_of_the_same_form():
    _, problems = parse('<camunda:formField id="a" label="A" type="string"><camunda:properties>'
                        '<camunda:property id="appendTo" value="a" /></camunda:properties></camunda:formField>')
    assert problems and "appendTo" in problems[0][2]


AMOUNT = parse('<camunda:formField id="amount" label="金额" type="double" />')[0]


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999"])
def test_a_number_field_refuses_values_that_are_not_finite(text):
    with pytest.raises(InvalidInput) as refused:
        forms.validate(AMOUNT, {"amount": text}, {})
    assert refused.value.fields == {"amount": "请输入数字"}
    assert forms.validate(AMOUNT, {"amount": "12.5"}, {}) == {"amount": 12.5}
