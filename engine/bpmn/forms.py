"""Forms drawn in the diagram (Camunda 7 ``camunda:formData``), and their validation.

A designer adds, removes or changes fields in the modeler; the task list renders
and validates them from here, so no code changes with the form.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from lxml import etree

from engine import clock
from engine.errors import ExpressionError, InvalidInput
from engine.store import text as free_text

from . import expressions, sites

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
TYPES = {"string", "long", "double", "boolean", "date", "enum", "user"}
CONSTRAINTS = {"required", "requiredIf", "validIf", "readonly", "min", "max", "minlength", "maxlength"}
_IDENTIFIER = re.compile(r"^[^\W\d]\w*$")
LONG_RANGE = 2**63  # a `long` is 64 bits, as in Camunda
_TRUE = {"true", "on", "1", "yes", "是"}
_FALSE = {"false", "off", "0", "no", "否", ""}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TODAY = re.compile(r"^today\s*(?:([+-])\s*(\d{1,5}))?$")


@dataclass(frozen=True)
class Choice:
    id: str
    name: str


@dataclass(frozen=True)
class FormField:
    """One field: what the task list renders and what `validate` enforces."""

    id: str
    label: str
    type: str
    default: str | None = None
    required: bool = False
    required_if: str | None = None
    readonly: bool = False
    choices: tuple[Choice, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    multiline: bool = False
    public: bool = False
    valid_if: str | None = None
    valid_if_message: str | None = None
    lines: bool = False
    append_to: str | None = None
    line: int | None = None
    properties: tuple[tuple[str, str], ...] = field(default=())
    date_min: str | None = None
    date_max: str | None = None
    limit_labels: tuple[tuple[str, str], ...] = ()
    depends_on: str | None = None
    option_parents: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def offered_for(self, choice: str) -> tuple[str, ...]:
        """The values of `depends_on` under which the option `choice` is offered (empty: no dependency)."""
        return dict(self.option_parents).get(choice, ())

    @property
    def html_min(self) -> str | None:
        """The earliest date as a browser's date input takes it, once `resolve_dates` made it concrete."""
        return self.date_min if _ISO_DATE.match(self.date_min or "") else None

    @property
    def html_max(self) -> str | None:
        return self.date_max if _ISO_DATE.match(self.date_max or "") else None

    @property
    def widget(self) -> str:
        if self.type == "string":
            return "textarea" if self.multiline or self.lines else "text"
        return {"long": "number", "double": "number", "boolean": "checkbox", "date": "date",
                "enum": "select", "user": "select"}[self.type]

    @property
    def role(self) -> str | None:
        """A `user` field's role: its choices are the people who hold it now (`with_people`)."""
        return dict(self.properties).get("role", "").strip() or None


def _c(tag: str) -> str:
    return f"{{{CAMUNDA}}}{tag}"


def parse_form(element: etree._Element) -> tuple[tuple[FormField, ...], list[tuple[str, int | None, str]]]:
    """Read the form of a start event or task. Returns (fields, problems as (field id, line, message))."""
    fields: list[FormField] = []
    problems: list[tuple[str, int | None, str]] = []
    seen: set[str] = set()
    for node in element.iterfind(f"./{{*}}extensionElements/{_c('formData')}/{_c('formField')}"):
        fid = node.get("id", "")
        line = node.sourceline
        problem = lambda msg, fid=fid, line=line: problems.append((fid, line, msg))  # noqa: E731
        if not _IDENTIFIER.match(fid):
            problem(f"表单字段 id “{fid}” 不合法:须以字母或汉字开头,只含字母、数字、下划线")
            continue
        if fid in seen:
            problem(f"表单字段 id “{fid}” 重复")
            continue
        seen.add(fid)
        ftype = node.get("type") or "string"
        if ftype not in TYPES:
            problem(f"表单字段 “{fid}” 的类型 “{ftype}” 不受支持;可用: {', '.join(sorted(TYPES))}")
            continue
        kw: dict[str, Any] = {}
        for c in node.iterfind(f"./{_c('validation')}/{_c('constraint')}"):
            name, config = c.get("name", ""), c.get("config")
            if name not in CONSTRAINTS:
                problem(f"表单字段 “{fid}” 的校验规则 “{name}” 不受支持;可用: {', '.join(sorted(CONSTRAINTS))}")
            elif name in ("required", "readonly"):
                kw[name] = config is None or config.strip().lower() != "false"
            elif name in ("requiredIf", "validIf"):
                try:
                    expressions.check(config or "")
                    kw["required_if" if name == "requiredIf" else "valid_if"] = config
                except ExpressionError as exc:
                    problem(f"表单字段 “{fid}” 的 {name} 条件无效: {exc.message}")
            elif name in ("min", "max") and ftype == "date":
                if found := date_limit_problem(config):
                    problem(f"表单字段 “{fid}” 的校验规则 {name}:{found}")
                else:
                    kw["date_" + name] = (config or "").strip()
            else:
                try:
                    number = float(config or "")
                except ValueError:
                    problem(f"表单字段 “{fid}” 的校验规则 {name} 需要数字,得到 “{config}”")
                    continue
                key = {"min": "minimum", "max": "maximum", "minlength": "min_length",
                       "maxlength": "max_length"}[name]
                kw[key] = int(number) if name.endswith("length") else number
        props = tuple(
            (p.get("id") or p.get("name") or "", p.get("value") or "")
            for p in node.iterfind(f"./{_c('properties')}/{_c('property')}")
        )
        flags = {k: v.strip().lower() == "true" for k, v in props}
        named = dict(props)
        append_to = named.get("appendTo", "").strip() or None
        if append_to is not None and not _IDENTIFIER.match(append_to):
            problem(f"表单字段 “{fid}” 的 appendTo “{append_to}” 不是合法的变量名")
        if named.get("list", "lines") != "lines":
            problem(f"表单字段 “{fid}” 的 list 属性只支持 “lines”(每行一项)")
        elif "list" in named and ftype != "string":
            problem(f"表单字段 “{fid}” 的 list 属性只用于文本字段")
        choices = tuple(Choice(v.get("id", ""), v.get("name") or v.get("id", "")) for v in node.iterfind(_c("value")))
        if found := people_field_problem(fid, ftype, named):
            problem(found)
        kw.update(dependent_options(fid, ftype, named, props, problem))
        if ftype == "enum" and not choices:
            problem(f"下拉字段 “{fid}” 没有任何选项")
        if ftype == "string":  # every text field has a maximum; the diagram may only lower it
            ceiling = free_text.LONG if flags.get("multiline") or "list" in named else free_text.LINE
            kw["max_length"] = min(kw.get("max_length", ceiling), ceiling)
        default = node.get("defaultValue")
        if default is not None and expressions.unwrap(default) != default.strip():
            try:
                expressions.check(default)
            except ExpressionError as exc:
                problem(f"表单字段 “{fid}” 的默认值表达式无效: {exc.message}")
        fields.append(FormField(
            id=fid, label=node.get("label") or fid, type=ftype, default=default, choices=choices,
            multiline=flags.get("multiline", False), public=flags.get("public", False), line=line,
            valid_if_message=named.get("validIfMessage") or None, lines="list" in named,
            append_to=append_to, properties=props, **kw,
        ))
    problems.extend(dependency_problems(tuple(fields)))
    ids = {f.id for f in fields}
    for f in fields:
        if f.append_to in ids:
            problems.append((f.id, f.line, f"表单字段 “{f.id}” 的 appendTo “{f.append_to}” 与表单字段重名"))
    return tuple(fields), problems


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
    """Convert one submitted value to the field's type; (value, error message)."""
    if f.type == "boolean":
        if isinstance(raw, bool):
            return raw, None
        text = "" if raw is None else str(raw).strip().lower()
        if text in _TRUE:
            return True, None
        if text in _FALSE:
            return False, None
        return None, "请选择“是”或“否”"
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return None, None
    if not isinstance(raw, (str, int, float)):  # a JSON list or object where one value belongs
        return None, "须为单个值,不能是列表或对象"
    if f.type == "string":
        return (raw.strip() if isinstance(raw, str) else str(raw)), None
    if f.type == "user":
        return _convert_person(f, str(raw))
    if f.type == "enum":
        value = str(raw)
        if value not in {c.id for c in f.choices}:
            return None, f"“{value[:40]}” 不是可选项之一:{'、'.join(c.name for c in f.choices)}"
        return value, None
    if f.type == "long":
        if isinstance(raw, bool):
            return None, "请输入整数"
        try:
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError
            number = int(str(raw).strip()) if not isinstance(raw, (int, float)) else int(raw)
        except (ValueError, OverflowError):  # also "1e999" and thousands of digits
            return None, "请输入整数"
        if not -LONG_RANGE <= number < LONG_RANGE:
            return None, "整数超出范围(须在 ±9223372036854775807 之内)"
        return number, None
    if f.type == "double":
        try:
            if isinstance(raw, bool):
                raise ValueError
            number = float(raw)
            if not math.isfinite(number):  # "nan", "inf", "1e999": no amount anyone means
                raise ValueError
            return number, None
        except (TypeError, ValueError):
            return None, "请输入数字"
    if f.type == "date":
        try:
            return date.fromisoformat(str(raw).strip()[:10]).isoformat(), None
        except ValueError:
            return None, "请输入日期(年-月-日)"
    return None, "未知的字段类型"


def validate(fields: tuple[FormField, ...], submitted: Mapping[str, Any], data: Mapping[str, Any],
             failures: sites.Failures | None = None) -> dict[str, Any]:
    """Clean `submitted` against the form; raise InvalidInput with one message per bad field.

    Only fields of the form are returned: a caller cannot inject other case variables.
    A field left out entirely (not sent empty) takes its default value. A requiredIf or a default
    that cannot be computed goes to `failures`, for the caller to record on the case.
    """
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
        if value is not None:
            if f.type == "string":
                if found := free_text.problem(value, f.max_length or free_text.LONG):
                    errors[f.id] = found
                elif f.min_length is not None and len(value) < f.min_length:
                    errors[f.id] = f"至少 {f.min_length} 个字"
            elif f.type in ("long", "double"):
                if f.minimum is not None and value < f.minimum:
                    errors[f.id] = f"不能小于 {f.minimum:g}"
                elif f.maximum is not None and value > f.maximum:
                    errors[f.id] = f"不能大于 {f.maximum:g}"
            if f.lines:
                value = [text.strip() for text in value.splitlines() if text.strip()] or None
        cleaned[f.id] = value
    for fid, message in {**dependency_errors(fields, cleaned, data),
                         **date_limit_errors(fields, cleaned, data, clock.today())}.items():
        errors.setdefault(fid, message)
    names = {**dict(data), **cleaned}
    for f in fields:
        if f.id in errors or f.readonly or cleaned.get(f.id) is not None:
            continue
        needed, why = f.required, ""
        if not needed and f.required_if:
            computed, value = (failures or sites.Failures("")).attempt("requiredIf", f.required_if, names, f.id)
            needed = bool(value) if computed else True
            why = "" if computed else f"(条件必填规则 {expressions.unwrap(f.required_if)} 无法计算,按必填处理)"
        if needed:
            errors[f.id] = "此项为必填项" + why
    for f in fields:
        if f.valid_if and not f.readonly and f.id not in errors and not _holds(f.valid_if, names):
            errors[f.id] = f.valid_if_message or f"不符合校验条件:{expressions.unwrap(f.valid_if)}"
    if failures is not None:  # rules this submission did not need, and the defaults the form showed
        for f in fields:
            if f.required_if and not f.readonly and cleaned.get(f.id) is not None:
                failures.attempt("requiredIf", f.required_if, names, f.id)
            if f.default is not None and expressions.unwrap(f.default) != f.default.strip() and data.get(f.id) is None:
                failures.attempt("defaultValue", f.default, dict(data), f.id)
    if errors:
        labels = {f.id: f.label for f in fields}
        summary = ";".join(f"{labels[k]}:{v}" for k, v in errors.items())
        raise InvalidInput(f"表单有 {len(errors)} 处需要修改:{summary}", errors)
    return cleaned


def _holds(rule: str, names: dict[str, Any]) -> bool:
    """A validIf rule over the submitted values; one that cannot be evaluated does not hold."""
    try:
        return bool(expressions.evaluate(rule, names))
    except ExpressionError:
        return False


def appended(fields: tuple[FormField, ...], cleaned: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list]:
    """Fields marked ``appendTo="x"`` add one record to the list variable ``x`` per completion,
    so a step repeated in a loop (登记意见) accumulates its entries instead of overwriting them."""
    targets: dict[str, list[FormField]] = {}
    for f in fields:
        if f.append_to:
            targets.setdefault(f.append_to, []).append(f)
    lists: dict[str, list] = {}
    for target, group in targets.items():
        record = {f.id: cleaned.get(f.id) for f in group}
        if any(v not in (None, "", False) for v in record.values()):
            lists[target] = [*(data.get(target) or []), record]
    return lists


# --- people: a `user` field lists the holders of a role ----------------------------------------
# 分类交办 names the 承办人 who will do the work: a field of type `user` with the property
# `role` = 承办人. Its choices are filled from the accounts that hold the role when a page shows it
# or a submission is checked (engine.work.formpages), so the value is always a current holder's username.

def people_field_problem(fid: str, ftype: str, named: Mapping[str, str]) -> str | None:
    if ftype == "user" and not named.get("role", "").strip():
        return f"人员字段 “{fid}” 须有属性 role(从哪个角色的人员中选择),例如 role = 承办人"
    if ftype != "user" and "role" in named:
        return f"表单字段 “{fid}” 的属性 role 只用于人员字段(type = user)"
    return None


def with_people(fields: tuple[FormField, ...], holders: Callable[[str], tuple[Choice, ...]]) -> tuple[FormField, ...]:
    """The form with each `user` field's choices: `holders(role)` gives (username, display name)."""
    return tuple(replace(f, choices=holders(f.role or "")) if f.type == "user" else f for f in fields)


def _convert_person(f: FormField, value: str) -> tuple[Any, str | None]:
    if any(c.id == value for c in f.choices):
        return value, None
    if not f.choices:
        return None, f"目前没有担任“{f.role}”的在职人员可选"
    return None, f"请从担任“{f.role}”的人员中选择:{'、'.join(c.name for c in f.choices)}"


# --- options that depend on another field: 具体途径 within the chosen 受理渠道 ---------------------
# The field's property `dependsOn` = the id of an enum field of the same form; one property
# `when:<that field's option>` = this field's options offered then, separated by commas.

def dependent_options(fid: str, ftype: str, named: Mapping[str, str], props: tuple[tuple[str, str], ...],
                      problem: Callable[[str], None]) -> dict[str, Any]:
    parent = named.get("dependsOn", "").strip()
    whens = [(key[len("when:"):].strip(), value) for key, value in props if key.startswith("when:")]
    if not parent:
        if whens:
            problem(f"表单字段 “{fid}” 有 when: 属性,但没有写 dependsOn(依据哪个字段)")
        return {}
    if ftype != "enum":
        problem(f"表单字段 “{fid}” 的 dependsOn 只用于下拉字段(enum)")
        return {}
    parents: dict[str, list[str]] = {}
    for parent_value, options in whens:
        for option in (o.strip() for o in options.replace(",", ",").split(",") if o.strip()):
            parents.setdefault(option, []).append(parent_value)
    return {"depends_on": parent, "option_parents": tuple((k, tuple(v)) for k, v in parents.items())}


def dependency_problems(fields: tuple[FormField, ...]) -> list[tuple[str, int | None, str]]:
    """A `dependsOn` names an enum field of the same form; its `when:` values and options exist."""
    by_id = {f.id: f for f in fields}
    found = []
    for f in fields:
        if not f.depends_on:
            continue
        parent = by_id.get(f.depends_on)
        if parent is None or parent.type != "enum":
            found.append((f.id, f.line, f"表单字段 “{f.id}” 的 dependsOn “{f.depends_on}” 不是同一表单中的下拉字段"))
            continue
        own, theirs = {c.id for c in f.choices}, {c.id for c in parent.choices}
        for option, values in f.option_parents:
            if option not in own:
                found.append((f.id, f.line, f"表单字段 “{f.id}” 的 when: 属性列出的 “{option}” 不是它的选项"))
            for value in values:
                if value not in theirs:
                    found.append((f.id, f.line, f"表单字段 “{f.id}” 的属性 when:{value} 中的 “{value}” "
                                                f"不是 “{parent.label}” 的选项"))
        for option in sorted(own - dict(f.option_parents).keys()):
            found.append((f.id, f.line, f"表单字段 “{f.id}” 的选项 “{option}” 没有列在任何 when: 属性中,永远不会出现"))
    return found


def dependency_errors(fields: tuple[FormField, ...], cleaned: Mapping[str, Any],
                      data: Mapping[str, Any]) -> dict[str, str]:
    """An option chosen outside the parent's current value, e.g. 电子信箱/网站 under 走家入户上门受理."""
    names = {**dict(data), **{k: v for k, v in cleaned.items() if v is not None}}
    labels = {f.id: f.label for f in fields}
    errors = {}
    for f in fields:
        value, parent = cleaned.get(f.id), names.get(f.depends_on or "")
        if not f.depends_on or f.readonly or value is None or parent is None:
            continue
        if parent not in f.offered_for(value):
            allowed = [c.name for c in f.choices if parent in f.offered_for(c.id)]
            errors[f.id] = (f"“{value}” 不属于{labels.get(f.depends_on, f.depends_on)}“{parent}”;"
                            f"可选:{'、'.join(allowed) or '无'}")
    return errors


# --- date limits: `min` / `max` on a date field ----------------------------------------------
# A rule is `today`, `today+N` / `today-N` (days), a date (`2026-01-01`) or the id of another date
# field of the diagram (`received_at`): 承诺办结日期 not before today, 批复日期 not after today and not
# before the matter was received. A rule naming a field that is still empty limits nothing.

def date_limit_problem(config: str | None) -> str | None:
    """Why a date field's min/max rule cannot be read (whether a named field exists is the diagram's check)."""
    text = (config or "").strip()
    if _TODAY.match(text) or (_IDENTIFIER.match(text) and text != "today"):
        return None
    if _ISO_DATE.match(text):
        try:
            date.fromisoformat(text)
            return None
        except ValueError:
            return f"“{text}” 不是有效的日期"
    return (f"“{text[:40]}” 无法识别;请写 today、today+天数、today-天数、日期(如 2026-01-01)"
            "或另一个日期字段的 id")


def limit_fields(f: FormField) -> tuple[str, ...]:
    """The ids of the fields a date field's min/max rules name."""
    return tuple(rule for rule in (f.date_min, f.date_max)
                 if rule and not _TODAY.match(rule) and not _ISO_DATE.match(rule))


def with_limit_labels(fields: tuple[FormField, ...], labels: Mapping[str, str]) -> tuple[FormField, ...]:
    """Fields whose rules name other fields learn those fields' labels, for the messages a person reads."""
    return tuple(replace(f, limit_labels=tuple((ref, labels.get(ref, ref)) for ref in limit_fields(f)))
                 if limit_fields(f) else f for f in fields)


def _limit(rule: str, values: Mapping[str, Any], today: date, labels: Mapping[str, str]) -> tuple[date, str] | None:
    """The date a rule names now, and how a message says it; None when the named field is empty."""
    if m := _TODAY.match(rule):
        days = int(m[2] or 0) * (-1 if m[1] == "-" else 1)
        bound = today + timedelta(days=days)
        return bound, ("今天" if days == 0 else f"今天{'之后' if days > 0 else '之前'} {abs(days)} 天") + f"({bound})"
    if _ISO_DATE.match(rule):
        return date.fromisoformat(rule), rule
    try:
        bound = date.fromisoformat(str(values.get(rule) or "")[:10])
    except ValueError:
        return None
    return bound, f"“{labels.get(rule, rule)}”({bound})"


def date_limit_errors(fields: tuple[FormField, ...], cleaned: Mapping[str, Any], data: Mapping[str, Any],
                      today: date) -> dict[str, str]:
    """One message per date field whose value lies outside its min/max, e.g. “不能早于今天(2026-11-23)”."""
    names = {**dict(data), **{k: v for k, v in cleaned.items() if v is not None}}
    labels = {f.id: f.label for f in fields}
    errors: dict[str, str] = {}
    for f in fields:
        if f.type != "date" or f.readonly or not cleaned.get(f.id):
            continue
        value = date.fromisoformat(cleaned[f.id])
        known = {**dict(f.limit_labels), **labels}
        low = _limit(f.date_min, names, today, known) if f.date_min else None
        high = _limit(f.date_max, names, today, known) if f.date_max else None
        if low and value < low[0]:
            errors[f.id] = f"不能早于{low[1]}"
        elif high and value > high[0]:
            errors[f.id] = f"不能晚于{high[1]}"
    return errors


def resolve_dates(fields: tuple[FormField, ...], values: Mapping[str, Any], today: date) -> tuple[FormField, ...]:
    """The form as a page shows it: each min/max that is known now becomes a date, for the browser's
    date picker (`html_min`, `html_max`). A rule naming a field of the same form stays as it is, since
    that value may still change; the server checks every rule again on submit."""
    own = {f.id for f in fields}
    resolved = []
    for f in fields:
        bounds = {}
        for key in ("date_min", "date_max"):
            rule = getattr(f, key)
            if rule and rule not in own and (found := _limit(rule, values, today, {})):
                bounds[key] = found[0].isoformat()
        resolved.append(replace(f, **bounds) if bounds else f)
    return tuple(resolved)
