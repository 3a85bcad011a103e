"""The form rules a designer adds to fields beyond Camunda's own (read in `formfields`, checked in
`formvalues`): a `user` field whose choices are the people holding a role, options that depend on
another field's value (具体途径 within the chosen 受理渠道), and date limits relative to today or to
another date field (`min=today`, `max=today`, `min=received_at`).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from .formtypes import ISO_DATE, Choice, FormField

IDENTIFIER = re.compile(r"^[^\W\d]\w*$")
_TODAY = re.compile(r"^today\s*(?:([+-])\s*(\d{1,5}))?$")


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


def convert_person(f: FormField, raw: Any) -> tuple[Any, str | None]:
    value = str(raw)
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
        for option in (o.strip() for o in options.replace("，", ",").split(",") if o.strip()):
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
    if _TODAY.match(text) or (IDENTIFIER.match(text) and text != "today"):
        return None
    if ISO_DATE.match(text):
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
                 if rule and not _TODAY.match(rule) and not ISO_DATE.match(rule))


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
    if ISO_DATE.match(rule):
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
