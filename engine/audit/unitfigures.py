"""The sums behind the 考核 figures, per case unit (`unit_counts`): each is one SQL aggregate over the cases
received in a period, grouped by `Case.unit_id` (definitions in `engine.audit.rankings` and
docs/auditor-guide.md); migration 0012's indexes serve them (docs/performance.md, 考核 rankings)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import deployments
from engine.store.models import Case, DiagramVersion, ExtensionRequest, HumanTask, Unit

from .periods import Period
from .statistics import BASIC, SATISFIED, Rate


@dataclass(frozen=True)
class Counts:
    """The sums behind a row's figures (added up the tree unit by unit)."""

    received: int = 0
    rated: int = 0
    good: int = 0  # rated 满意 or 基本满意
    awaiting: int = 0  # waiting at the 一事一评 step, not rated yet
    due_steps: int = 0  # completed steps that had a due time
    on_time_steps: int = 0
    overdue: int = 0
    returned: int = 0
    extended: int = 0
    supervised: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    @property
    def on_time(self) -> Rate:
        return Rate(self.on_time_steps, self.due_steps)

    @property
    def response(self) -> Rate:
        return Rate(self.rated, self.rated + self.awaiting)

    @property
    def resolution(self) -> Rate:
        return Rate(self.good, self.rated)

    @property
    def satisfaction(self) -> Rate:
        return Rate(self.good, self.rated)

    def value(self, key: str) -> float | None:
        found = getattr(self, key)
        return found.value if isinstance(found, Rate) else found


def unit_counts(session: Session, period: Period, paths: Iterable[str]) -> dict[int, Counts]:
    """Every figure's sums per case unit, for the cases received in the period under any of `paths`."""
    paths = list(paths)
    if not paths:
        return {}
    subtree = select(Unit.id).where(or_(*(Unit.path.startswith(p) for p in paths)))
    chosen = (Case.sandbox.is_(False), Case.started_at >= period.start, Case.started_at < period.end,
              Case.unit_id.in_(subtree))
    marks = step_marks(session)
    found: dict[int, dict[str, Any]] = {}

    def add(rows: Iterable, *names: str) -> None:
        for unit_id, *values in rows:
            for name, value in zip(names, values, strict=True):
                found.setdefault(unit_id, {})[name] = found.get(unit_id, {}).get(name, 0) + int(value or 0)

    add(session.execute(_kept(chosen)), "received", "rated", "good", "due_steps", "on_time_steps", "overdue",
        "returned")
    add(session.execute(_open_overdue(chosen)), "overdue")
    add(session.execute(_awaiting(chosen, marks)), "awaiting")
    add(session.execute(_supervised(chosen, marks)), "supervised")
    add(session.execute(select(Case.unit_id, func.count(ExtensionRequest.id))
                        .join(ExtensionRequest, ExtensionRequest.case_id == Case.id)
                        .where(*chosen, ExtensionRequest.status == "approved").group_by(Case.unit_id)), "extended")
    return {unit_id: Counts(**values) for unit_id, values in found.items()}


def _kept(chosen: tuple) -> Select:
    """One pass over the period's cases (ix_cases_ranking alone): received, rated and rated 满意/基本满意, and
    the figures each case keeps (engine/store/casefigures.py) — steps due and done on time (按期办结率), cases
    with a step finished late (逾期件), 退单."""
    return (select(Case.unit_id, func.count(Case.id), func.count(Case.rating),
                   func.count(case((Case.rating.in_((SATISFIED, BASIC)), 1))),
                   func.sum(Case.due_steps), func.sum(Case.on_time_steps),
                   func.count(case((Case.late_steps > 0, 1))), func.sum(Case.returns))
            .where(*chosen).group_by(Case.unit_id))


def _open_overdue(chosen: tuple) -> Select:
    """逾期件 not kept on the case: cases with no step finished late but one still open past its due time
    (ix_human_tasks_overdue: the open steps past due, then their cases)."""
    late = select(HumanTask.case_id).where(HumanTask.status == "READY", HumanTask.due_at < clock.now())
    return (select(Case.unit_id, func.count(Case.id))
            .where(*chosen, Case.late_steps == 0, Case.id.in_(late)).group_by(Case.unit_id))


def _awaiting(chosen: tuple, marks: dict[str, set[str]]) -> Select:
    """响应率's other half: cases waiting, not rated yet, at a step whose form asks for the rating."""
    waiting = select(HumanTask.case_id).where(HumanTask.status == "READY",
                                              HumanTask.step_id.in_(marks["rating"] or [""]))
    return (select(Case.unit_id, func.count(Case.id))
            .where(*chosen, Case.rating.is_(None), Case.id.in_(waiting)).group_by(Case.unit_id))


def _supervised(chosen: tuple, marks: dict[str, set[str]]) -> Select:
    """督办: cases escalated to a supervisor (kept on the case) or with a step in a lane overdue work is
    escalated to (ix_human_tasks_lane: only those steps are read)."""
    in_lane = select(HumanTask.case_id).where(HumanTask.lane.in_(marks["supervision"] or [""]))
    return (select(Case.unit_id, func.count(Case.id))
            .where(*chosen, or_(Case.escalations > 0, Case.id.in_(in_lane))).group_by(Case.unit_id))


def step_marks(session: Session) -> dict[str, set[str]]:
    """From every deployed diagram, once: the 一事一评 steps (their form asks for `ratingField`) and the
    lanes overdue work is escalated to (`escalateTo`)."""
    marks: dict[str, set[str]] = {"rating": set(), "supervision": set()}
    for version_id in session.scalars(select(DiagramVersion.id)):
        d = deployments.diagram_of(session, version_id)
        rating = d.properties.get("ratingField", "rating")
        for step in d.steps.values():
            if any(f.id == rating for f in step.form):
                marks["rating"].add(step.id)
            if step.properties.get("escalateTo"):
                marks["supervision"].add(step.properties["escalateTo"])
        if d.properties.get("escalateTo"):
            marks["supervision"].add(d.properties["escalateTo"])
    return marks
