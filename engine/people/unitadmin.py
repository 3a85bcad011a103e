"""单位管理 (管理员): add, rename, move, close (撤销) and reopen units, import a district from a file, and
the auditors' record of it all (审计 › 单位变更).

Only a 管理员 manages units, and only those inside their scope: one whose roles are held in 龙山街道
manages 龙山街道 and what is below it, never its 区 or a neighbouring 街道. A new top unit (a second
tree) is made on the command line only. Every change is one `UnitEvent`, with names (not ids) as they
were at the time. The command line (`minyi unit …`) acts as `COMMAND_LINE`, an administrator of everything.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.store.db import Database
from engine.store.models import Case, Unit, UnitEvent, UserRole

from . import unitimport, units
from .oversight import audit_scope, require_auditor

ADMIN_ROLE = "管理员"
COMMAND_LINE = Actor(None, "命令行", "命令行", frozenset({ADMIN_ROLE}), scope=None)
SUGGESTED_LEVELS = ("区", "街道", "社区", "网格", "职能部门", "包保单位")


@dataclass(frozen=True)
class UnitRow:
    """One unit on the 单位管理 page: where it sits and how many people and cases it holds."""

    unit: units.UnitView
    parent_name: str | None
    people: int  # accounts holding a role in it
    cases: int


@dataclass(frozen=True)
class UnitsPage:
    rows: tuple[UnitRow, ...]
    parents: tuple[units.UnitView, ...]  # the open units the viewer may add to or move into
    may_add_root: bool
    levels: tuple[str, ...]


def units_page(db: Database, actor: Actor) -> UnitsPage:
    """The units the administrator sees, in tree order, with what each holds."""
    _require_admin(actor)
    with db.read() as session:
        seen = [u for u in units.all_units(session) if actor.sees_path(u.path)]
        named = {u.id: u.name for u in seen} | units.names(session, (u.parent_id for u in seen if u.parent_id))
        people = dict(session.execute(select(UserRole.unit_id, func.count(func.distinct(UserRole.user_id)))
                                      .group_by(UserRole.unit_id)).all())
        cases = dict(session.execute(select(Case.unit_id, func.count()).group_by(Case.unit_id)).all())
        levels = tuple(dict.fromkeys(SUGGESTED_LEVELS + tuple(sorted({u.level for u in seen}))))
    rows = tuple(UnitRow(u, named.get(u.parent_id) if u.parent_id else None, people.get(u.id, 0),
                         cases.get(u.id, 0)) for u in seen)
    return UnitsPage(rows, tuple(u for u in seen if not u.closed), _may_add_under(actor, None), levels)


def add_unit(db: Database, actor: Actor, values: Mapping[str, Any]) -> units.UnitView:
    """A new unit from `name`, `level`, `parent_id` (empty: a new root) and `beside`."""
    _require_admin(actor)
    with db.write() as session:
        units.lock_tree(session)
        parent = _unit_field(session, values.get("parent_id"), "parent_id", "上级单位")
        _require_may_add_under(actor, parent)
        made = units.create_unit(session, actor.username, str(values.get("name") or ""),
                                 str(values.get("level") or ""), parent.id if parent else None,
                                 beside=values.get("beside") in (True, "1", "on", "true", "yes"))
        return units.view(made)


def rename(db: Database, actor: Actor, unit_id: int, name: str, level: str | None = None) -> units.UnitView:
    """A new name (and, given, a new level) for a unit."""
    _require_admin(actor)
    with db.write() as session:
        units.lock_tree(session)
        unit = _managed(session, actor, unit_id)
        units.rename_unit(session, actor.username, unit, name, level)
        return units.view(unit)


def move(db: Database, actor: Actor, unit_id: int, parent_id: Any) -> units.UnitView:
    """The unit and its subtree under another unit (both inside the administrator's scope)."""
    _require_admin(actor)
    with db.write() as session:
        units.lock_tree(session)
        unit = _managed(session, actor, unit_id)
        parent = _unit_field(session, parent_id, "parent_id", "新的上级单位")
        if parent is None:
            raise InvalidInput("请选择新的上级单位", {"parent_id": "请选择新的上级单位"})
        _require_may_add_under(actor, parent)
        units.move_unit(session, actor.username, unit, parent)
        return units.view(unit)


def close(db: Database, actor: Actor, unit_id: int) -> units.UnitView:
    _require_admin(actor)
    with db.write() as session:
        units.lock_tree(session)
        unit = _managed(session, actor, unit_id)
        units.close_unit(session, actor.username, unit)
        return units.view(unit)


def reopen(db: Database, actor: Actor, unit_id: int) -> units.UnitView:
    _require_admin(actor)
    with db.write() as session:
        units.lock_tree(session)
        unit = _managed(session, actor, unit_id)
        units.reopen_unit(session, actor.username, unit)
        return units.view(unit)


def import_units(db: Database, actor: Actor, filename: str, content: bytes) -> unitimport.Imported:
    """A district from a CSV or TOML file (see `unitimport`): all of it, or nothing."""
    _require_admin(actor)
    lines = unitimport.parse(filename, content)
    with db.write() as session:
        units.lock_tree(session)
        return unitimport.apply(session, actor.username, lines, lambda parent: _may_add_under(actor, parent))


def resolve(db: Database, text: str) -> int:
    """A unit named on the command line by its id or its name path ("龙山区/龙山街道")."""
    text = (text or "").strip()
    with db.read() as session:
        if text.isdigit():
            return units.get(session, int(text)).id
        found = units.find(session, text) if text else None
        if found is None:
            raise NotFound(f"单位“{text}”不存在(请写编号或从顶层起的名称路径,如 龙山区/龙山街道)")
        return found.id


@dataclass(frozen=True)
class UnitChange:
    """One entry of the record of unit changes (单位变更), as auditors read it."""

    at: datetime
    actor: str
    unit_id: int
    unit_name: str  # the unit's name today
    kind: str
    kind_name: str
    summary: str


KIND_NAMES = {"unit_created": "新建单位", "unit_renamed": "改名", "unit_moved": "调整上级", "unit_closed": "撤销",
              "unit_reopened": "恢复"}


def unit_changes(db: Database, actor: Actor, unit_id: int | None = None, limit: int = 500) -> list[UnitChange]:
    """The newest changes to units first, optionally of one unit (审计 and 管理员), of the units the reader
    audits."""
    require_auditor(actor)
    query = select(UnitEvent).order_by(UnitEvent.id.desc()).limit(limit)
    if unit_id is not None:
        query = query.where(UnitEvent.unit_id == unit_id)
    with db.read() as session:
        in_units = units.in_scope(UnitEvent.unit_id, audit_scope(session, actor))
        if in_units is not None:
            query = query.where(in_units)
        events = list(session.scalars(query))
        named = units.names(session, (e.unit_id for e in events))
        return [UnitChange(e.at, e.actor, e.unit_id, named.get(e.unit_id, ""), e.kind, KIND_NAMES.get(e.kind, e.kind),
                           _summary(e.kind, dict(e.data))) for e in events]


def _summary(kind: str, data: dict) -> str:
    if kind == "unit_created":
        where = f"上级 {data['parent']}" if data.get("parent") else "顶层单位"
        return f"{data.get('name')}({data.get('level')}{',旁设' if data.get('beside') else ''});{where}"
    if kind == "unit_renamed":
        level = f";层级 {data['level_from']} → {data['level_to']}" if data.get("level_to") else ""
        return f"{data.get('from')} → {data.get('to')}{level}"
    if kind == "unit_moved":
        return f"上级 {data.get('from') or '(顶层)'} → {data.get('to_path') or data.get('to')}"
    return str(data.get("name") or "")


def _require_admin(actor: Actor) -> None:
    if not actor.has_role(ADMIN_ROLE):
        raise Forbidden("只有管理员可以管理单位")


def _may_add_under(actor: Actor, parent: Unit | None) -> bool:
    """Inside the actor's scope. A new top unit only on the command line: a second tree would take
    everyone's view of “everything” down to their own tree, the web's administrators' included."""
    return actor.id is None and actor.scope is None if parent is None else actor.sees_path(parent.path)


def _require_may_add_under(actor: Actor, parent: Unit | None) -> None:
    if not _may_add_under(actor, parent):
        raise Forbidden("只能在您所辖范围内的单位下添加或移入单位" if parent
                        else "新建顶层单位须在服务器上用 minyi unit add 命令;请选择上级单位")


def _managed(session: Session, actor: Actor, unit_id: int) -> Unit:
    unit = units.get(session, unit_id)
    if not actor.sees_path(unit.path):
        raise Forbidden("只能管理您所辖范围内的单位")
    return unit


def _unit_field(session: Session, value: Any, field: str, label: str) -> Unit | None:
    """The unit a form field names by id; None when empty."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not text.isdigit() or session.get(Unit, int(text)) is None:
        raise InvalidInput(f"{label}不存在", {field: f"{label}不存在"})
    return session.get(Unit, int(text))
