"""Every place a diagram holds an expression (表达式位置): the one list validation checks and the
runtime evaluates by, so no expression can reach a case without having been checked.

- `ELEMENTS`: BPMN elements whose text SpiffWorkflow evaluates (through `spiffscript.SafeScriptEngine`);
- `STEP_ATTRIBUTES`: attributes of a user task the engine evaluates (the deadline, the assignee);
- `STEP_PROPERTIES`: step properties (camunda:property) the engine evaluates (publishing, 专项反馈);
- `FORM_CONSTRAINTS` and `FORM_DEFAULT`: expressions in a form field (`forms`).

`LENIENT` are the sites whose failure does not stop the case (the step simply has no deadline, the field
no default…): such a failure is a `Failure`, recorded on the case as an audit event (`expression_failed`).
Every other site stops the step with a 422 naming the element and the property.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import ExpressionError

from . import expressions

ELEMENTS = {
    "conditionExpression": "条件",
    "completionCondition": "完成条件",
    "loopCardinality": "循环次数",
    "loopCondition": "循环条件",
    "condition": "条件事件的条件",
    "timeDate": "定时器",
    "timeDuration": "定时器",
    "timeCycle": "定时器",
    "messagePath": "消息关联表达式",
    "correlationPropertyRetrievalExpression": "消息关联表达式",
}
STEP_ATTRIBUTES = {"dueDate": "办理期限(dueDate)", "assignee": "办理人(assignee)"}
STEP_PROPERTIES = {
    "answerLinkedCases": "关联事项一并答复条件(answerLinkedCases)",
    "publishWhen": "公示条件(publishWhen)",
    "withdrawWhen": "撤下公示条件(withdrawWhen)",
    "publishTitle": "公示标题(publishTitle)",
    "publishResult": "公示结果(publishResult)",
    "publicityDays": "公示天数(publicityDays)",
}
FORM_CONSTRAINTS = {"requiredIf": "条件必填(requiredIf)", "validIf": "校验条件(validIf)"}
FORM_DEFAULT = {"defaultValue": "默认值(defaultValue)"}
LABELS = {**STEP_ATTRIBUTES, **STEP_PROPERTIES, **FORM_CONSTRAINTS, **FORM_DEFAULT}
LENIENT = ("dueDate", "assignee", "answerLinkedCases", "requiredIf", "defaultValue")
MAX_PUBLICITY_DAYS = 3650


# What the case does instead when a lenient expression cannot be computed (shown with the failure).
EFFECTS = {
    "dueDate": "本步骤没有办理期限",
    "assignee": "本步骤没有指定办理人,由该角色的人员认领",
    "answerLinkedCases": "关联事项没有一并答复",
    "requiredIf": "该字段按必填处理",
    "defaultValue": "该字段没有默认值",
}


@dataclass(frozen=True)
class Failure:
    """An expression at a lenient site that could not be computed on a case: where, what, why."""

    element_id: str
    site: str
    expression: str
    message: str
    field: str = ""

    def audit_data(self) -> dict[str, str]:
        """What the `expression_failed` audit event records (auditors read it in the trace)."""
        data = {"element": self.element_id, "site": self.site, "label": LABELS[self.site],
                "expression": self.expression, "message": self.message, "effect": EFFECTS[self.site]}
        if self.field:
            data["field"] = self.field
        return data


class Failures:
    """The failures of lenient expressions of one element during one engine call, to be recorded
    on the case by the caller (it holds the case and the transaction)."""

    def __init__(self, element_id: str):
        self.element_id = element_id
        self.found: list[Failure] = []

    def attempt(self, site: str, text: str, names: dict[str, Any], field: str = "") -> tuple[bool, Any]:
        """(True, value), or (False, None) with the failure kept: for a lenient site only."""
        if site not in LENIENT:
            raise KeyError(f"{site} is not a lenient expression site")
        try:
            return True, expressions.evaluate(text, names)
        except ExpressionError as exc:
            self.found.append(Failure(self.element_id, site, expressions.unwrap(text), exc.message, field))
            return False, None


def evaluate(element_id: str, site: str, text: str, names: dict[str, Any]) -> Any:
    """The value of the expression at `site` of `element_id`; a failure says which element and property."""
    try:
        return expressions.evaluate(text, names)
    except ExpressionError as exc:
        raise ExpressionError(f"“{element_id}” 的{LABELS[site]}无法计算:{exc.message}") from None


def publicity_days(value: Any) -> int:
    """A number of days a publication stays up, as `publicityDays` gives it."""
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ExpressionError(f"公示天数应为整数,而不是 “{str(value)[:40]}”") from None
    if not 0 <= days <= MAX_PUBLICITY_DAYS:
        raise ExpressionError(f"公示天数应在 0–{MAX_PUBLICITY_DAYS} 之间,而不是 {days}")
    return days
