"""Validation of the expressions at every site of a diagram (`sites`): what `diagram.inspect` asks
beyond the syntax of each expression — the value of one that reads no case data, and the names
one reads, which a form of the diagram must define.

`checker` is `diagram`'s problem collector: anything with `add(element, message, line=None)`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from engine import clock
from engine.errors import ExpressionError

from . import durations, expressions, forms, sites

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = forms.CAMUNDA
# Elements whose id or name a step's data may carry (a multi-instance item, a data object).
_DATA_ITEMS = {"dataObject", "dataObjectReference", "dataInput", "dataOutput", "inputDataItem", "outputDataItem"}


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def site(el: etree._Element) -> str:
    """The expression site of a BPMN element: its local name, but a correlation's expression is
    `messagePath` whichever of the two tags the modeler wrote."""
    parent = el.getparent()
    if parent is not None and _local(parent.tag) == "correlationPropertyRetrievalExpression":
        return "messagePath"
    return _local(el.tag)


def expression_elements(root: etree._Element) -> list[etree._Element]:
    """Every BPMN element whose text the engine evaluates (`sites.ELEMENTS`)."""
    return [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el.tag).namespace == BPMN
            and site(el) in sites.ELEMENTS and _local(el.tag) != "correlationPropertyRetrievalExpression"]


def step_expressions(el: etree._Element, properties: dict[str, str], checker: Any) -> None:
    """Each expression a user task holds in an attribute or a property (`sites`), and, when it reads no
    case data, its value: a deadline must be a date or a duration, a publicity period a number of days."""
    found = {**{name: el.get(f"{{{CAMUNDA}}}{name}") for name in sites.STEP_ATTRIBUTES},
             **{name: properties.get(name) for name in sites.STEP_PROPERTIES}}
    for name, text in found.items():
        if text is None:
            continue
        if not text.strip():
            checker.add(el, f"{sites.LABELS[name]}表达式为空")
            continue
        try:
            known, value = expressions.constant_value(text)
            if known and name == "dueDate" and value not in (None, "") \
                    and durations.due_moment(value, clock.now()) is None:
                if isinstance(value, str) and durations.meant(value):
                    raise ExpressionError(durations.problem(value))
                raise ExpressionError(f"得到 “{str(value)[:40]}”,不是日期、时刻或时长(例如 P7D、2026-12-01)")
            if known and name == "publicityDays":
                sites.publicity_days(value)
        except ExpressionError as exc:
            checker.add(el, f"{sites.LABELS[name]}无效: {exc.message}")


def unknown_names(root: etree._Element, process: etree._Element, process_properties: dict[str, str],
                  steps: Iterable[Any], start_id: str, start_form: tuple[forms.FormField, ...], checker: Any) -> None:
    """An expression of a step or a form field that reads a name no form, data item or process property of
    the diagram defines can never be computed: refuse it now, not on a real case (where a deadline, a
    default or 专项反馈 would be silently missing). Form rules and `answerLinkedCases` see the case's
    fields only; deadlines and publishing also the process properties."""
    steps = list(steps)
    fields = _case_fields(root, steps, start_form)
    with_properties = fields | set(process_properties)
    by_id = {el.get("id"): el for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
    for step_id, form in ((start_id, start_form), *((s.id, s.form) for s in steps)):
        for f in form:
            for name, text in _field_expressions(f):
                what = f"表单字段 “{f.id}” 的{sites.LABELS[name]}"
                _name_problem(by_id.get(step_id), text, fields, what, checker, f.line)
    for step in steps:
        texts = {"dueDate": step.due, "assignee": step.assignee,
                 **{name: step.properties.get(name) for name in sites.STEP_PROPERTIES}}
        for name, text in texts.items():
            known = fields if name == "answerLinkedCases" else with_properties
            _name_problem(by_id.get(step.id), text, known, sites.LABELS[name], checker)


def _case_fields(root: etree._Element, steps: list[Any], start_form: tuple[forms.FormField, ...]) -> set[str]:
    """The names a case's data may hold: every form field, every `appendTo` list, and the id and name
    of every data item (`_DATA_ITEMS`)."""
    fields = {f.id for step in steps for f in step.form} | {f.id for f in start_form}
    fields |= {f.append_to for step in steps for f in step.form if f.append_to}
    for el in root.iter():
        if isinstance(el.tag, str) and _local(el.tag) in _DATA_ITEMS:
            fields |= {el.get("id") or "", el.get("name") or ""}
    return fields


def _field_expressions(f: forms.FormField) -> list[tuple[str, str]]:
    """(site, text) of each expression of a form field: its rules, and its default when that is an
    expression rather than a plain value."""
    found = [("requiredIf", f.required_if), ("validIf", f.valid_if)]
    if f.default and expressions.unwrap(f.default) != f.default.strip():
        found.append(("defaultValue", f.default))
    return [(name, text) for name, text in found if text]


def _name_problem(el: etree._Element | None, text: str | None, known: set[str], what: str, checker: Any,
                  line: int | None = None) -> None:
    if not text:
        return
    try:
        unknown = sorted(expressions.names_used(text) - known)
    except ExpressionError:
        return  # already reported where the expression was read
    if unknown:
        checker.add(el, f"{what}引用了流程图中没有的字段 “{'”、“'.join(unknown)}”(表单字段 id 区分大小写)", line)
