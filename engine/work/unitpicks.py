"""The units a member of staff may pick: to register a case in (所属单位, at 受理) and to move one to
(转办, `transfer`). Both offer open units of the tree (a unit beside it, 职能部门 or 包保单位, owns no
cases) under names a person reads: "光明社区 › 第一网格", the part every choice shares left out.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn.formtypes import Choice, FormField
from engine.errors import InvalidInput
from engine.people import units
from engine.store.models import Unit

UNIT_FIELD = "unit_id"
MAX_ID = 2**31 - 1  # an id column's range: a larger number would be a database error, not a missing unit


def labels(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    """Each unit's name with its ancestors' ("街道 › 光明社区 › 第一网格"), without the ancestors every
    one of them shares: a choice among the 网格 of one 社区 reads "第一网格", "第二网格"."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    paths = dict(session.execute(select(Unit.id, Unit.path).where(Unit.id.in_(ids))).all())
    chains = {u: list(reversed(units.ancestors(p))) for u, p in paths.items()}
    shared = 0
    first = next(iter(chains.values()))
    while all(len(c) > shared + 1 and c[shared] == first[shared] for c in chains.values()):
        shared += 1
    named = units.names(session, {u for c in chains.values() for u in c})
    return {u: " › ".join(named[a] for a in chain[shared:]) for u, chain in chains.items()}


def open_tree_units(session: Session, within: Iterable[str] | None) -> list[int]:
    """The open units of the tree at or below the paths `within` (None: every one), in tree order."""
    found = [u for u in units.all_units(session, include_closed=False) if not u.beside]
    if within is None:
        return [u.id for u in found]
    paths = tuple(within)
    return [u.id for u in found if u.path.startswith(paths)] if paths else []


def choices(session: Session, unit_ids: list[int]) -> tuple[Choice, ...]:
    named = labels(session, unit_ids)
    return tuple(Choice(str(u), named[u]) for u in unit_ids)


def intake_field(session: Session, actor: Actor, start_roles: Iterable[str] = ()) -> tuple[FormField, int]:
    """The 所属单位 select of a start form: the open tree units the actor sees, and the one chosen first
    (their own unit, `units.home_unit`, as `cases.start_case` takes it when none is given)."""
    offered = open_tree_units(session, actor.scope)
    home = units.home_unit(session, actor.grants, start_roles)
    if home not in offered and offered:
        home = offered[0]
    return FormField(UNIT_FIELD, "所属单位", "enum", required=True, choices=choices(session, offered)), home


def parse_unit_id(value: object, field: str = UNIT_FIELD, label: str = "所属单位") -> int | None:
    """A unit id from a form or JSON value; None when nothing was chosen."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{label}不是有效的单位", {field: "请从列表中选择单位"})
    try:
        unit_id = int(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{label}不是有效的单位", {field: "请从列表中选择单位"}) from None
    if not 0 < unit_id <= MAX_ID:
        raise InvalidInput(f"{label}不存在", {field: "请从列表中选择单位"})
    return unit_id
