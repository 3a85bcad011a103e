"""考核 and rankings (排名): the figures of every unit at one level, for one period, ranked; a unit's
figures aggregate the cases of its whole subtree (区 → 街道 → 社区 → 网格), so a row drills down to its
children. Every figure is defined in docs/auditor-guide.md (考核与排名); in short, over the non-sandbox
cases received (started) in the period whose unit is at or below the row's unit:

- 受理量: those cases;
- 按期办结率, 响应率, 解决率, 满意率: as in the auditors' statistics (`engine.audit.statistics`), so the
  figures of a whole tree and the statistics of the same days agree;
- 逾期件: cases with a step finished after its due time or still open past it;
- 退单: steps completed with “退回负责人(退单)” (the form field return_to_leader) ticked;
- 延期: approved 延期申请;
- 督办: cases escalated to a supervisor (an overdue step's `escalated` event) or with a step in a lane
  the diagram escalates to (`escalateTo`: 逾期督办, 答复超期督办, 督办复核).

Each figure is one SQL aggregate grouped by `Case.unit_id` (`unitfigures`); only the per-unit sums are
added up the tree.
Who may read: auditors, 管理员, 上级部门 and 社区负责人, for the units at or below where they hold one of
those roles (`viewer_scope`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.errors import Forbidden, InvalidInput
from engine.people import units
from engine.store.db import Database
from engine.store.models import Unit

from .periods import Period
from .unitfigures import Counts, unit_counts

RANKING_ROLES = ("审计", "管理员", "上级部门", "社区负责人")
NOT_ALLOWED = "只有审计人员、管理员、上级部门和社区负责人可以查看考核排名"
# key, column label, whether more is better
FIGURES = (("received", "受理量", True), ("on_time", "按期办结率", True), ("response", "响应率", True),
           ("resolution", "解决率", True), ("satisfaction", "满意率", True), ("overdue", "逾期件", False),
           ("returned", "退单", False), ("extended", "延期", False), ("supervised", "督办", False))
RATES = ("on_time", "response", "resolution", "satisfaction")


@dataclass(frozen=True)
class Row:
    unit_id: int
    name: str
    level: str
    counts: Counts
    rank: int | None  # None: nothing to rank by (no rated case, no step with a due time …)
    drills: bool  # the unit has units below it to drill down to


@dataclass(frozen=True)
class Crumb:
    unit_id: int | None
    name: str


@dataclass(frozen=True)
class Ranking:
    period: Period
    unit: Crumb | None  # the unit whose subtree is ranked (None: every unit the viewer sees)
    crumbs: tuple[Crumb, ...]  # the way down to it, within the viewer's scope
    level: str
    levels: tuple[str, ...]
    sort: str
    rows: tuple[Row, ...]
    total: Counts


def viewer_scope(session: Session, actor: Actor) -> frozenset[str] | None:
    """The unit paths whose subtrees the actor may rank: where they hold a ranking role."""
    if not actor.has_role(*RANKING_ROLES):
        raise Forbidden(NOT_ALLOWED)
    if actor.id is None:
        return None
    held = actor.units_of(*RANKING_ROLES)
    paths = session.scalars(select(Unit.path).where(Unit.id.in_(held))).all()
    roots = session.scalar(select(func.count(Unit.id)).where(Unit.parent_id.is_(None))) or 0
    return units.scope_of(paths, roots)


def _tree(session: Session, scope: frozenset[str] | None) -> list[units.UnitView]:
    """The units of the tree (not those beside it) the viewer sees, in tree order."""
    return [u for u in units.all_units(session) if not u.beside and (scope is None or
                                                                     any(u.path.startswith(p) for p in scope))]


def _base(session: Session, tree: list[units.UnitView], unit_id: int | None,
          scope: frozenset[str] | None) -> tuple[list[units.UnitView], units.UnitView | None]:
    """The units whose subtrees are ranked: the chosen one, else the viewer's top units (one top unit
    is opened at once, so a 区's people land on its 街道)."""
    by_id = {u.id: u for u in tree}
    if unit_id is not None:
        if unit_id not in by_id:
            units.get(session, unit_id)  # 404 when it does not exist at all
            raise Forbidden("该单位不在您可以查看的范围内")
        return [by_id[unit_id]], by_id[unit_id]
    tops = [u for u in tree if not any(u.path != o.path and u.path.startswith(o.path) for o in tree)]
    return (tops, tops[0]) if len(tops) == 1 else (tops, None)


def compute(session: Session, scope: frozenset[str] | None, period: Period, unit_id: int | None = None,
            level: str = "", sort: str = "satisfaction") -> Ranking:
    if sort not in {key for key, _, _ in FIGURES}:
        raise InvalidInput(f"没有排序指标“{sort[:20]}”", {"sort": "请选择列表中的排序指标"})
    tree = _tree(session, scope)
    base, chosen = _base(session, tree, unit_id, scope)
    inside = [u for u in tree if any(u.path.startswith(b.path) for b in base)]
    below = [u for u in inside if chosen is None or u.id != chosen.id]
    levels = _levels(below)
    level = _chosen_level(level, levels)
    listed = [u for u in below if u.level == level]
    per_unit = unit_counts(session, period, [b.path for b in base])
    totals = _roll_up(per_unit, {u.id: u.path for u in inside}, listed)
    parents = {u.parent_id for u in tree}
    rows = rank([Row(u.id, u.name, u.level, totals[u.id], None, u.id in parents) for u in listed], sort)
    crumbs = tuple(Crumb(u.id, u.name) for u in _way_down(tree, chosen))
    top = Crumb(chosen.id, chosen.name) if chosen else None
    return Ranking(period, top, crumbs, level, levels, sort, tuple(rows), sum(per_unit.values(), Counts()))


def _chosen_level(level: str, levels: tuple[str, ...]) -> str:
    """The level asked for (one of `levels`), else the highest."""
    if level and level not in levels:
        raise InvalidInput(f"没有层级“{level[:20]}”", {"level": "请选择列表中的层级"})
    return level or (levels[0] if levels else "")


def _levels(found: list[units.UnitView]) -> tuple[str, ...]:
    """The levels of these units, the highest in the tree first."""
    depth: dict[str, int] = {}
    for u in found:
        depth[u.level] = min(depth.get(u.level, u.depth), u.depth)
    return tuple(sorted(depth, key=lambda lv: (depth[lv], lv)))


def _roll_up(per_unit: dict[int, Counts], paths: dict[int, str], listed: list[units.UnitView]) -> dict[int, Counts]:
    """Each listed unit's counts: the sum over the case units at or below it."""
    totals: dict[int, Counts] = {u.id: Counts() for u in listed}
    for case_unit, counts in per_unit.items():
        owner = next((a for a in units.ancestors(paths.get(case_unit, "")) if a in totals), None)
        if owner is not None:
            totals[owner] = totals[owner] + counts
    return totals


def _way_down(tree: list[units.UnitView], chosen: units.UnitView | None) -> list[units.UnitView]:
    if chosen is None:
        return []
    by_id = {u.id: u for u in tree}
    return [by_id[a] for a in reversed(units.ancestors(chosen.path)) if a in by_id]


def rank(rows: list[Row], key: str) -> list[Row]:
    """Best first by `key` (more is better, except for 逾期件, 退单, 延期 and 督办); equal values share a
    rank (1, 2, 2, 4); rows without a value come last, unranked, by name."""
    better = next(more for k, _, more in FIGURES if k == key)
    valued = [(r.counts.value(key), r) for r in rows]
    known = sorted(((v, r) for v, r in valued if v is not None), key=lambda vr: (-vr[0] if better else vr[0],
                                                                                     vr[1].name))
    ranked, last, position = [], None, 0
    for index, (value, row) in enumerate(known, start=1):
        if value != last:
            position, last = index, value
        ranked.append(replace(row, rank=position))
    return ranked + sorted((r for v, r in valued if v is None), key=lambda r: r.name)


def ranking(db: Database, actor: Actor, period: Period, unit_id: int | None = None, level: str = "",
            sort: str = "satisfaction") -> Ranking:
    with db.read() as session:
        return compute(session, viewer_scope(session, actor), period, unit_id, level, sort)


def csv_table(r: Ranking) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The ranking as CSV rows: rank, unit, level, then each figure (a rate as a fraction, 4 places)."""
    header = ("名次", "单位", "层级", *(label for _, label, _ in FIGURES))

    def cells(counts: Counts) -> list[Any]:
        out = []
        for key, _, _ in FIGURES:
            value = counts.value(key)
            out.append("" if value is None else f"{value:.4f}" if key in RATES else value)
        return out

    rows = [(row.rank or "", row.name, row.level, *cells(row.counts)) for row in r.rows]
    rows.append(("", "合计", "", *cells(r.total)))
    return header, rows

