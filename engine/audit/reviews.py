"""双向考核: the results of 社区评议街道 (seed 002, “社区定期评议街道”), per rated unit and period.

A diagram that rates a unit says so with the process property `ratesLevel` (processes/
shequ_pingyi_jiedao.bpmn: 街道): a case rates the ancestor at that level of the unit it was started in
(the 社区 of the 社区负责人 who filled it in), and every number field of its start form with a minimum and
a maximum is a score. The result per rated unit is the number of evaluations received in the period
(cases started in it, not sandbox) and the average of each score, read from the start form's values as
the audit chain recorded them (`case_started`). There are a handful of such cases per period, so the
averaging is done here, not in SQL.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn import deployments
from engine.people import units
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, DiagramVersion

from .periods import Period
from .rankings import viewer_scope


@dataclass(frozen=True)
class RatedUnit:
    unit_id: int
    name: str
    evaluations: int
    averages: tuple[float | None, ...]  # one per score, in `Reviews.scores` order
    overall: float | None  # the mean of the averages


@dataclass(frozen=True)
class Reviews:
    procedure: str  # 社区评议街道
    level: str  # 街道
    scores: tuple[str, ...]  # the score labels
    rows: tuple[RatedUnit, ...]  # best overall first


def _score_fields(session: Session) -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
    """Per rating procedure: its name, the level it rates and its score fields (id, label), newest version."""
    found = {}
    for version_id in session.scalars(select(DiagramVersion.id).where(DiagramVersion.draft.is_(False))
                                      .order_by(DiagramVersion.id)):
        d = deployments.diagram_of(session, version_id)
        level = d.properties.get("ratesLevel")
        if level:
            scores = [(f.id, f.label.split("(")[0]) for f in d.start_form
                      if f.type in ("long", "double") and f.minimum is not None and f.maximum is not None]
            found[d.process_id] = (d.name, level, scores)
    return found


def compute(session: Session, scope: frozenset[str] | None, period: Period) -> tuple[Reviews, ...]:
    out = []
    every = {u.id: u for u in units.all_units(session)}
    for process_id, (name, level, scores) in _score_fields(session).items():
        rows = session.execute(
            select(Case.unit_id, AuditEvent.data).join(AuditEvent, AuditEvent.case_id == Case.id)
            .where(Case.process_id == process_id, Case.sandbox.is_(False), Case.started_at >= period.start,
                   Case.started_at < period.end, AuditEvent.kind == "case_started")).all()
        sums: dict[int, list[list[float]]] = {}
        for unit_id, data in rows:
            rated = next((a for a in units.ancestors(every[unit_id].path) if every[a].level == level), None)
            if rated is None or not (scope is None or any(every[rated].path.startswith(p) for p in scope)):
                continue
            values = (data or {}).get("values", {})
            sums.setdefault(rated, []).append([values.get(field) for field, _ in scores])
        rated_units = []
        for unit_id, given in sums.items():
            averages = tuple(_mean([row[i] for row in given]) for i in range(len(scores)))
            known = [a for a in averages if a is not None]
            rated_units.append(RatedUnit(unit_id, every[unit_id].name, len(given), averages,
                                         round(sum(known) / len(known), 2) if known else None))
        rated_units.sort(key=lambda r: (-(r.overall or 0), r.name))
        out.append(Reviews(name, level, tuple(label for _, label in scores), tuple(rated_units)))
    return tuple(out)


def _mean(values: list) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return round(sum(numbers) / len(numbers), 2) if numbers else None


def reviews(db: Database, actor: Actor, period: Period) -> tuple[Reviews, ...]:
    with db.read() as session:
        return compute(session, viewer_scope(session, actor), period)
