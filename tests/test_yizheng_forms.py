"""The three generic form features 一征三议两公开 needed: validIf, list="lines" and appendTo."""
from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn import forms, sites
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


# --- what each field type accepts, and the limits and rules every form has ----------------------------

def F(fid: str, ftype: str = "string", **kw) -> forms.FormField:  # noqa: N802 — reads like the dataclass
    return forms.FormField(fid, kw.pop("label", fid), ftype, **kw)


def refused(fields, submitted: dict, data: dict | None = None) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        forms.validate(fields, submitted, data or {})
    return err.value.fields


@pytest.mark.parametrize("sent, kept", [
    (True, True), (False, False), (None, False), ("是", True), ("否", False), (" Yes ", True), ("ON", True),
    ("1", True), ("true", True), ("0", False), ("off", False), ("No", False), ("", False),
])
def test_a_checkbox_takes_yes_and_no_in_every_usual_spelling_and_left_out_is_no(sent, kept):
    assert forms.validate((F("ok", "boolean"),), {"ok": sent} if sent is not None else {}, {}) == {"ok": kept}


def test_a_checkbox_refuses_anything_else():
    assert refused((F("ok", "boolean"),), {"ok": "也许"}) == {"ok": "请选择“是”或“否”"}


@pytest.mark.parametrize("sent, kept", [
    ("12", 12), (" -7 ", -7), (12, 12), (12.0, 12), (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63)),
])
def test_a_whole_number_is_taken_within_64_bits(sent, kept):
    assert forms.validate((F("n", "long"),), {"n": sent}, {}) == {"n": kept}


@pytest.mark.parametrize("sent, says", [
    ("12.5", "请输入整数"), (12.5, "请输入整数"), (True, "请输入整数"), ("十二", "请输入整数"),
    (2**63, "整数超出范围(须在 ±9223372036854775807 之内)"),
    (-(2**63) - 1, "整数超出范围(须在 ±9223372036854775807 之内)"),
])
def test_a_whole_number_refuses_fractions_words_and_what_64_bits_cannot_hold(sent, says):
    assert refused((F("n", "long"),), {"n": sent}) == {"n": says}


def test_a_number_refuses_true_and_false_and_words():
    assert refused((F("x", "double"), F("y", "double")), {"x": True, "y": "十二"}) == {"x": "请输入数字",
                                                                                     "y": "请输入数字"}
    assert forms.validate((F("x", "double"),), {"x": 3}, {}) == {"x": 3.0}


@pytest.mark.parametrize("sent, kept", [("2026-11-23", "2026-11-23"), (" 2026-11-23 ", "2026-11-23"),
                                        ("2026-11-23T18:30", "2026-11-23")])
def test_a_date_is_kept_as_its_day(sent, kept):
    assert forms.validate((F("d", "date"),), {"d": sent}, {}) == {"d": kept}


def test_a_date_refuses_a_day_that_does_not_exist():
    assert refused((F("d", "date"),), {"d": "2026-02-30"}) == {"d": "请输入日期(年-月-日)"}


def test_an_option_not_offered_is_refused_naming_every_option():
    kind = F("kind", "enum", choices=(forms.Choice("a", "即办件"), forms.Choice("b", "承诺件")))
    assert forms.validate((kind,), {"kind": "b"}, {}) == {"kind": "b"}
    assert refused((kind,), {"kind": "c"}) == {"kind": "“c” 不是可选项之一:即办件、承诺件"}
    assert refused((kind,), {"kind": "长" * 50}) == {"kind": f"“{'长' * 40}” 不是可选项之一:即办件、承诺件"}


def test_text_and_numbers_hold_the_limits_the_diagram_sets_and_values_on_them_pass():
    fields = (F("name", min_length=2), F("n", "long", minimum=1.0, maximum=10.0), F("x", "double", minimum=0.5))
    assert forms.validate(fields, {"name": "王五", "n": "1", "x": "0.5"}, {}) == {"name": "王五", "n": 1, "x": 0.5}
    assert forms.validate(fields, {"name": "王五", "n": "10", "x": "9"}, {})["n"] == 10
    assert refused(fields, {"name": "王", "n": "0", "x": "0.4"}) == {"name": "至少 2 个字", "n": "不能小于 1",
                                                                   "x": "不能小于 0.5"}
    assert refused(fields, {"name": "王五", "n": "11"}) == {"n": "不能大于 10"}


def test_a_refusal_says_how_many_fields_and_names_each_by_its_label():
    fields = (F("n", "long", label="数量", required=True), F("d", "date", label="日期"))
    with pytest.raises(InvalidInput) as err:
        forms.validate(fields, {"d": "明天"}, {})
    assert err.value.message == "表单有 2 处需要修改:日期:请输入日期(年-月-日);数量:此项为必填项"


def test_a_field_left_out_takes_its_default_and_one_sent_empty_has_no_value(frozen_clock):
    fields = (F("n", "long", default="3"), F("when", "date", default="${today()}"), F("note", default="无"))
    assert forms.validate(fields, {}, {}) == {"n": 3, "when": "2026-11-23", "note": "无"}
    assert forms.validate(fields, {"n": "", "when": "", "note": ""}, {}) == {"n": None, "when": None, "note": None}


def test_a_form_shows_the_cases_value_else_the_default_computed_or_as_written(frozen_clock):
    fields = (F("n", "long", default="3"), F("when", "date", default="${today()}"), F("bad", default="${nope + 1}"),
              F("note"))
    assert forms.default_values(fields, {}) == {"n": 3, "when": "2026-11-23", "bad": None}
    assert forms.default_values(fields, {"n": 5, "when": None, "note": "已办"}) == {
        "n": 5, "when": "2026-11-23", "bad": None, "note": "已办"}


def test_a_read_only_field_is_never_taken_from_the_submission_nor_checked():
    fields = (F("shown", readonly=True, required=True, valid_if="${shown == '甲'}"), F("n", "long"))
    assert forms.validate(fields, {"shown": "乙", "n": "1"}, {"shown": "甲"}) == {"n": 1}


def test_a_validIf_without_a_message_shows_the_rule_and_a_field_already_wrong_keeps_its_own_message():
    fields = (F("n", "long", valid_if="${n > 0}"),)
    assert refused(fields, {"n": "-1"}) == {"n": "不符合校验条件:n > 0"}
    assert refused(fields, {"n": "一"}) == {"n": "请输入整数"}
    assert forms.validate(fields, {"n": "1"}, {}) == {"n": 1}


def test_a_requiredIf_decides_by_the_values_sent_over_the_cases():
    fields = (F("kind"), F("date", "date", required_if="${kind == '承诺件'}"))
    assert refused(fields, {"kind": "承诺件"}, {"kind": "即办件"}) == {"date": "此项为必填项"}
    assert forms.validate(fields, {"kind": "即办件"}, {"kind": "承诺件"}) == {"kind": "即办件", "date": None}


def test_a_requiredIf_or_default_that_cannot_be_computed_is_recorded_even_when_not_needed():
    fields = (F("n", "long", required_if="${nope > 1}"), F("d", "date", default="${nope}"))
    failures = sites.Failures("T")
    assert forms.validate(fields, {"n": "2", "d": "2026-11-23"}, {}, failures) == {"n": 2, "d": "2026-11-23"}
    assert [(f.site, f.field) for f in failures.found] == [("requiredIf", "n"), ("defaultValue", "d")]
    failures = sites.Failures("T")
    assert refused(fields, {}) == {"n": "此项为必填项(条件必填规则 nope > 1 无法计算,按必填处理)"}
    forms.validate(fields, {"n": "2"}, {"d": "2026-11-01"}, failures)  # the case has a date: no default shown
    assert [(f.site, f.field) for f in failures.found] == [("requiredIf", "n")]


def test_appendTo_records_carry_a_read_only_fields_shown_value_but_only_entries_count():
    fields = (F("unit", readonly=True, append_to="reports"), F("text", append_to="reports"),
              F("done", "boolean", append_to="reports"))
    assert forms.appended(fields, {"text": "已报到", "done": False}, {"unit": "住建局"}) == {
        "reports": [{"unit": "住建局", "text": "已报到", "done": False}]}
    assert forms.appended(fields, {"text": "", "done": False}, {"unit": "住建局"}) == {}
    assert forms.appended(fields, {"text": None, "done": True}, {"unit": "住建局", "reports": [{"text": "甲"}]}) == {
        "reports": [{"text": "甲"}, {"unit": "住建局", "text": None, "done": True}]}


# --- what a form drawn in the diagram says: every attribute, property and constraint read -------------

def test_a_field_reads_every_attribute_property_and_constraint_drawn():
    fields, problems = parse(
        '<camunda:formField id="title" type="string" defaultValue="无">'
        '<camunda:properties><camunda:property id="multiline" value=" TRUE "/><camunda:property name="public" '
        'value="true"/><camunda:property id="validIfMessage" value="须写明"/></camunda:properties>'
        '<camunda:validation><camunda:constraint name="required"/><camunda:constraint name="readonly" config="False"/>'
        '<camunda:constraint name="minlength" config="2"/><camunda:constraint name="maxlength" config="80"/>'
        '<camunda:constraint name="validIf" config="${title != \'\'}"/>'
        '<camunda:constraint name="requiredIf" config="${1 == 1}"/></camunda:validation></camunda:formField>'
        '<camunda:formField id="n" label="数量" type="long"><camunda:validation>'
        '<camunda:constraint name="min" config="1.5"/><camunda:constraint name="max" config="9"/>'
        '<camunda:constraint name="max" config="10"/><camunda:constraint name="required" config="false"/>'
        '<camunda:constraint name="readonly" config=" true"/></camunda:validation></camunda:formField>'
        '<camunda:formField id="d" label="日期" type="date"><camunda:validation>'
        '<camunda:constraint name="min" config=" today "/><camunda:constraint name="max" config="2027-01-01"/>'
        '</camunda:validation></camunda:formField>'
        '<camunda:formField id="kind" label="类别" type="enum"><camunda:value id="a" name="即办件"/>'
        '<camunda:value id="b"/></camunda:formField>'
        '<camunda:formField id="items" label="事项"><camunda:properties><camunda:property id="list" value="lines"/>'
        '<camunda:property id="appendTo" value=" records "/></camunda:properties></camunda:formField>')
    assert problems == []
    title, n, d, kind, items = fields
    assert (title.label, title.type, title.default, title.multiline, title.public, title.valid_if_message) == (
        "title", "string", "无", True, True, "须写明")
    assert (title.required, title.readonly, title.min_length, title.max_length) == (True, False, 2, 80)
    assert (title.valid_if, title.required_if, title.widget) == ("${title != ''}", "${1 == 1}", "textarea")
    assert title.properties == (("multiline", " TRUE "), ("public", "true"), ("validIfMessage", "须写明"))
    assert (n.label, n.minimum, n.maximum, n.required, n.readonly, n.max_length) == (
        "数量", 1.5, 10.0, False, True, None)
    assert (d.date_min, d.date_max, d.multiline, d.public, d.lines) == ("today", "2027-01-01", False, False, False)
    assert kind.choices == (forms.Choice("a", "即办件"), forms.Choice("b", "b"))
    assert (items.lines, items.append_to, items.max_length, items.valid_if_message) == (True, "records", 5000, None)


@pytest.mark.parametrize("field, says", [
    ('<camunda:formField id="2bad" type="string"/>',
     "表单字段 id “2bad” 不合法:须以字母或汉字开头,只含字母、数字、下划线"),
    ('<camunda:formField type="string"/>', "表单字段 id “” 不合法"),
    ('<camunda:formField id="f" type="color"/>',
     "表单字段 “f” 的类型 “color” 不受支持;可用: boolean, date, double, enum, long, string, unit, user"),
    ('<camunda:formField id="f"><camunda:validation><camunda:constraint name="pattern" config="x"/>'
     '</camunda:validation></camunda:formField>',
     "表单字段 “f” 的校验规则 “pattern” 不受支持;可用: max, maxlength, min, minlength, readonly, required, "
     "requiredIf, validIf"),
    ('<camunda:formField id="f"><camunda:validation><camunda:constraint name="validIf"/>'
     '</camunda:validation></camunda:formField>', "表单字段 “f” 的 validIf 条件无效"),
    ('<camunda:formField id="f" type="date"><camunda:validation><camunda:constraint name="max" config="明天()"/>'
     '</camunda:validation></camunda:formField>', "表单字段 “f” 的校验规则 max:“明天()” 无法识别"),
    ('<camunda:formField id="f" type="long"><camunda:validation><camunda:constraint name="minlength"/>'
     '</camunda:validation></camunda:formField>', "表单字段 “f” 的校验规则 minlength 需要数字,得到 “None”"),
    ('<camunda:formField id="f"><camunda:properties><camunda:property id="appendTo" value="2x"/>'
     '</camunda:properties></camunda:formField>', "表单字段 “f” 的 appendTo “2x” 不是合法的变量名"),
    ('<camunda:formField id="f"><camunda:properties><camunda:property id="list" value="commas"/>'
     '</camunda:properties></camunda:formField>', "表单字段 “f” 的 list 属性只支持 “lines”(每行一项)"),
    ('<camunda:formField id="f" type="long"><camunda:properties><camunda:property id="list" value="lines"/>'
     '</camunda:properties></camunda:formField>', "表单字段 “f” 的 list 属性只用于文本字段"),
    ('<camunda:formField id="f" defaultValue="${f.__class__}"/>', "表单字段 “f” 的默认值表达式无效"),
    ('<camunda:formField id="f" type="enum"/>', "下拉字段 “f” 没有任何选项"),
])
def test_each_problem_of_a_field_is_named_with_the_field_and_its_line(field, says):
    fields, problems = parse(field)
    assert len(problems) == 1 and says in problems[0][2] and problems[0][1] == 1, problems


def test_a_field_is_left_out_only_when_its_id_or_type_is_unusable_and_its_id_stays_taken():
    fields, problems = parse('<camunda:formField id="f" type="color"/><camunda:formField id="f" type="string"/>'
                             '<camunda:formField id="g" type="long"><camunda:validation>'
                             '<camunda:constraint name="max" config="x"/></camunda:validation></camunda:formField>')
    assert [f.id for f in fields] == ["g"] and fields[0].maximum is None
    assert [p[2] for p in problems][1] == "表单字段 id “f” 重复" and len(problems) == 3


def test_a_default_written_plainly_is_taken_as_it_is_and_one_written_as_an_expression_must_be_one():
    fields, problems = parse('<camunda:formField id="a" defaultValue="x.__class__"/>'
                             '<camunda:formField id="b" defaultValue="${today()}"/>')
    assert problems == [] and [f.default for f in fields] == ["x.__class__", "${today()}"]


def test_an_appendTo_list_named_like_a_field_of_the_form_is_refused_naming_both():
    _, problems = parse('<camunda:formField id="a"><camunda:properties><camunda:property id="appendTo" value="b"/>'
                        '</camunda:properties></camunda:formField><camunda:formField id="b"/>')
    assert problems == [("a", 1, "表单字段 “a” 的 appendTo “b” 与表单字段重名")]


# --- what the engine records and shows around a submission (added for the mutation run of formvalues) ----

def refused_with(failures: sites.Failures, fields, submitted: dict, data: dict | None = None) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        forms.validate(fields, submitted, data or {}, failures)
    return err.value.fields


def test_a_requiredIf_that_cannot_be_computed_for_an_empty_field_is_recorded_naming_field_and_rule():
    failures = sites.Failures("T")
    assert refused_with(failures, (F("n", "long", required_if="${nope > 1}"),), {}) == {
        "n": "此项为必填项(条件必填规则 nope > 1 无法计算,按必填处理)"}
    assert failures.found == [
        sites.Failure("T", "requiredIf", "nope > 1", "表达式引用了不存在的字段 “nope”: nope > 1", "n")]


def test_a_rule_not_needed_is_still_computed_over_the_values_sent_and_the_case_and_recorded_with_its_text():
    """A requiredIf and a default expression that compute are not failures; ones that do not are recorded
    with the rule as written, even when this submission did not need them."""
    fields = (F("kind"), F("date", "date", required_if="${kind == '承诺件'}"), F("n", "long", default="${count + 1}"),
              F("note", default="无"), F("bad", "long", required_if="${nope > 1}"), F("d", "date", default="${nope}"))
    failures = sites.Failures("T")
    assert forms.validate(fields, {"date": "2026-11-23", "n": "4", "bad": "2", "d": "2026-11-23"},
                          {"kind": "承诺件", "count": 2}, failures) == {
        "kind": None, "date": "2026-11-23", "n": 4, "note": "无", "bad": 2, "d": "2026-11-23"}
    assert failures.found == [
        sites.Failure("T", "requiredIf", "nope > 1", "表达式引用了不存在的字段 “nope”: nope > 1", "bad"),
        sites.Failure("T", "defaultValue", "nope", "表达式引用了不存在的字段 “nope”: nope", "d")]


def test_a_form_shows_a_default_computed_from_the_cases_data():
    assert forms.default_values((F("n", "long", default="${count + 1}"),), {"count": 2}) == {"n": 3}


def test_a_form_shows_a_list_fields_lines_and_any_other_value_as_the_case_holds_it():
    """A `list` field's items one per line; a unit field's several units stay a list (the page ticks each);
    a `list` field whose case value is plain text shows that text."""
    units = F("depts", "unit", properties=(("multiple", "true"),))
    items = F("items", lines=True)
    assert forms.default_values((units, items), {"depts": [3, 5], "items": ["甲", "乙"]}) == {
        "depts": [3, 5], "items": "甲\n乙"}
    assert forms.default_values((items,), {"items": "甲乙"}) == {"items": "甲乙"}


def test_a_text_is_kept_without_surrounding_space_and_a_number_sent_to_a_text_field_as_its_digits():
    assert forms.validate((F("name"), F("code")), {"name": " 王五 \n", "code": 12}, {}) == {"name": "王五",
                                                                                           "code": "12"}


def test_a_unit_field_takes_the_id_of_one_unit_offered_or_several_when_multiple():
    offered = (forms.Choice("3", "区住建局"), forms.Choice("5", "区城管局"))
    one = F("dept", "unit", label="职能部门", choices=offered)
    several = F("depts", "unit", label="职能部门", choices=offered, properties=(("multiple", "true"),))
    assert forms.validate((one, several), {"dept": "5", "depts": ["5", "3"]}, {}) == {"dept": 5, "depts": [3, 5]}
    assert refused((one,), {"dept": "7"}) == {"dept": "“7” 不是可选的单位;可选:区住建局、区城管局"}
    assert refused((one,), {"dept": ["3", "5"]}) == {"dept": "只能选择一个单位"}


def test_a_date_limit_and_an_option_of_another_channel_are_refused_with_the_forms_other_faults(frozen_clock):
    """validate applies formrules' checks beside the type checks: each field at fault gets its own message."""
    channel = F("channel", "enum", label="受理渠道",
                choices=(forms.Choice("上门", "上门"), forms.Choice("网上", "网上")))
    way = F("way", "enum", label="具体途径", choices=(forms.Choice("走访", "走访"), forms.Choice("网站", "网站")),
            depends_on="channel", option_parents=(("走访", ("上门",)), ("网站", ("网上",))))
    fields = (channel, way, F("due", "date", label="承诺办结日期", date_min="today"), F("n", "long", label="数量"))
    with pytest.raises(InvalidInput) as err:
        forms.validate(fields, {"channel": "上门", "way": "网站", "due": "2026-11-22", "n": "一"}, {})
    assert err.value.fields == {"n": "请输入整数", "way": "“网站” 不属于受理渠道“上门”;可选:走访",
                                "due": "不能早于今天(2026-11-23)"}
    assert err.value.message == ("表单有 3 处需要修改:数量:请输入整数;具体途径:“网站” 不属于受理渠道“上门”;可选:走访;"
                                 "承诺办结日期:不能早于今天(2026-11-23)")
    assert forms.validate(fields, {"channel": "上门", "way": "走访", "due": "2026-11-23", "n": "1"}, {}) == {
        "channel": "上门", "way": "走访", "due": "2026-11-23", "n": 1}


# --- what the diagram's form says, read exactly (added for the mutation run of formfields) -----------------

@pytest.mark.parametrize("field, problem", [
    ('<camunda:formField id="who" label="承办人" type="user"/>',
     "人员字段 “who” 须有属性 role(从哪个角色的人员中选择),例如 role = 承办人"),
    ('<camunda:formField id="dept" label="职能部门" type="unit" defaultValue="3"/>',
     "单位字段 “dept” 不能有默认值:各地的单位不同,请由办理人选择"),
    ('<camunda:formField id="way" label="途径"><camunda:properties><camunda:property id="dependsOn" value="c"/>'
     '</camunda:properties></camunda:formField>', "表单字段 “way” 的 dependsOn 只用于下拉字段(enum)"),
    ('<camunda:formField id="f"><camunda:validation><camunda:constraint config="x"/></camunda:validation>'
     '</camunda:formField>', "表单字段 “f” 的校验规则 “” 不受支持;可用: max, maxlength, min, minlength, readonly, "
                             "required, requiredIf, validIf"),
])
def test_a_person_unit_or_dependent_field_drawn_wrong_is_refused_naming_the_field_and_its_line(field, problem):
    fields, problems = parse(field)
    assert problems == [(fields[0].id, 1, problem)]


def test_a_field_without_appendTo_adds_no_record_and_a_property_drawn_without_a_value_is_empty():
    """An `appendTo` or a `role` written without a value is as good as none: no list grows, and the person
    field is refused for lacking its role; a property without a name is kept under the empty name."""
    fields, problems = parse('<camunda:formField id="note" label="说明"/>'
                             '<camunda:formField id="text" label="意见"><camunda:properties>'
                             '<camunda:property id="appendTo"/><camunda:property value="x"/></camunda:properties>'
                             '</camunda:formField>'
                             '<camunda:formField id="who" label="承办人" type="user"><camunda:properties>'
                             '<camunda:property id="role"/></camunda:properties></camunda:formField>')
    note, text, who = fields
    assert (note.append_to, text.append_to) == (None, None)
    assert text.properties == (("appendTo", ""), ("", "x"))
    assert forms.appended(fields, {"note": "甲", "text": "乙", "who": "wang"}, {}) == {}
    assert problems == [("who", 1, "人员字段 “who” 须有属性 role(从哪个角色的人员中选择),例如 role = 承办人")]


def test_an_option_drawn_without_an_id_cannot_be_chosen_and_shows_its_name_or_nothing():
    fields, problems = parse('<camunda:formField id="kind" label="类别" type="enum"><camunda:value name="即办件"/>'
                             '<camunda:value/><camunda:value id="b" name="承诺件"/></camunda:formField>')
    assert problems == []
    assert fields[0].choices == (forms.Choice("", "即办件"), forms.Choice("", ""), forms.Choice("b", "承诺件"))
    assert forms.validate(fields, {"kind": ""}, {}) == {"kind": None}


def test_text_lengths_are_whole_numbers_of_characters_in_the_messages():
    fields, problems = parse('<camunda:formField id="name" label="姓名"><camunda:validation>'
                             '<camunda:constraint name="minlength" config="2"/>'
                             '<camunda:constraint name="maxlength" config="4.0"/></camunda:validation>'
                             '</camunda:formField>')
    assert problems == [] and (fields[0].min_length, fields[0].max_length) == (2, 4)
    assert refused(fields, {"name": "王"}) == {"name": "至少 2 个字"}
    assert refused(fields, {"name": "王五六七八"}) == {"name": "不能超过 4 个字(现有 5 个)"}
