"""Statistics for 晒单/评议 and supervision, computed with SQL aggregates over the selected cases
(never sandbox cases). Every rate is defined in docs/auditor-guide.md and tested on a known set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments
from engine.people import units
from engine.people.oversight import audit_scope, require_auditor
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, HumanTask, Publication, User, WorkTally

from .search import CaseQuery, apply

SATISFIED, BASIC, UNSATISFIED = "满意", "基本满意", "不满意"
DECISION_STAGES = ("一征", "三议", "两公开")
OVERDUE_LIMIT = 200


@dataclass(frozen=True)
class Rate:
    numerator: float
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class KindTime:
    kind: str
    cases: int
    average_hours: float
    p90_hours: float


@dataclass(frozen=True)
class OverdueStep:
    case_number: str
    step_name: str
    lane: str
    due_at: datetime
    completed_at: datetime | None
    person: str | None


@dataclass(frozen=True)
class Statistics:
    total: int
    by_channel: tuple[tuple[str, int], ...]
    by_kind: tuple[tuple[str, int], ...]
    by_topic: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    on_time: Rate
    handling: tuple[KindTime, ...]
    satisfaction: Rate
    response: Rate
    resolution: Rate
    weighted_satisfaction: Rate
    basic_weight: float
    overdue: tuple[OverdueStep, ...]
    by_person: tuple[tuple[str, int], ...]
    by_role: tuple[tuple[str, int], ...]
    decision_stages: tuple[tuple[str, int], ...]
    votes_held: int
    votes_passed: Rate
    publications: tuple[tuple[str, int], ...]


def _case_counts(session: Session, q: CaseQuery) -> list:
    """One pass over the selected cases: how many per status, kind, channel, topic and rating.
    The grouping follows ix_cases_statistics, so SQLite streams it from the index without sorting."""
    columns = (Case.status, Case.kind, Case.channel, Case.topic, Case.rating)
    return session.execute(apply(select(*columns, func.count(Case.id)), q).group_by(*columns)).all()


def _tally(rows, index: int) -> tuple[tuple[str, int], ...]:  # noqa: ANN001
    """Counts per value of one column of `_case_counts`, largest first (NULL shown as 未填写)."""
    totals: dict[str | None, int] = {}
    for row in rows:
        totals[row[index]] = totals.get(row[index], 0) + row[-1]
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    return tuple((value or "未填写", count) for value, count in ordered)


def _handling(session: Session, q: CaseQuery) -> tuple[KindTime, ...]:
    """Average and p90 (nearest rank: the value at rank ⌈0.9 n⌉ ascending) of start → 办结 time, per kind, over
    completed cases, from the time each keeps (`Case.handling_seconds`, NULL until completed). One pass over
    ix_cases_handling counts and averages; each p90 walks that kind's range of it from the top — rank r of n
    ascending is n - r + 1 descending — so it reads a tenth of the kind's entries, never sorts them."""
    timed = (Case.handling_seconds.is_not(None), Case.kind.is_not(None))
    done = apply(select(Case.kind, func.count(Case.id), func.avg(Case.handling_seconds)), q).where(*timed)
    found = []
    for kind, count, average in session.execute(done.group_by(Case.kind).order_by(Case.kind)).all():
        p90 = session.scalar(apply(select(Case.handling_seconds), q).where(*timed, Case.kind == kind)
                             .order_by(Case.handling_seconds.desc()).offset(count - math.ceil(0.9 * count)).limit(1))
        found.append(KindTime(kind, count, round(float(average) / 3600, 2), round(float(p90) / 3600, 2)))
    return tuple(found)


def _units_only(q: CaseQuery) -> bool:
    """The page as it opens: nothing asked for but the reader's units."""
    return replace(q, scope=None) == CaseQuery()


def _task_totals(session: Session, q: CaseQuery) -> list:
    """Completed human steps of the selected cases, grouped by who, lane and step, with the deadline counts
    (steps with a due time; of those, completed by it). Asked for nothing but the units (the page as it
    opens), they are the kept work tallies of those units (`worktallies`: a few rows, however many steps);
    otherwise one pass over the completed steps reading only ix_human_tasks_statistics, in its order, each
    tested against the selected cases as a set, not a join."""
    if _units_only(q):
        grouped = (func.nullif(WorkTally.completed_by_id, 0), func.nullif(WorkTally.lane, ""), WorkTally.step_id)
        query = select(*grouped, func.sum(WorkTally.steps), func.sum(WorkTally.due_steps),
                       func.sum(WorkTally.on_time_steps)).group_by(*grouped)
        in_units = units.in_scope(WorkTally.unit_id, q.scope)
        return session.execute(query if in_units is None else query.where(in_units)).all()
    columns = (HumanTask.completed_by_id, HumanTask.lane, HumanTask.step_id)
    on_time = func.sum(case((HumanTask.completed_at <= HumanTask.due_at, 1), else_=0))
    return session.execute(
        select(*columns, func.count(HumanTask.id), func.count(HumanTask.due_at), on_time)
        .where(HumanTask.status == "COMPLETED", HumanTask.case_id.in_(apply(select(Case.id), q)))
        .group_by(*columns)).all()


def _overdue(session: Session, q: CaseQuery) -> list:
    """The first OVERDUE_LIMIT overdue steps by due time: finished late, or open past due. Each kind
    walks ix_human_tasks_overdue (status, due_at, …) in order and stops at the limit — unless the page asks
    for more than units: then the steps finished late are read from the chosen cases that kept a late step
    (`Case.late_steps`), since walking every late step of the database in due order to find those of one
    month read half a million of them (2.6 s at 1,000,000 cases; docs/performance.md)."""
    now = clock.now()
    holder = User.id == func.coalesce(HumanTask.completed_by_id, HumanTask.assignee_id)
    shown = (HumanTask.name, HumanTask.lane, HumanTask.due_at, HumanTask.completed_at, User.display_name)
    walked = apply(select(Case.number, *shown).select_from(HumanTask)
                   .join(Case, Case.id == HumanTask.case_id).outerjoin(User, holder), q)
    late_cases = walked
    if not _units_only(q):
        chosen = apply(select(Case.id, Case.number), q).where(Case.late_steps > 0).cte("late_cases") \
            .prefix_with("MATERIALIZED")
        late_cases = (select(chosen.c.number, *shown).select_from(chosen)
                      .join(HumanTask, HumanTask.case_id == chosen.c.id).outerjoin(User, holder))
    found = []
    for query, late in ((late_cases, and_(HumanTask.status == "COMPLETED", HumanTask.completed_at > HumanTask.due_at)),
                        (walked, and_(HumanTask.status == "READY", HumanTask.due_at < now))):
        found += session.execute(query.where(HumanTask.due_at.is_not(None), late)
                                 .order_by(HumanTask.due_at).limit(OVERDUE_LIMIT)).all()
    return sorted(found, key=lambda row: row[3])[:OVERDUE_LIMIT]


def _summed(pairs) -> tuple[tuple[str, int], ...]:  # noqa: ANN001
    totals: dict[str, int] = {}
    for key, n in pairs:
        totals[key] = totals.get(key, 0) + n
    return tuple(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


def compute(session: Session, q: CaseQuery, basic_weight: float) -> Statistics:
    counted = _case_counts(session, q)
    done = _task_totals(session, q)
    names = dict(session.execute(select(User.id, User.display_name)).all())
    ratings: dict[str, int] = {}
    for *_, rating, n in counted:
        if rating is not None:
            ratings[rating] = ratings.get(rating, 0) + n
    rated = sum(ratings.values())
    good = ratings.get(SATISFIED, 0) + ratings.get(BASIC, 0)
    awaiting = session.scalar(select(func.count(func.distinct(HumanTask.case_id))).where(
        HumanTask.status == "READY", HumanTask.step_id.in_(_rating_steps(session)),
        HumanTask.case_id.in_(apply(select(Case.id), q).where(Case.rating.is_(None))))) or 0
    vote_steps = set().union(*_steps_where(session, lambda d, s: any(f.id == "votes_for" for f in s.form)).values())
    stages, passed = _decisions(session, q)
    votes = sum(r[3] for r in done if r[2] in vote_steps)
    publications = session.execute(apply(
        select(Publication.kind, func.count(Publication.id)).join(Case, Case.id == Publication.case_id), q)
        .where(Publication.withdrawn.is_(False)).group_by(Publication.kind).order_by(Publication.kind)).all()
    return Statistics(
        total=sum(row[-1] for row in counted), by_channel=_tally(counted, 2), by_kind=_tally(counted, 1),
        by_topic=_tally(counted, 3), by_status=_tally(counted, 0),
        on_time=Rate(sum(r[5] or 0 for r in done), sum(r[4] for r in done)), handling=_handling(session, q),
        satisfaction=Rate(good, rated), response=Rate(rated, rated + awaiting), resolution=Rate(good, rated),
        weighted_satisfaction=Rate(ratings.get(SATISFIED, 0) + basic_weight * ratings.get(BASIC, 0), rated),
        basic_weight=basic_weight,
        overdue=tuple(OverdueStep(*row) for row in _overdue(session, q)),
        by_person=_summed((names.get(r[0], "?"), r[3]) for r in done if r[0] is not None),
        by_role=_summed((r[1] or "—", r[3]) for r in done),
        decision_stages=stages, votes_held=votes, votes_passed=Rate(passed, votes),
        publications=tuple((kind, n) for kind, n in publications))


def _steps_where(session: Session, test) -> dict[int, set[str]]:  # noqa: ANN001
    """Per diagram version: the human steps for which `test(diagram, step)` holds."""
    from engine.store.models import DiagramVersion

    found = {}
    for version_id in session.scalars(select(DiagramVersion.id)):
        d = deployments.diagram_of(session, version_id)
        found[version_id] = {s.id for s in d.steps.values() if test(d, s)}
    return found


def _rating_steps(session: Session) -> set[str]:
    """The 一事一评 (call-back) steps: those whose form asks for the rating."""
    return set().union(*_steps_where(session, lambda d, s: any(f.id == d.properties.get("ratingField", "rating")
                                                                   for f in s.form)).values())


def _decisions(session: Session, q: CaseQuery) -> tuple[tuple[tuple[str, int], ...], int]:
    """一征三议两公开: open matters by the stage of their waiting steps; votes passed."""
    staged = {v: {s: d_stage for s, d_stage in steps.items()} for v, steps in _stages(session).items()}
    decision_versions = [v for v, steps in staged.items() if any(st in DECISION_STAGES for st in steps.values())]
    if not decision_versions:
        return (), 0
    decision_cases = apply(select(Case.id), q).where(Case.version_id.in_(decision_versions))
    open_rows = session.execute(
        select(Case.version_id, HumanTask.step_id, func.count(func.distinct(Case.id)))
        .join(Case, Case.id == HumanTask.case_id)
        .where(HumanTask.status == "READY", HumanTask.case_id.in_(decision_cases))
        .group_by(Case.version_id, HumanTask.step_id)).all()
    counts: dict[str, int] = {}
    for version_id, step_id, n in open_rows:
        stage = staged[version_id].get(step_id) or "其他"
        counts[stage] = counts.get(stage, 0) + n
    decided = session.scalars(select(AuditEvent.data).where(
        AuditEvent.case_id.in_(decision_cases), AuditEvent.kind == "gateway_decided")).all()
    passed = sum(1 for data in decided for f in data.get("flows", []) if f.get("name") == "通过")
    order = {s: i for i, s in enumerate(DECISION_STAGES)}
    return tuple(sorted(counts.items(), key=lambda kv: order.get(kv[0], 9))), passed


def _stages(session: Session) -> dict[int, dict[str, str]]:
    from engine.store.models import DiagramVersion

    return {v: {s.id: s.stage for s in deployments.diagram_of(session, v).steps.values()}
            for v in session.scalars(select(DiagramVersion.id))}


def statistics(db: Database, actor: Actor, q: CaseQuery, basic_weight: float = 0.9) -> Statistics:
    """The statistics of the selected cases among those of the units the actor audits."""
    require_auditor(actor)
    with db.read() as session:
        return compute(session, q.within(audit_scope(session, actor)), basic_weight)

