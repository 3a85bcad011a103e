"""The 社区 a resident chooses: where their matter goes, whose public board and 办事指南 they read.

Which units are communities: every open unit of the tree at the community level, which is
- “社区” when a unit of the tree has that level (the seeds' word, and the default unit's): a district
  whose 社区 have no 网格 yet must not take its 街道 for communities;
- otherwise read from the data: the level of the units that hold the leaves of the tree (each leaf
  votes for its parent's level, a tie goes to the deeper level) — a deployment whose levels are
  镇 → 村 → 组 has its 村 as communities, a 村 with no 组 yet among them.
A tree of a single unit is its own community. Below a community, a resident may name their 网格: its
open children in the tree.

Each community (and each unit above one, e.g. a 街道) has its own public address by its id,
/public/board/u/<id> and /public/procedures/u/<id>: ids never change when a unit is renamed, a link
printed on a notice or in a QR code keeps working, and nothing of a name needs escaping in a URL.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn.formtypes import Choice, FormField
from engine.errors import InvalidInput, NotFound
from engine.people import units
from engine.people.units import UnitView
from engine.store.models import Unit
from engine.work import unitpicks

COMMUNITY = "社区"
COMMUNITY_FIELD = "community_id"
GRID_FIELD = "grid_id"


@dataclass(frozen=True)
class PublicUnit:
    """A unit as a resident reads it: its name and level, and its address's id."""

    id: int
    name: str
    level: str
    label: str  # with the units above it that tell two of the same name apart: "东岗街道 › 光明社区"


@dataclass(frozen=True)
class Choosing:
    """Where a resident's matter goes: the 社区 select (None when there is only one) and the 网格 select
    below it (None when no community has any)."""

    community: FormField | None
    grid: FormField | None

    @property
    def fields(self) -> tuple[FormField, ...]:
        return tuple(f for f in (self.community, self.grid) if f is not None)


def _tree(session: Session) -> list[UnitView]:
    return [u for u in units.all_units(session, include_closed=False) if not u.beside]


def community_level(tree: list[UnitView]) -> str | None:
    """社区 when the tree has that level, else the level the leaves' parents have (see the module)."""
    if any(u.level == COMMUNITY for u in tree):
        return COMMUNITY
    by_id = {u.id: u for u in tree}
    parents = {u.parent_id for u in tree}
    votes = Counter((by_id[u.parent_id].level, by_id[u.parent_id].depth) for u in tree
                    if u.id not in parents and u.parent_id in by_id)
    if not votes:
        return tree[0].level if tree else None
    return max(votes.items(), key=lambda item: (item[1], item[0][1]))[0][0]


def communities_in(tree: list[UnitView]) -> list[UnitView]:
    level = community_level(tree)
    return [u for u in tree if u.level == level]


def choosing(session: Session) -> Choosing:
    """The 社区 and 网格 selects of the residents' form, labelled with the levels' names."""
    tree = _tree(session)
    found = communities_in(tree)
    ids = {u.id for u in found}
    grids = [u for u in tree if u.parent_id in ids]
    community = None
    if len(found) > 1:
        names = unitpicks.labels(session, [u.id for u in found])
        community = FormField(COMMUNITY_FIELD, f"所在{found[0].level}", "enum", required=True,
                              choices=tuple(Choice(str(u.id), names[u.id]) for u in found))
    grid = None
    if grids:
        level = Counter(u.level for u in grids).most_common(1)[0][0]
        grid = FormField(GRID_FIELD, f"所在{level}(可不选)", "enum",
                         choices=tuple(Choice(str(u.id), u.name) for u in grids),
                         depends_on=COMMUNITY_FIELD if community else None,
                         option_parents=tuple((str(u.id), (str(u.parent_id),)) for u in grids) if community else ())
    return Choosing(community, grid)


def chosen_unit(session: Session, values: dict[str, Any]) -> int | None:
    """The unit a resident's matter goes to: the 网格 when one was chosen, else the 社区 (required when
    there is more than one); None: the only 社区, or the default unit."""
    tree = _tree(session)
    found = communities_in(tree)
    by_id = {u.id: u for u in tree}
    community_id = unitpicks.parse_unit_id(values.get(COMMUNITY_FIELD), COMMUNITY_FIELD, "所在社区")
    grid_id = unitpicks.parse_unit_id(values.get(GRID_FIELD), GRID_FIELD, "所在网格")
    level = found[0].level if found else "社区"
    if len(found) > 1:
        if community_id is None:
            raise InvalidInput(f"请选择所在{level}", {COMMUNITY_FIELD: f"请选择所在{level}"})
        if community_id not in {u.id for u in found}:
            raise InvalidInput(f"所选{level}不存在", {COMMUNITY_FIELD: f"请从列表中选择{level}"})
    elif found:
        community_id = found[0].id
    if grid_id is None:
        return community_id
    grid = by_id.get(grid_id)
    if grid is None or grid.parent_id != community_id:
        problem = f"所选网格不在所选{level}内,请重新选择" if grid is not None else "所选网格不存在"
        raise InvalidInput(problem, {GRID_FIELD: problem})
    return grid_id


def grid_name(session: Session, unit_id: int | None) -> str | None:
    """The name of the 网格 a matter went to, when it went to one below a community."""
    if unit_id is None:
        return None
    tree = _tree(session)
    community_ids = {u.id for u in communities_in(tree)}
    unit = next((u for u in tree if u.id == unit_id), None)
    return unit.name if unit is not None and unit.parent_id in community_ids else None


@dataclass(frozen=True)
class Places:
    """A public page's places: the unit it is about (None: the whole deployment) and the units a
    resident may choose instead (none when there is only one)."""

    unit: PublicUnit | None
    choices: tuple[PublicUnit, ...]


def places(session: Session, unit_id: int | None) -> Places:
    found = public_units(session)
    return Places(public_unit(session, unit_id) if unit_id is not None else None,
                  found if len(found) > 1 else ())


def public_units(session: Session) -> tuple[PublicUnit, ...]:
    """The units with their own board and 办事指南: each community and every unit above one, in tree
    order (a 街道 before its 社区)."""
    tree = _tree(session)
    found = communities_in(tree)
    wanted = {a for u in found for a in units.ancestors(u.path)}
    shown = [u for u in tree if u.id in wanted]
    names = unitpicks.labels(session, [u.id for u in shown])
    return tuple(PublicUnit(u.id, u.name, u.level, names[u.id]) for u in shown)


def public_unit(session: Session, unit_id: int) -> PublicUnit:
    """A unit whose public pages a resident may open: one of the tree (a 职能部门 has none)."""
    unit = session.get(Unit, unit_id) if 0 < unit_id <= unitpicks.MAX_ID else None
    if unit is None or unit.beside:
        raise NotFound("没有这个社区的公开页面,请从公示栏选择您的社区")
    names = units.names(session, units.ancestors(unit.path))
    label = " › ".join(names[u] for u in reversed(units.ancestors(unit.path)))
    return PublicUnit(unit.id, unit.name, unit.level, label)
