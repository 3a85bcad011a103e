"""What a form is: the fields drawn in the diagram (Camunda 7 ``camunda:formData``), read and checked
once when the diagram is validated. What a user enters into them is `formvalues`' concern; other
packages use both through `forms`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from engine.errors import ExpressionError
from engine.store import text as free_text

from . import expressions, formrules, formunits
from .formtypes import Choice, FormField

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
TYPES = {"string", "long", "double", "boolean", "date", "enum", "user", "unit"}
CONSTRAINTS = {"required", "requiredIf", "validIf", "readonly", "min", "max", "minlength", "maxlength"}
_IDENTIFIER = formrules.IDENTIFIER


def _c(tag: str) -> str:
    return f"{{{CAMUNDA}}}{tag}"


def parse_form(element: etree._Element) -> tuple[tuple[FormField, ...], list[tuple[str, int | None, str]]]:
    """Read the form of a start event or task. Returns (fields, problems as (field id, line, message)).

    A field whose id or type is unusable is left out; any other problem is reported and the field kept,
    so the designer sees every problem of the form at once."""
    fields: list[FormField] = []
    problems: list[tuple[str, int | None, str]] = []
    seen: set[str] = set()
    for node in element.iterfind(f"./{{*}}extensionElements/{_c('formData')}/{_c('formField')}"):
        found = _parse_field(node, seen, problems)
        if found is not None:
            fields.append(found)
    problems += formrules.dependency_problems(tuple(fields))
    problems += _append_to_clashes(fields)
    return tuple(fields), problems


def _parse_field(node: etree._Element, seen: set[str], problems: list[tuple[str, int | None, str]]) -> FormField | None:
    """One `camunda:formField`, or None when it is unusable (`_unusable`); its problems go to `problems`."""
    fid, line, ftype = node.get("id", ""), node.sourceline, node.get("type") or "string"

    def problem(message: str) -> None:
        problems.append((fid, line, message))

    if refused := _unusable(fid, ftype, seen):
        problem(refused)
        return None
    kw = _constraints(node, fid, ftype, problem)
    props = _properties(node)
    flags = {k: v.strip().lower() == "true" for k, v in props}
    named = dict(props)
    append_to = named.get("appendTo", "").strip() or None
    for message in _property_problems(fid, ftype, named, append_to):
        problem(message)
    choices = _choices(node)
    if found := formrules.people_field_problem(fid, ftype, named):
        problem(found)
    for message in formunits.unit_field_problems(fid, ftype, named, node.get("defaultValue")):
        problem(message)
    kw.update(formrules.dependent_options(fid, ftype, named, props, problem))
    if ftype == "enum" and not choices:
        problem(f"下拉字段 “{fid}” 没有任何选项")
    if ftype == "string":  # every text field has a maximum; the diagram may only lower it
        ceiling = free_text.LONG if flags.get("multiline") or "list" in named else free_text.LINE
        kw["max_length"] = min(kw.get("max_length", ceiling), ceiling)
    default = node.get("defaultValue")
    if message := _default_problem(fid, default):
        problem(message)
    return FormField(
        id=fid, label=node.get("label") or fid, type=ftype, default=default, choices=choices,
        multiline=flags.get("multiline", False), public=flags.get("public", False), line=line,
        valid_if_message=named.get("validIfMessage") or None, lines="list" in named,
        append_to=append_to, properties=props, **kw,
    )


def _unusable(fid: str, ftype: str, seen: set[str]) -> str | None:
    """Why a field cannot be used at all: its id is not a name or is taken already, or its type is unknown.
    A new well-formed id joins `seen` even when its type rules the field out, so a second field with
    that id is still a duplicate."""
    if not _IDENTIFIER.match(fid):
        return f"表单字段 id “{fid}” 不合法:须以字母或汉字开头,只含字母、数字、下划线"
    if fid in seen:
        return f"表单字段 id “{fid}” 重复"
    seen.add(fid)
    if ftype not in TYPES:
        return f"表单字段 “{fid}” 的类型 “{ftype}” 不受支持;可用: {', '.join(sorted(TYPES))}"
    return None


def _constraints(node: etree._Element, fid: str, ftype: str, problem: Callable[[str], None]) -> dict[str, Any]:
    """The field's `camunda:validation` constraints as `FormField` keywords, in the order drawn (a later
    one of the same name wins); a constraint that is unknown or malformed is a problem and left out."""
    kw: dict[str, Any] = {}
    for c in node.iterfind(f"./{_c('validation')}/{_c('constraint')}"):
        keywords, message = _constraint(fid, ftype, c.get("name", ""), c.get("config"))
        kw.update(keywords)
        if message:
            problem(message)
    return kw


def _constraint(fid: str, ftype: str, name: str, config: str | None) -> tuple[dict[str, Any], str | None]:
    """One constraint as `FormField` keywords, or the problem with it."""
    if name not in CONSTRAINTS:
        return {}, f"表单字段 “{fid}” 的校验规则 “{name}” 不受支持;可用: {', '.join(sorted(CONSTRAINTS))}"
    if name in ("required", "readonly"):  # a bare flag means true
        return {name: config is None or config.strip().lower() != "false"}, None
    if name in ("requiredIf", "validIf"):
        try:
            expressions.check(config or "")
        except ExpressionError as exc:
            return {}, f"表单字段 “{fid}” 的 {name} 条件无效: {exc.message}"
        return {"required_if" if name == "requiredIf" else "valid_if": config}, None
    if name in ("min", "max") and ftype == "date":  # today, today±N, a date or another date field
        if found := formrules.date_limit_problem(config):
            return {}, f"表单字段 “{fid}” 的校验规则 {name}:{found}"
        return {"date_" + name: (config or "").strip()}, None
    try:
        number = float(config or "")
    except ValueError:
        return {}, f"表单字段 “{fid}” 的校验规则 {name} 需要数字,得到 “{config}”"
    key = {"min": "minimum", "max": "maximum", "minlength": "min_length", "maxlength": "max_length"}[name]
    return {key: int(number) if name.endswith("length") else number}, None


def _properties(node: etree._Element) -> tuple[tuple[str, str], ...]:
    """The field's `camunda:properties` as (name, value) pairs, in the order drawn."""
    return tuple((p.get("id") or p.get("name") or "", p.get("value") or "")
                 for p in node.iterfind(f"./{_c('properties')}/{_c('property')}"))


def _choices(node: etree._Element) -> tuple[Choice, ...]:
    """The options of an enum field (`camunda:value`); an option without a name shows its id."""
    return tuple(Choice(v.get("id", ""), v.get("name") or v.get("id", "")) for v in node.iterfind(_c("value")))


def _property_problems(fid: str, ftype: str, named: dict[str, str], append_to: str | None) -> list[str]:
    """What is wrong with the field's `appendTo` and `list` properties."""
    found = []
    if append_to is not None and not _IDENTIFIER.match(append_to):
        found.append(f"表单字段 “{fid}” 的 appendTo “{append_to}” 不是合法的变量名")
    if named.get("list", "lines") != "lines":
        found.append(f"表单字段 “{fid}” 的 list 属性只支持 “lines”(每行一项)")
    elif "list" in named and ftype != "string":
        found.append(f"表单字段 “{fid}” 的 list 属性只用于文本字段")
    return found


def _default_problem(fid: str, default: str | None) -> str | None:
    """A default value written as an expression must be one; a plain value is taken as it is."""
    if default is None or expressions.unwrap(default) == default.strip():
        return None
    try:
        expressions.check(default)
    except ExpressionError as exc:
        return f"表单字段 “{fid}” 的默认值表达式无效: {exc.message}"
    return None


def _append_to_clashes(fields: list[FormField]) -> list[tuple[str, int | None, str]]:
    """An `appendTo` list may not share its name with a field of the same form."""
    ids = {f.id for f in fields}
    return [(f.id, f.line, f"表单字段 “{f.id}” 的 appendTo “{f.append_to}” 与表单字段重名")
            for f in fields if f.append_to in ids]
