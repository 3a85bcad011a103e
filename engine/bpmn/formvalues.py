"""What a user enters into a form (`formfields`): each value converted to its field's type and checked
against the field's limits and rules, the initial values a form shows, and the records a field
with ``appendTo`` adds to a list. Other packages use these through `forms`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from engine import clock
from engine.errors import ExpressionError, InvalidInput
from engine.store import text as free_text

from . import expressions, formrules, formunits, sites
from .formtypes import FormField

LONG_RANGE = 2**63  # a `long` is 64 bits, as in Camunda
_TRUE = {"true", "on", "1", "yes", "是"}
_FALSE = {"false", "off", "0", "no", "否", ""}


def default_values(fields: tuple[FormField, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """Initial values shown in a form: the case's current value, else the field's default."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.id in data and data[f.id] is not None:
            values[f.id] = "\n".join(map(str, data[f.id])) if f.lines and isinstance(data[f.id], list) else data[f.id]
        elif f.default is not None:
            if expressions.unwrap(f.default) != f.default.strip():
                try:
                    values[f.id] = expressions.evaluate(f.default, dict(data))
                except ExpressionError:
                    values[f.id] = None
            else:
                values[f.id] = _convert(f, f.default)[0]
    return values


def _convert(f: FormField, raw: Any) -> tuple[Any, str | None]:
    """Convert one submitted value to the field's type; (value, error message).
    A checkbox left out is false; any other field left empty has no value."""
    if f.type == "boolean":
        return _to_boolean(raw)
    if f.type == "unit":  # one unit, or a list of several
        return formunits.convert_unit(f, raw)
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None, None
    if not isinstance(raw, (str, int, float)):  # a JSON list or object where one value belongs
        return None, "须为单个值,不能是列表或对象"
    convert = _CONVERTERS.get(f.type)
    return convert(f, raw) if convert else (None, "未知的字段类型")


def _to_boolean(raw: Any) -> tuple[bool | None, str | None]:
    if isinstance(raw, bool):
        return raw, None
    text = "" if raw is None else str(raw).strip().lower()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return None, "请选择“是”或“否”"


def _to_text(f: FormField, raw: str | int | float) -> tuple[str, None]:
    return (raw.strip() if isinstance(raw, str) else str(raw)), None


def _to_choice(f: FormField, raw: str | int | float) -> tuple[str | None, str | None]:
    """The id of one of the field's options."""
    value = str(raw)
    if value not in {c.id for c in f.choices}:
        return None, f"“{value[:40]}” 不是可选项之一:{'、'.join(c.name for c in f.choices)}"
    return value, None


def _to_long(f: FormField, raw: str | int | float) -> tuple[int | None, str | None]:
    """A whole number within Camunda's 64-bit `long`; a fraction, true/false or "1e999" is none."""
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        return None, "请输入整数"
    try:
        number = int(raw) if isinstance(raw, (int, float)) else int(str(raw).strip())
    except (ValueError, OverflowError):  # also "1e999" and thousands of digits
        return None, "请输入整数"
    if not -LONG_RANGE <= number < LONG_RANGE:
        return None, "整数超出范围(须在 ±9223372036854775807 之内)"
    return number, None


def _to_double(f: FormField, raw: str | int | float) -> tuple[float | None, str | None]:
    """A finite number: "nan", "inf" and "1e999" are no amount anyone means."""
    if isinstance(raw, bool):
        return None, "请输入数字"
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return None, "请输入数字"
    return (number, None) if math.isfinite(number) else (None, "请输入数字")


def _to_date(f: FormField, raw: str | int | float) -> tuple[str | None, str | None]:
    """A day as ISO text; a time after the date (from a datetime input) is dropped."""
    try:
        return date.fromisoformat(str(raw).strip()[:10]).isoformat(), None
    except ValueError:
        return None, "请输入日期(年-月-日)"


_CONVERTERS: dict[str, Callable[[FormField, Any], tuple[Any, str | None]]] = {
    "string": _to_text, "enum": _to_choice, "long": _to_long, "double": _to_double, "date": _to_date,
    "user": formrules.convert_person,
}


def validate(fields: tuple[FormField, ...], submitted: Mapping[str, Any], data: Mapping[str, Any],
             failures: sites.Failures | None = None) -> dict[str, Any]:
    """Clean `submitted` against the form; raise InvalidInput with one message per bad field.

    Only fields of the form are returned: a caller cannot inject other case variables.
    A field left out entirely (not sent empty) takes its default value. A requiredIf or a default
    that cannot be computed goes to `failures`, for the caller to record on the case.

    The checks run in this order, each on the fields the earlier ones found no fault with: each
    value's type and limits, options that depend on another field and date limits (`formrules`), then
    required and requiredIf, then validIf (which sees the case's data
    with the submitted values over it)."""
    cleaned, errors = _clean(fields, submitted)
    for fid, message in {**formrules.dependency_errors(fields, cleaned, data),
                         **formrules.date_limit_errors(fields, cleaned, data, clock.today())}.items():
        errors.setdefault(fid, message)
    names = {**dict(data), **cleaned}
    errors |= _missing(fields, cleaned, errors, names, failures or sites.Failures(""))
    errors |= _invalid(fields, errors, names)
    if failures is not None:
        _attempt_unneeded(fields, cleaned, data, names, failures)
    if errors:
        labels = {f.id: f.label for f in fields}
        summary = ";".join(f"{labels[k]}:{v}" for k, v in errors.items())
        raise InvalidInput(f"表单有 {len(errors)} 处需要修改:{summary}", errors)
    return cleaned


def _clean(fields: tuple[FormField, ...], submitted: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each editable field's value converted to its type (a `list` field split into its lines), and the
    fields whose value cannot be converted or breaks a limit. A value over a limit is still cleaned."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    defaults = default_values(tuple(f for f in fields if f.id not in submitted and f.default is not None), {})
    for f in fields:
        if f.readonly:
            continue
        value, error = _convert(f, submitted.get(f.id, defaults.get(f.id)))
        if error:
            errors[f.id] = error
            continue
        if value is not None and (error := _limit_problem(f, value)):
            errors[f.id] = error
        cleaned[f.id] = _split_lines(value) if value is not None and f.lines else value
    return cleaned, errors


def _split_lines(text: str) -> list[str] | None:
    """A `list` field's text as its non-blank lines, stripped; none at all is no value."""
    return [line.strip() for line in text.splitlines() if line.strip()] or None


def _limit_problem(f: FormField, value: Any) -> str | None:
    """What is wrong with a converted value against the field's limits: a text's length (and the rules
    of all free text, `engine/store/text.py`) or a number's range."""
    if f.type == "string":
        return _text_problem(f, value)
    if f.type in ("long", "double"):
        return _number_problem(f, value)
    return None


def _text_problem(f: FormField, value: str) -> str | None:
    if found := free_text.problem(value, f.max_length or free_text.LONG):
        return found
    if f.min_length is not None and len(value) < f.min_length:
        return f"至少 {f.min_length} 个字"
    return None


def _number_problem(f: FormField, value: float) -> str | None:
    if f.minimum is not None and value < f.minimum:
        return f"不能小于 {f.minimum:g}"
    if f.maximum is not None and value > f.maximum:
        return f"不能大于 {f.maximum:g}"
    return None


def _missing(fields: tuple[FormField, ...], cleaned: dict[str, Any], errors: dict[str, str],
             names: dict[str, Any], failures: sites.Failures) -> dict[str, str]:
    """The editable fields left without a value that are required, or whose requiredIf holds. A requiredIf
    that cannot be computed goes to `failures` and makes the field required, saying so."""
    missing: dict[str, str] = {}
    for f in fields:
        if f.id in errors or f.readonly or cleaned.get(f.id) is not None:
            continue
        needed, why = f.required, ""
        if not needed and f.required_if:
            computed, value = failures.attempt("requiredIf", f.required_if, names, f.id)
            needed = bool(value) if computed else True
            why = "" if computed else f"(条件必填规则 {expressions.unwrap(f.required_if)} 无法计算,按必填处理)"
        if needed:
            missing[f.id] = "此项为必填项" + why
    return missing


def _invalid(fields: tuple[FormField, ...], errors: dict[str, str], names: dict[str, Any]) -> dict[str, str]:
    """The editable fields not yet at fault whose validIf does not hold."""
    return {f.id: f.valid_if_message or f"不符合校验条件:{expressions.unwrap(f.valid_if)}"
            for f in fields
            if f.valid_if and not f.readonly and f.id not in errors and not _holds(f.valid_if, names)}


def _attempt_unneeded(fields: tuple[FormField, ...], cleaned: dict[str, Any], data: Mapping[str, Any],
                      names: dict[str, Any], failures: sites.Failures) -> None:
    """Compute what this submission did not need, so a failure is recorded all the same: the requiredIf
    of a field that has a value, and each default expression the form showed for an empty field."""
    for f in fields:
        if f.required_if and not f.readonly and cleaned.get(f.id) is not None:
            failures.attempt("requiredIf", f.required_if, names, f.id)
        if f.default is not None and expressions.unwrap(f.default) != f.default.strip() and data.get(f.id) is None:
            failures.attempt("defaultValue", f.default, dict(data), f.id)


def _holds(rule: str, names: dict[str, Any]) -> bool:
    """A validIf rule over the submitted values; one that cannot be evaluated does not hold."""
    try:
        return bool(expressions.evaluate(rule, names))
    except ExpressionError:
        return False


def appended(fields: tuple[FormField, ...], cleaned: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list]:
    """Fields marked ``appendTo="x"`` add one record to the list variable ``x`` per completion,
    so a step repeated in a loop (登记意见) accumulates its entries instead of overwriting them. A read-only
    field in the record carries the value the step showed: the 职能部门 of one 部门报到 beside its report."""
    targets: dict[str, list[FormField]] = {}
    for f in fields:
        if f.append_to:
            targets.setdefault(f.append_to, []).append(f)
    lists: dict[str, list] = {}
    for target, group in targets.items():
        record = {f.id: data.get(f.id) if f.readonly else cleaned.get(f.id) for f in group}
        if any(v not in (None, "", False) for f, v in zip(group, record.values(), strict=True) if not f.readonly):
            lists[target] = [*(data.get(target) or []), record]
    return lists
