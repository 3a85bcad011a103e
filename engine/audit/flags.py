"""四单 积旗 (seed 001, 组织晒单): each 网格's 接单 in a month, the monthly ranking of 网格 and of
包保单位 by red flags, and the two last-ranked 网格 to be named (通报).

- A **接单** is a completed human step whose name says 接单 — in 四单 共商公家事(包保单位接单),
  共议大家事(党员网格员接单), 共解自家事(志愿服务队接单) — counted in the month it was completed.
- **积旗**: the seed gives one small red flag for each 接单 done ("完成1次接单任务及1面小红旗"), so a
  网格's score is the 接单 done on the cases of the 网格 (and of the 网格 below it), and a 包保单位's
  score the 接单 done by people who hold a role in that 包保单位.
- **通报**: "每月评比成绩排名后2位的网格进行通报": the 网格 whose score is no higher than the
  second-lowest score (ties at the bottom are all named), when more than two 网格 are ranked and not all
  have the same score (a month without any 接单 names nobody).
  "连续2次被通报批评的网格包保单位,报请县委进行处理": a 网格 named this month and the month before is
  marked 连续通报, and its 包保单位 are listed to be reported upward.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn import deployments
from engine.errors import Forbidden
from engine.people import units
from engine.store.db import Database
from engine.store.models import Case, DiagramVersion, HumanTask, UserRole

from .periods import Period
from .rankings import viewer_scope

GRID_LEVEL = "网格"
TAKING = "接单"


@dataclass(frozen=True)
class FlagRow:
    unit_id: int
    name: str
    grid: str  # the 网格 (for a 包保单位: the 网格 it looks after)
    flags: int
    rank: int


@dataclass(frozen=True)
class Flags:
    period: Period
    grids: tuple[FlagRow, ...]
    sponsors: tuple[FlagRow, ...]  # 包保单位
    named: tuple[FlagRow, ...]  # 通报: the last two 网格
    named_again: tuple[str, ...]  # 网格 named this month and the month before
    report_up: tuple[str, ...]  # their 包保单位, to be reported upward


def _ranked(rows: list[tuple[int, str, str, int]]) -> tuple[FlagRow, ...]:
    ordered = sorted(rows, key=lambda r: (-r[3], r[1]))
    out, last, position = [], None, 0
    for index, (unit_id, name, grid, flags) in enumerate(ordered, start=1):
        if flags != last:
            position, last = index, flags
        out.append(FlagRow(unit_id, name, grid, flags, position))
    return tuple(out)


def taking_steps(session: Session) -> dict[int, set[str]]:
    """Per diagram version: its 接单 steps."""
    found = {}
    for version_id in session.scalars(select(DiagramVersion.id)):
        steps = {s.id for s in deployments.diagram_of(session, version_id).steps.values() if TAKING in s.name}
        if steps:
            found[version_id] = steps
    return found


def _taken(period: Period, steps: dict[int, set[str]]):  # noqa: ANN202
    """The completed 接单 steps of the month, as a select over HumanTask joined to its case."""
    return (select().select_from(HumanTask).join(Case, Case.id == HumanTask.case_id)
            .where(Case.sandbox.is_(False), HumanTask.status == "COMPLETED",
                   HumanTask.completed_at >= period.start, HumanTask.completed_at < period.end,
                   or_(*((Case.version_id == v) & HumanTask.step_id.in_(ids) for v, ids in steps.items()))))


def _last_two(grids: tuple[FlagRow, ...]) -> tuple[FlagRow, ...]:
    if len(grids) <= 2 or len({g.flags for g in grids}) == 1:  # nothing to tell them apart by
        return ()
    floor = sorted(g.flags for g in grids)[1]
    return tuple(g for g in grids if g.flags <= floor)


def _sees(scope: frozenset[str] | None, path: str) -> bool:
    return scope is None or any(path.startswith(p) for p in scope)


def _grids_and_sponsors(every: list[units.UnitView], scope: frozenset[str] | None) -> tuple[list, list]:
    """The 网格 the viewer sees, and the units beside them (their 包保单位)."""
    seen = [u for u in every if _sees(scope, u.path)]
    grids = [u for u in seen if u.level == GRID_LEVEL and not u.beside]
    grid_ids = {u.id for u in grids}
    return grids, [u for u in seen if u.beside and u.parent_id in grid_ids]


def compute(session: Session, scope: frozenset[str] | None, period: Period) -> Flags:
    every = units.all_units(session)
    grids, sponsors = _grids_and_sponsors(every, scope)
    names = {u.id: u.name for u in every}
    paths = {u.id: u.path for u in every}
    steps = taking_steps(session)
    sponsor_flags = _sponsor_flags(session, period, steps, [u.id for u in sponsors])
    ranked_grids = _grid_ranking(session, period, grids, paths, steps)
    named = _last_two(ranked_grids)
    before = {g.unit_id for g in _last_two(_grid_ranking(session, period.previous(), grids, paths, steps))}
    again = [g for g in named if g.unit_id in before]
    again_ids = {g.unit_id for g in again}
    return Flags(period, ranked_grids,
                 _ranked([(u.id, u.name, names.get(u.parent_id, ""), sponsor_flags[u.id]) for u in sponsors]),
                 named, tuple(g.name for g in again),
                 tuple(u.name for u in sponsors if u.parent_id in again_ids))


def _sponsor_flags(session: Session, period: Period, steps: dict[int, set[str]], sponsors: list[int]) -> dict[int, int]:
    """Per 包保单位: the 接单 of the month done by people who hold a role in it."""
    found = dict.fromkeys(sponsors, 0)
    if steps and sponsors:
        found.update(dict(session.execute(
            _taken(period, steps).add_columns(UserRole.unit_id, func.count(func.distinct(HumanTask.id)))
            .join(UserRole, UserRole.user_id == HumanTask.completed_by_id)
            .where(UserRole.unit_id.in_(sponsors)).group_by(UserRole.unit_id)).all()))
    return found


def _grid_ranking(session: Session, period: Period, grids: list[units.UnitView],
                  paths: dict[int, str], steps: dict[int, set[str]]) -> tuple[FlagRow, ...]:
    """网格 by 接单 in the month; a 大网格 counts the 接单 of the 小网格 below it too."""
    flags = {u.id: 0 for u in grids}
    if steps and grids:
        for unit_id, n in session.execute(_taken(period, steps)
                                          .add_columns(Case.unit_id, func.count(HumanTask.id))
                                          .group_by(Case.unit_id)).all():
            for ancestor in units.ancestors(paths.get(unit_id, "")):
                if ancestor in flags:
                    flags[ancestor] += n
    return _ranked([(u.id, u.name, u.name, flags[u.id]) for u in grids])


def flags(db: Database, actor: Actor, period: Period, unit_id: int | None = None) -> Flags:
    """The 积旗 of the 网格 the actor may see, or of those under `unit_id` (which they must see)."""
    with db.read() as session:
        scope = viewer_scope(session, actor)
        if unit_id is not None:
            path = units.get(session, unit_id).path
            if not _sees(scope, path):
                raise Forbidden("该单位不在您可以查看的范围内")
            scope = frozenset({path})
        return compute(session, scope, period)

