"""The 考核 page in one read: the ranking of units (`rankings`), 四单 积旗 (`flags`) and the results of
社区评议街道 (`reviews`), for one period, within what the viewer may see."""
from __future__ import annotations

from dataclasses import dataclass

from engine.actor import Actor
from engine.people import units
from engine.store.db import Database

from . import flags, periods, rankings, reviews


@dataclass(frozen=True)
class Assessment:
    ranking: rankings.Ranking
    flags: flags.Flags
    reviews: tuple[reviews.Reviews, ...]
    periods: tuple[periods.Period, ...]  # what the chooser offers


def assessment(db: Database, actor: Actor, period: periods.Period, unit_id: int | None = None, level: str = "",
               sort: str = "satisfaction") -> Assessment:
    """The 积旗 and the 评议 results are those of the unit drilled down to, when one is chosen."""
    with db.read() as session:
        scope = rankings.viewer_scope(session, actor)
        ranking = rankings.compute(session, scope, period, unit_id, level, sort)
        if ranking.unit is not None:
            scope = frozenset({units.get(session, ranking.unit.unit_id).path})
        return Assessment(ranking, flags.compute(session, scope, period), reviews.compute(session, scope, period),
                          periods.recent())
