"""The sums behind the 考核 figures, per case unit (`unit_counts`): each is one SQL aggregate over the cases
received in a period, grouped by `Case.unit_id` (definitions in `engine.audit.rankings` and
docs/auditor-guide.md); migration 0012's indexes serve them (docs/performance.md, 考核 rankings)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import deployments
from engine.store.models import AuditEvent, Case, DiagramVersion, ExtensionRequest, HumanTask, Unit

from .periods import Period
from .search import overdue_condition
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

    ratings = session.execute(select(Case.unit_id, Case.rating, func.count(Case.id)).where(*chosen)
                              .group_by(Case.unit_id, Case.rating)).all()
    add(((u, n, n if rating is not None else 0, n if rating in (SATISFIED, BASIC) else 0)
         for u, rating, n in ratings), "received", "rated", "good")
    add(session.execute(_step_pass(chosen, marks)), "due_steps", "on_time_steps", "overdue", "awaiting", "supervised")
    add(session.execute(_returns(chosen, session.get_bind().dialect.name)), "returned")
    add(session.execute(_escalations(chosen, marks)), "supervised")
    add(session.execute(select(Case.unit_id, func.count(ExtensionRequest.id))
                        .join(ExtensionRequest, ExtensionRequest.case_id == Case.id)
                        .where(*chosen, ExtensionRequest.status == "approved").group_by(Case.unit_id)), "extended")
    return {unit_id: Counts(**values) for unit_id, values in found.items()}


def _step_pass(chosen: tuple, marks: dict[str, set[str]]) -> Select:
    """One pass over the human steps of the chosen cases, per case then per unit: steps with a due time
    and those done by it (按期办结率), whether the case has an overdue step (逾期件), waits unrated at
    一事一评 (响应率) or had a step in a lane work is escalated to (督办). Grouping by case first streams
    the steps in case order (no DISTINCT over the whole period, which sorted every step)."""
    done = HumanTask.status == "COMPLETED"
    overdue = and_(HumanTask.due_at.is_not(None), overdue_condition(clock.now()))
    waiting = and_(HumanTask.status == "READY", HumanTask.step_id.in_(marks["rating"] or [""]), Case.rating.is_(None))
    supervising = HumanTask.lane.in_(marks["supervision"] or [""])

    def flag(condition: Any) -> Any:
        return func.max(case((condition, 1), else_=0))

    per_case = (select(Case.unit_id.label("unit_id"),
                       func.count(case((and_(done, HumanTask.due_at.is_not(None)), 1))).label("due"),
                       func.count(case((and_(done, HumanTask.completed_at <= HumanTask.due_at), 1))).label("on_time"),
                       flag(overdue).label("overdue"), flag(waiting).label("waiting"),
                       flag(supervising).label("supervising"))
                .join(HumanTask, HumanTask.case_id == Case.id).where(*chosen).group_by(Case.id).subquery())
    return (select(per_case.c.unit_id, *(func.sum(per_case.c[name]) for name in
                                         ("due", "on_time", "overdue", "waiting", "supervising")))
            .group_by(per_case.c.unit_id))


RETURNED_SQL = {"postgresql": "(audit_events.data -> 'values' ->> 'return_to_leader') = 'true'",
                "sqlite": "json_extract(audit_events.data, '$.values.return_to_leader') = 1"}


def _returns(chosen: tuple, dialect: str) -> Select:
    """退单 per unit: steps completed with “退回负责人(退单)” (return_to_leader) ticked. The condition is written as
    ix_audit_events_ranking's predicate (constants, the dialect's JSON operator), so the planner reads the
    index, which holds only such completions and escalations."""
    ticked = and_(AuditEvent.kind == literal_column("'task_completed'"), text(RETURNED_SQL[dialect]))
    return (select(Case.unit_id, func.count(AuditEvent.id))
            .join(AuditEvent, and_(AuditEvent.case_id == Case.id, ticked)).where(*chosen).group_by(Case.unit_id))


def _escalations(chosen: tuple, marks: dict[str, set[str]]) -> Select:
    """督办 per unit, the cases escalated to a supervisor that had no step in a supervising lane (those
    are counted by `_step_pass`)."""
    in_lane = exists().where(HumanTask.case_id == Case.id,
                             HumanTask.lane.in_(marks["supervision"] or [""])).correlate(Case)
    return (select(Case.unit_id, func.count(func.distinct(AuditEvent.case_id)))
            .join(AuditEvent, and_(AuditEvent.case_id == Case.id, AuditEvent.kind == literal_column("'escalated'")))
            .where(*chosen, ~in_lane).group_by(Case.unit_id))


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
