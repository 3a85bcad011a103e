"""Organisational units (单位): the tree a 街道 or 区 runs in, and where work goes in it.

- The tree is 区 → 街道 → 社区 → 网格; level names are data (`Unit.level`), never code. Units *beside*
  the tree (`beside`: 职能部门 under their 区 or 街道, 包保单位 under their 网格) own no cases; they see
  only what is sent to them.
- A unit's `path` lists the ids from the root down ("/1/4/9/"): its subtree is every unit whose path
  starts with its own, its ancestors are the ids in its path.
- Roles are held in units (`UserRole.unit_id`). A person sees the cases of every unit at or below one
  they hold a role in: their `scope`, kept as those units' paths (`in_scope` turns it into SQL).
- A step's role is wanted in one unit (`route`): the unit chosen in a form field (`unitField`), else
  the case's ancestor at a level (`unitLevel`), else the case's unit or the nearest unit above it
  where someone active holds the role.
- The default unit is the first root: an upgraded single-community database has exactly one,
  “本社区”, which holds every case and role (migration 0011).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine import clock
from engine.actor import Actor
from engine.errors import InvalidInput, NotFound
from engine.store import driver
from engine.store import text as free_text
from engine.store.models import Unit, UnitEvent


@dataclass(frozen=True)
class UnitView:
    id: int
    name: str
    level: str
    parent_id: int | None
    beside: bool
    path: str
    closed: bool

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


def view(unit: Unit) -> UnitView:
    return UnitView(unit.id, unit.name, unit.level, unit.parent_id, bool(unit.beside), unit.path,
                    unit.closed_at is not None)


def ancestors(path: str) -> list[int]:
    """The unit ids of a path, the unit itself first, then its parent, up to the root."""
    return [int(part) for part in reversed(path.strip("/").split("/")) if part]


def default_unit(session: Session) -> int:
    """The first root unit: where cases and roles go when nothing else is said. A database built by
    the migrations always has one; an empty one (tests truncating PostgreSQL) gets “本社区” back."""
    found = session.scalar(select(func.min(Unit.id)).where(Unit.parent_id.is_(None)))
    if found is not None:
        return found
    unit = Unit(name="本社区", level="社区", parent_id=None, beside=False, path="", position=0,
                created_at=clock.now())
    session.add(unit)
    session.flush()
    unit.path = f"/{unit.id}/"
    return unit.id


def get(session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"单位 {unit_id} 不存在")
    return unit


def all_units(session: Session, *, include_closed: bool = True) -> list[UnitView]:
    """Every unit in tree order (a parent before its children, siblings by position then name)."""
    query = select(Unit)
    if not include_closed:
        query = query.where(Unit.closed_at.is_(None))
    units = list(session.scalars(query))
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    known = {u.id for u in units}
    ordered: list[UnitView] = []

    def walk(parent: int | None) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: (u.beside, u.position, u.name, u.id)):
            ordered.append(view(unit))
            walk(unit.id)

    walk(None)
    for unit in units:  # a unit whose parent is filtered out (closed) still shows
        if unit.parent_id is not None and unit.parent_id not in known:
            ordered.append(view(unit))
            walk(unit.id)
    return ordered


def subtree_ids(session: Session, unit_ids: Iterable[int]) -> list[int]:
    """The units at or below any of `unit_ids` (one statement: each unit whose path starts with one of theirs)."""
    wanted = list(unit_ids)
    if not wanted:
        return []
    top = aliased(Unit)
    return list(session.scalars(select(Unit.id).join(top, Unit.path.startswith(top.path))
                                .where(top.id.in_(wanted)).distinct().order_by(Unit.id)))


def scope_of(paths: Iterable[str], roots: int) -> frozenset[str] | None:
    """An actor's scope from the paths of the units they hold roles in: those not below another one;
    None (every unit) when one is the root of the only tree."""
    paths = set(paths)
    if roots == 1 and any(p.count("/") == 2 for p in paths):
        return None
    return frozenset(p for p in paths if not any(p != q and p.startswith(q) for q in paths))


def in_scope(column: Any, scope: frozenset[str] | None) -> ColumnElement[bool] | None:
    """`column` (a unit id) is in the scope, as SQL; None when the scope is every unit."""
    if scope is None:
        return None
    if not scope:
        return column.in_([-1])
    return column.in_(select(Unit.id).where(or_(*(Unit.path.startswith(p) for p in sorted(scope)))))


def scope_ids(session: Session, scope: frozenset[str] | None) -> frozenset[int] | None:
    """The unit ids of a scope (None: every unit)."""
    condition = in_scope(Unit.id, scope)
    return None if condition is None else frozenset(session.scalars(select(Unit.id).where(condition)))


def sees(session: Session, actor: Actor, unit_id: int) -> bool:
    """The unit is at or below one the actor holds a role in."""
    if actor.scope is None:
        return True
    path = session.scalar(select(Unit.path).where(Unit.id == unit_id))
    return path is not None and actor.sees_path(path)


def names(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())


def routed_names(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    """`names`, taking those `route` has just read in this transaction from what it kept."""
    ids = set(unit_ids)
    kept = session.info.get(_ROUTED_NAMES, {})
    found = {unit: kept[unit] for unit in ids if unit in kept}
    return {**found, **names(session, ids - found.keys())} if len(found) < len(ids) else found


# the deepest unit at or above `case_unit` where an active person holds the role
_NEAREST_HOLDING = ("(SELECT held.id FROM units AS held JOIN user_roles AS held_role ON held_role.unit_id = held.id "
                    "JOIN users AS holder ON holder.id = held_role.user_id WHERE held_role.role = :role "
                    "AND holder.active = TRUE AND case_unit.path LIKE held.path || '%' "
                    "ORDER BY length(held.path) DESC LIMIT 1)")
# the case unit's path and name, and that unit (fixed text, as below)
_ROUTE = driver.Statement(
    "SELECT case_unit.path, case_unit.name, nearest.id AS nearest, nearest.name AS nearest_name "  # noqa: S608
    "FROM units AS case_unit LEFT JOIN units AS nearest ON nearest.id = {nearest} "
    "WHERE case_unit.id = :unit_id".format(nearest=_NEAREST_HOLDING))
# the active holders of the role in that unit, by display name
_HOLDERS_ROUTED = driver.Statement(
    "SELECT DISTINCT users.username, users.display_name FROM units AS case_unit "  # noqa: S608 — fixed text
    "JOIN user_roles ON user_roles.unit_id = {nearest} AND user_roles.role = :role "
    "JOIN users ON users.id = user_roles.user_id AND users.active = TRUE "
    "WHERE case_unit.id = :unit_id ORDER BY users.display_name, users.username".format(nearest=_NEAREST_HOLDING))
_ROUTED_NAMES = "minyi_routed_unit_names"


def route(session: Session, case_unit_id: int, role: str, *, level: str | None = None,
          chosen: Any = None) -> int:
    """The unit whose holders of `role` get a step of a case of `case_unit_id`:
    - `chosen` (the value of the step's `unitField`): that unit, when it exists and is open;
    - `level` (the step's `unitLevel`, e.g. 街道): the case unit's ancestor at that level;
    - otherwise the case's unit or the nearest unit above it where an active person holds the role;
      when nobody holds it anywhere up the chain, the case's own unit (the step waits there).
    One statement on the driver (it runs for every step that becomes ready, and for every person field
    of a form), after the session's pending changes — a role just given, a unit just moved — are written.
    The names it read are kept for `routed_names` in the same transaction."""
    found = driver.run(driver.after_pending(session), _ROUTE, {"unit_id": case_unit_id, "role": role}).first()
    if found is None:
        raise NotFound(f"单位 {case_unit_id} 不存在")
    named = session.info.setdefault(_ROUTED_NAMES, {})
    named[case_unit_id] = found.name
    if found.nearest is not None:
        named[found.nearest] = found.nearest_name
    picked = _chosen_unit(session, chosen)
    if picked is not None:
        return picked
    if level:
        chain = ancestors(found.path)
        levels = dict(session.execute(select(Unit.id, Unit.level).where(Unit.id.in_(chain))).all())
        at_level = [u for u in chain if levels.get(u) == level]
        if at_level:
            return at_level[0]
    return case_unit_id if found.nearest is None else found.nearest


def holders_routed(session: Session, case_unit_id: int, role: str) -> list[tuple[str, str]]:
    """The active holders of `role` (username, display name; by display name) in the unit `route` picks for a
    step of that role in a case of `case_unit_id` without a chosen unit or a level, read in one statement."""
    return [(row.username, row.display_name) for row in driver.run(
        driver.after_pending(session), _HOLDERS_ROUTED, {"unit_id": case_unit_id, "role": role}).all()]


def _chosen_unit(session: Session, chosen: Any) -> int | None:
    """The open unit a form field's value names, or None (no value, not a unit id, no such open unit)."""
    if chosen is None or chosen == "" or isinstance(chosen, bool):
        return None
    try:
        unit_id = int(chosen)
    except (TypeError, ValueError):
        return None
    if not 0 < unit_id < 2**31:  # beyond an id column's range: PostgreSQL would refuse the look-up itself
        return None
    found = session.get(Unit, unit_id)
    return unit_id if found is not None and found.closed_at is None else None


def home_unit(session: Session, grants: Iterable[tuple[str, int]], roles: Iterable[str] = ()) -> int:
    """Where a case someone registers belongs by default: the deepest tree unit in which they hold one
    of `roles` (the start lane), else any tree unit they hold a role in, else the default unit."""
    wanted = set(roles)
    grants = list(grants)
    ids = {unit for _, unit in grants}
    if not ids:
        return default_unit(session)
    rows = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids), Unit.beside.is_(False)))}
    for pool in ([u for r, u in grants if r in wanted], [u for _, u in grants]):
        candidates = [rows[u] for u in pool if u in rows and rows[u].closed_at is None]
        if candidates:
            return max(candidates, key=lambda u: (u.path.count("/"), -u.id)).id
    return default_unit(session)


# -- changes (each recorded for auditors in unit_events) ------------------------------------------------

_LOCK_TREE = driver.Statement("SELECT id FROM units WHERE parent_id IS NULL ORDER BY id", " FOR UPDATE")


def lock_tree(session: Session) -> None:
    """Changes to the tree go one at a time: two moves at once could each pass the check that the other
    does not make a loop, two adds the check that the name is free. On PostgreSQL the root rows are
    locked before anything of the tree is read (SQLite: the writer holds the database's write lock)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        driver.run(conn, _LOCK_TREE).all()

def record(session: Session, actor: str, unit_id: int, kind: str, data: dict) -> None:
    session.add(UnitEvent(at=clock.now(), actor=actor, unit_id=unit_id, kind=kind, data=data))


def create_unit(session: Session, actor: str, name: str, level: str, parent_id: int | None = None, *,
                beside: bool = False, position: int = 0, now: datetime | None = None) -> Unit:
    """A new unit under `parent_id` (None: a new root). Names must be unique among siblings."""
    name, level = _name(name), (level or "").strip()
    problem = free_text.problem(level, free_text.NAME) if level else "不能为空"
    if problem:
        raise InvalidInput(f"层级{problem}", {"level": f"层级{problem}"})
    parent = get(session, parent_id) if parent_id is not None else None
    if parent is not None and parent.closed_at is not None:
        raise InvalidInput(f"上级单位“{parent.name}”已撤销,不能再添加下级", {"parent_id": "上级单位已撤销"})
    _not_under_beside(parent, beside)
    _unique(session, name, parent_id)
    unit = Unit(name=name, level=level, parent_id=parent_id, beside=beside, path="", position=position,
                created_at=now or clock.now())
    session.add(unit)
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    record(session, actor, unit.id, "unit_created",
           {"name": name, "level": level, "parent": parent.name if parent else None, "beside": beside})
    return unit


def find(session: Session, names_path: str) -> Unit | None:
    """The unit at a name path from a root, "龙山区/龙山街道/光明社区" (None when a part is missing)."""
    unit: Unit | None = None
    for part in (p.strip() for p in names_path.strip().strip("/").split("/")):
        parent = None if unit is None else unit.id
        unit = session.scalar(select(Unit).where(
            Unit.name == part, Unit.parent_id.is_(None) if parent is None else Unit.parent_id == parent)
            .order_by(Unit.id).limit(1))
        if unit is None:
            return None
    return unit


def name_path(session: Session, unit: Unit) -> str:
    """"龙山区/龙山街道/光明社区": the names from the root down."""
    named = names(session, ancestors(unit.path))
    return "/".join(named.get(u, str(u)) for u in reversed(ancestors(unit.path)))


def rename_unit(session: Session, actor: str, unit: Unit, name: str, level: str | None = None) -> None:
    """A new name, unique among the unit's siblings, and optionally a new level (the default unit
    “本社区” becomes 龙山区, 区)."""
    name = _name(name)
    level = unit.level if level is None or not level.strip() else level.strip()
    problem = free_text.problem(level, free_text.NAME)
    if problem:
        raise InvalidInput(f"层级{problem}", {"level": f"层级{problem}"})
    if (name, level) == (unit.name, unit.level):
        return
    _unique(session, name, unit.parent_id, unit.id)
    data = {"from": unit.name, "to": name}
    if level != unit.level:
        data |= {"level_from": unit.level, "level_to": level}
    record(session, actor, unit.id, "unit_renamed", data)
    unit.name, unit.level = name, level


def move_unit(session: Session, actor: str, unit: Unit, parent: Unit) -> None:
    """`unit` and everything below it go under `parent`: every path in the subtree is rewritten. Refused
    under the unit itself or one below it, under a closed unit, or where a sibling has the same name."""
    if parent.path.startswith(unit.path):
        raise InvalidInput(f"不能把“{unit.name}”移到它自己或它的下级单位之下", {"parent_id": "不能移到自己或下级之下"})
    if parent.closed_at is not None:
        raise InvalidInput(f"上级单位“{parent.name}”已撤销,不能移入", {"parent_id": "该单位已撤销"})
    if unit.parent_id == parent.id:
        return
    _not_under_beside(parent, bool(unit.beside))
    _unique(session, unit.name, parent.id, unit.id)
    before = get(session, unit.parent_id).name if unit.parent_id is not None else None
    old, new = unit.path, f"{parent.path}{unit.id}/"
    for below in session.scalars(select(Unit).where(Unit.path.startswith(old))):
        below.path = new + below.path[len(old):]
    unit.parent_id = parent.id
    record(session, actor, unit.id, "unit_moved", {"from": before, "to": parent.name,
                                                   "to_path": name_path(session, parent)})


def close_unit(session: Session, actor: str, unit: Unit, now: datetime | None = None) -> None:
    """撤销: the unit keeps its cases, roles and history but takes no new cases or roles. Refused while a
    unit below it is open (close those first, or move them elsewhere: their cases would otherwise be
    routed up into a closed unit), and for the default unit (where work goes when nothing else is said)."""
    if unit.closed_at is not None:
        raise InvalidInput(f"“{unit.name}”已撤销", {"unit": "该单位已撤销"})
    if unit.id == default_unit(session):
        raise InvalidInput(f"“{unit.name}”是默认单位,不能撤销", {"unit": "默认单位不能撤销"})
    below = list(session.scalars(select(Unit.name).where(
        Unit.path.startswith(unit.path), Unit.id != unit.id, Unit.closed_at.is_(None)).order_by(Unit.path)))
    if below:
        shown = "、".join(below[:5]) + ("等" if len(below) > 5 else "")
        raise InvalidInput(f"“{unit.name}”下还有未撤销的单位:{shown};请先撤销或移走它们",
                           {"unit": "下级单位未撤销"})
    unit.closed_at = now or clock.now()
    record(session, actor, unit.id, "unit_closed", {"name": unit.name})


def reopen_unit(session: Session, actor: str, unit: Unit) -> None:
    """恢复 a closed unit; refused while its parent is closed."""
    if unit.closed_at is None:
        raise InvalidInput(f"“{unit.name}”未撤销", {"unit": "该单位在用"})
    parent = get(session, unit.parent_id) if unit.parent_id is not None else None
    if parent is not None and parent.closed_at is not None:
        raise InvalidInput(f"上级单位“{parent.name}”已撤销,请先恢复上级", {"unit": "上级单位已撤销"})
    unit.closed_at = None
    record(session, actor, unit.id, "unit_reopened", {"name": unit.name})


def _name(name: str) -> str:
    name = (name or "").strip()
    problem = free_text.problem(name, free_text.NAME) if name else "不能为空"
    if problem or "/" in name:
        message = f"单位名称{problem or '不能含有“/”'}"
        raise InvalidInput(message, {"name": message})
    return name


def _not_under_beside(parent: Unit | None, beside: bool) -> None:
    """A unit of the tree (it takes cases) never sits below a 职能部门 or 包保单位, which takes none."""
    if parent is not None and parent.beside and not beside:
        message = f"“{parent.name}”是旁设单位({parent.level}),其下只能设旁设单位"
        raise InvalidInput(message, {"parent_id": message})


def _unique(session: Session, name: str, parent_id: int | None, unit_id: int | None = None) -> None:
    clash = session.scalar(select(Unit.id).where(
        Unit.name == name, Unit.parent_id.is_(None) if parent_id is None else Unit.parent_id == parent_id,
        Unit.id != (unit_id or -1)))
    if clash is not None:
        raise InvalidInput(f"同一上级下已有名为“{name}”的单位", {"name": f"同一上级下已有名为“{name}”的单位"})
