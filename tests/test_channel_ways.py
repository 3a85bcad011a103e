"""具体途径 belongs to the chosen 受理渠道 (issue #17: a 走家入户 matter with 电子信箱/网站 went to
网上受理核实). The diagram declares it (`dependsOn` = channel, `when:<渠道>` = its 途径); the server refuses
a 途径 of another 渠道, and validation refuses a dependency that cannot hold."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram, forms
from engine.bpmn.forms import Choice, FormField
from engine.errors import InvalidInput
from tests.conftest import PROCESSES
from tests.minqing import Matter
from tests.tiny_diagrams import BPMN, CAMUNDA


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def test_a_way_of_another_channel_is_refused_next_to_the_field_and_nothing_is_started(line, staff):
    with pytest.raises(InvalidInput) as err:
        Matter(line, staff, channel="走家入户上门受理", channel_way="电子信箱/网站")
    assert err.value.fields == {"channel_way": "“电子信箱/网站” 不属于受理渠道“走家入户上门受理”;可选:民情信息员走访"}


def test_a_way_of_the_chosen_channel_is_accepted_and_the_clerk_registers_it(line, staff):
    m = Matter(line, staff, channel="走家入户上门受理", channel_way="民情信息员走访")
    assert m.waiting == ["UserTask_classify"], "a visit is not checked as an online submission"


def _form(field: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN}" xmlns:camunda="{CAMUNDA}" id="D" targetNamespace="http://minyi.test">
  <bpmn:process id="p" name="p" isExecutable="true" camunda:candidateStarterGroups="受理员">
    <bpmn:startEvent id="S"><bpmn:extensionElements><camunda:formData>
      <camunda:formField id="channel" label="受理渠道" type="enum"><camunda:value id="上门" name="上门"/>
        <camunda:value id="网上" name="网上"/></camunda:formField>
      {field}</camunda:formData></bpmn:extensionElements><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="E"><bpmn:incoming>F1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def _way(depends: str = "channel", whens: str = '<camunda:property id="when:上门" value="走访"/>'
         '<camunda:property id="when:网上" value="网站"/>') -> str:
    return (f'<camunda:formField id="way" label="具体途径" type="enum"><camunda:properties>'
            f'<camunda:property id="dependsOn" value="{depends}"/>{whens}</camunda:properties>'
            '<camunda:value id="走访" name="走访"/><camunda:value id="网站" name="网站"/></camunda:formField>')


def test_options_depending_on_another_field_are_deployable():
    assert diagram.problems_of(_form(_way()), "t.bpmn") == []


@pytest.mark.parametrize("field, says", [
    (_way(depends="chanel"), "dependsOn “chanel” 不是同一表单中的下拉字段"),
    (_way(whens='<camunda:property id="when:上门" value="走访,电话"/><camunda:property id="when:网上" value="网站"/>'),
     "列出的 “电话” 不是它的选项"),
    (_way(whens='<camunda:property id="when:来信" value="走访"/><camunda:property id="when:网上" value="网站"/>'),
     "“来信” 不是 “受理渠道” 的选项"),
    (_way(whens='<camunda:property id="when:上门" value="走访"/>'), "选项 “网站” 没有列在任何 when: 属性中"),
    (_way(depends=""), "表单字段 “way” 有 when: 属性,但没有写 dependsOn(依据哪个字段)"),
    (_way().replace('type="enum"', 'type="string"', 1).replace('<camunda:value id="走访" name="走访"/>'
                                                               '<camunda:value id="网站" name="网站"/>', ""),
     "表单字段 “way” 的 dependsOn 只用于下拉字段(enum)"),
    ('<camunda:formField id="note" label="说明" type="string"/>' + _way(depends="note"),
     "表单字段 “way” 的 dependsOn “note” 不是同一表单中的下拉字段"),
])
def test_a_dependency_that_cannot_hold_is_refused_at_validation(field, says):
    found = diagram.problems_of(_form(field), "t.bpmn")
    assert len(found) == 1 and found[0].element_id == "S" and says in found[0].message, found


def test_every_field_whose_dependency_cannot_hold_is_named_not_only_the_first():
    """A designer sees every problem of the form at once: a field depending on no enum field does not hide
    the next field's options listed under a channel the form does not have."""
    later = _way(whens='<camunda:property id="when:来信" value="走访"/><camunda:property id="when:网上" value="网站"/>')
    found = diagram.problems_of(_form(_way(depends="chanel") + later.replace('id="way"', 'id="way2"')), "t.bpmn")
    assert [p.message for p in found] == [
        "表单字段 “way” 的 dependsOn “chanel” 不是同一表单中的下拉字段",
        "表单字段 “way2” 的属性 when:来信 中的 “来信” 不是 “受理渠道” 的选项"], found


def test_the_options_of_one_channel_may_be_separated_by_a_chinese_comma():
    """A designer typing Chinese writes “走访，网站” (full-width comma) as well as “走访,网站”: both list
    two options."""
    for comma in ("，", ","):
        whens = (f'<camunda:property id="when:上门" value="走访{comma}网站"/>'
                 '<camunda:property id="when:网上" value="网站"/>')
        assert diagram.problems_of(_form(_way(whens=whens)), "t.bpmn") == []
        fields, _ = forms.parse_form(etree.fromstring(_form(_way(whens=whens))).find(".//{*}startEvent"))
        assert fields[1].offered_for("网站") == ("上门", "网上") and fields[1].offered_for("走访") == ("上门",)


WAY = FormField("way", "具体途径", "enum",
                choices=(Choice("走访", "走访"), Choice("电话", "电话"), Choice("网站", "网站")), depends_on="channel",
                option_parents=(("走访", ("上门",)), ("电话", ("上门",)), ("网站", ("网上",))))
CHANNEL = FormField("channel", "受理渠道", "enum", choices=(Choice("上门", "上门"), Choice("网上", "网上"),
                                                          Choice("来电", "来电")))


def test_a_refused_way_lists_every_way_of_the_chosen_channel_or_none():
    refused = forms.dependency_errors((CHANNEL, WAY), {"channel": "上门", "way": "网站"}, {})
    assert refused == {"way": "“网站” 不属于受理渠道“上门”;可选:走访、电话"}
    assert forms.dependency_errors((CHANNEL, WAY), {"channel": "来电", "way": "走访"}, {}) == {
        "way": "“走访” 不属于受理渠道“来电”;可选:无"}
    assert forms.dependency_errors((CHANNEL, WAY), {"channel": "上门", "way": "电话"}, {}) == {}


def test_the_channel_sent_counts_over_the_cases_and_one_sent_empty_leaves_the_cases():
    assert forms.dependency_errors((CHANNEL, WAY), {"channel": None, "way": "网站"}, {"channel": "上门"}) == {
        "way": "“网站” 不属于受理渠道“上门”;可选:走访、电话"}
    assert forms.dependency_errors((CHANNEL, WAY), {"channel": None, "way": "网站"}, {"channel": "网上"}) == {}
    assert forms.dependency_errors((CHANNEL, WAY), {"channel": "网上", "way": "网站"}, {"channel": "上门"}) == {}
    assert forms.dependency_errors((CHANNEL, WAY), {"channel": "上门", "way": "网站"}, {"channel": "网上"}) != {}
