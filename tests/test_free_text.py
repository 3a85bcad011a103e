"""Free text has a maximum length and no control characters, whoever calls the engine: diagram forms
(engine/bpmn/forms.py) and the text around them — comments, findings, reasons, 催办, names
(engine/store/text.py). A refusal names the field and changes nothing, on SQLite and PostgreSQL."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.bpmn import forms
from engine.errors import InvalidInput
from engine.people import accounts, users
from engine.store.models import AuditEvent, Comment, ExtensionRequest, Notification
from engine.work import cases, extensions, findings
from tests.conftest import DATA, PASSWORD, deploy_file

FORM = """<bpmn:userTask xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Step"><bpmn:extensionElements><camunda:formData>
  <camunda:formField id="title" label="标题" type="string"/>
  <camunda:formField id="short" label="简称" type="string">
    <camunda:validation><camunda:constraint name="maxlength" config="20"/></camunda:validation></camunda:formField>
  <camunda:formField id="huge" label="超长" type="string">
    <camunda:validation><camunda:constraint name="maxlength" config="1000000"/></camunda:validation></camunda:formField>
  <camunda:formField id="description" label="描述" type="string">
    <camunda:properties><camunda:property id="multiline" value="true"/></camunda:properties></camunda:formField>
  <camunda:formField id="items" label="事项" type="string">
    <camunda:properties><camunda:property id="list" value="lines"/></camunda:properties></camunda:formField>
  <camunda:formField id="count" label="数量" type="long"/>
</camunda:formData></bpmn:extensionElements></bpmn:userTask>"""


@pytest.fixture(scope="module")
def fields() -> tuple[forms.FormField, ...]:
    parsed, problems = forms.parse_form(etree.fromstring(FORM))
    assert problems == []
    return parsed


def refused(fields, values: dict) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        forms.validate(fields, values, {})
    return err.value.fields


# --- diagram forms -------------------------------------------------------------------------------

def test_every_text_field_has_a_maximum_that_the_diagram_may_only_lower(fields):
    """200 characters on one line, 5000 in a multi-line or list field; a diagram's maxlength above that is held."""
    limits = {f.id: f.max_length for f in fields if f.type == "string"}
    assert limits == {"title": 200, "short": 20, "huge": 200, "description": 5000, "items": 5000}


def test_text_beyond_its_maximum_is_refused_with_the_count(fields):
    assert forms.validate(fields, {"title": "灯" * 200, "description": "述" * 5000}, {})["title"] == "灯" * 200
    errors = refused(fields, {"title": "灯" * 201, "short": "短" * 21, "huge": "长" * 201, "description": "述" * 5001})
    assert errors == {"title": "不能超过 200 个字(现有 201 个)", "short": "不能超过 20 个字(现有 21 个)",
                      "huge": "不能超过 200 个字(现有 201 个)", "description": "不能超过 5000 个字(现有 5001 个)"}


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x0b"])
def test_a_control_character_is_refused(fields, character):
    """NUL is stored by SQLite and refused by PostgreSQL; neither gets it, nor any other control character."""
    assert refused(fields, {"title": f"路灯{character}不亮"}) == {
        "title": "含有不可见的控制字符(如 NUL),请删除后再提交"}


def test_tabs_and_line_breaks_are_text(fields):
    cleaned = forms.validate(fields, {"description": "第一行\r\n\t第二行", "items": "一\n二"}, {})
    assert cleaned["description"] == "第一行\r\n\t第二行" and cleaned["items"] == ["一", "二"]


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, "9" * 20, "9" * 5000, "1e999"])
def test_a_long_beyond_64_bits_is_refused(fields, value):
    assert set(refused(fields, {"count": value})) == {"count"}


@pytest.mark.parametrize("value", [["a"], {"a": 1}])
def test_a_list_or_object_where_one_value_belongs_is_refused(fields, value):
    """From the JSON API: a value is one value, not a structure turned into its Python text."""
    assert refused(fields, {"title": value}) == {"title": "须为单个值,不能是列表或对象"}


# --- the text around the forms, on both databases -------------------------------------------------

@pytest.fixture
def review(db, staff):
    """An approval case at its 审核 step (due in two days), and an administrator."""
    deploy_file(db, DATA / "approval.bpmn")
    staff["admin"] = users.create_user(db, "admin", PASSWORD, "系统管理员", ["管理员"])
    return SimpleNamespace(**vars(cases.start_case(db, staff["clerk"], "approval",
                                                   {"title": "路灯不亮", "amount": "3"})), extension=None)


def _stored(db) -> dict[str, int]:
    with db.read() as session:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m))
                for m in (AuditEvent, Comment, ExtensionRequest, Notification)}


TOO_LONG = "字" * 2001
CALLS = {
    "comment": (lambda db, s, r, t: cases.add_comment(db, s["leader"], r.case_number, t), "text", TOO_LONG),
    "finding": (lambda db, s, r, t: findings.record_finding(db, s["admin"], r.case_number, t), "finding", TOO_LONG),
    "extension reason": (lambda db, s, r, t: extensions.request_extension(db, s["leader"], r.new_tasks[0].id, t,
                                                                          "2099-01-01"), "reason", TOO_LONG),
    "extension decision note": (lambda db, s, r, t: extensions.decide_extension(db, s["admin"], r.extension, False, t),
                                "note", TOO_LONG),
    "催办 note": (lambda db, s, r, t: extensions.urge(db, s["leader"], r.new_tasks[0].id, t), "note", "催" * 501),
    "display name": (lambda db, s, r, t: accounts.update_my_account(db, s["clerk"], {"display_name": t}),
                     "display_name", "名" * 65),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("problem", ["too long", "NUL"])
def test_free_text_beyond_its_limit_or_with_nul_is_refused_and_nothing_is_kept(db, staff, review, call, problem):
    action, field, too_long = CALLS[call]
    if call == "extension decision note":
        review.extension = extensions.request_extension(db, staff["leader"], review.new_tasks[0].id, "等待材料",
                                                        "2099-01-01")
    before = _stored(db)
    with pytest.raises(InvalidInput) as err:
        action(db, staff, review, too_long if problem == "too long" else "正常\x00文字")
    assert ("不能超过" if problem == "too long" else "控制字符") in err.value.fields[field]
    assert _stored(db) == before


@pytest.mark.parametrize("name", ["名" * 65, "王\x00五"])
def test_an_account_made_on_the_command_line_has_the_same_name_rules(db, name):
    """`minyi user create` goes through users.create_user, not the admin page: the same 64 characters, no NUL."""
    with pytest.raises(InvalidInput) as err:
        users.create_user(db, "wangwu", PASSWORD, name, ["受理员"])
    assert err.value.fields["display_name"].startswith("姓名")
    assert [a.username for a in users.list_users(db)] == []
