"""Form fields that choose units (单位字段): a field of type `unit` stores a unit's id, or with the property
`multiple = true` a list of ids (吹哨: the 职能部门 summoned to 报到). The property `level` (职能部门, 街道 …)
limits the choices to the open units of that level in the whole deployment — a 街道 may summon its own
科室 and the 区's departments alike, which hang beside the tree under the 区 or the 街道.

The choices are filled in when a page shows the form or a submission is checked (`engine.work.formpages`),
so a unit the page did not offer, or one closed meanwhile, is refused on the server too. A step reads the
stored id through its property `unitField` to go to that unit (`engine.work.routing`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .formtypes import Choice, FormField

UNIT_PROPERTIES = ("level", "multiple")
_SHOWN_OPTIONS = 12  # a message lists the options only while they are few enough to read


def unit_field_problems(fid: str, ftype: str, named: Mapping[str, str], default: str | None) -> list[str]:
    """`level` and `multiple` belong to unit fields; `multiple` is true or false; a unit field has no
    default, since unit ids differ from one deployment to the next."""
    found = []
    if ftype != "unit":
        found += [f"表单字段 “{fid}” 的属性 {name} 只用于单位字段(type = unit)"
                  for name in UNIT_PROPERTIES if name in named]
        return found
    if named.get("multiple", "false").strip().lower() not in ("true", "false"):
        found.append(f"单位字段 “{fid}” 的属性 multiple 只能是 true(可选多个单位)或 false")
    if "level" in named and not named["level"].strip():
        found.append(f"单位字段 “{fid}” 的属性 level 为空;请写单位层级,例如 职能部门,或删去该属性")
    if default is not None:
        found.append(f"单位字段 “{fid}” 不能有默认值:各地的单位不同,请由办理人选择")
    return found


def with_units(fields: tuple[FormField, ...],
               options: Callable[[str | None], tuple[Choice, ...]]) -> tuple[FormField, ...]:
    """The form with each unit field's choices: `options(level)` gives (unit id, name) of the open units."""
    return tuple(replace(f, choices=options(f.unit_level)) if f.type == "unit" else f for f in fields)


def convert_unit(f: FormField, raw: Any) -> tuple[int | list[int] | None, str | None]:
    """The id of one of the field's units, or for a `multiple` field the ids of several (in the order
    offered, each once); nothing chosen is no value."""
    items = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    items = [item for item in items if item is not None and str(item).strip() != ""]
    if not items:
        return None, None
    if len(items) > 1 and not f.multiple:
        return None, "只能选择一个单位"
    offered = {c.id for c in f.choices}
    for item in items:
        if isinstance(item, (bool, dict, list)) or str(item).strip() not in offered:
            return None, _not_offered(f, item)
    chosen = {str(item).strip() for item in items}
    ids = [int(c.id) for c in f.choices if c.id in chosen]
    return (ids if f.multiple else ids[0]), None


def _not_offered(f: FormField, item: Any) -> str:
    kind = f.unit_level or "单位"
    if not f.choices:
        return f"目前没有可选的{kind}"
    if len(f.choices) > _SHOWN_OPTIONS:
        return f"“{str(item)[:40]}” 不是可选的{kind}"
    return f"“{str(item)[:40]}” 不是可选的{kind};可选:{'、'.join(c.name for c in f.choices)}"
