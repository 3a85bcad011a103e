"""Finding cases for auditors: by number, procedure, kind, topic, date range, person, overdue,
rating and outcome. The same `CaseQuery` selects the cases of an export and of the statistics.
Sandbox (试运行) cases never appear, nor cases of units outside those the auditor audits.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.errors import Forbidden, NotFound
from engine.people import units
from engine.people.oversight import AUDIT_ROLES, audit_scope, in_charge, require_auditor
from engine.store.db import Database
from engine.store.models import Case, DiagramVersion, HumanTask, User
from engine.store.paging import Page

PER_PAGE = 50


@dataclass(frozen=True)
class CaseQuery:
    """What an auditor asked for; empty strings mean "any". `scope` is not asked for: it is the units whose
    cases the asker audits (`oversight.audit_scope`, None: every unit), set by `within` on every engine call,
    so a search, an export and the statistics never reach a case outside them."""

    number: str = ""
    process: str = ""
    kind: str = ""
    topic: str = ""
    channel: str = ""
    status: str = ""
    rating: str = ""
    outcome: str = ""
    person: str = ""
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    scope: frozenset[str] | None = field(default=None, repr=False)

    def within(self, scope: frozenset[str] | None) -> CaseQuery:
        """The query narrowed to the units of `scope`."""
        return replace(self, scope=scope)

    def as_params(self) -> dict[str, str]:
        """The query as URL parameters (for links to the next page, to exports)."""
        names = {"date_from": "from", "date_to": "to"}
        out = {}
        for f in fields(self):
            if f.name == "scope":
                continue
            value = getattr(self, f.name)
            if value not in ("", None, False):
                out[names.get(f.name, f.name)] = "1" if value is True else str(value)
        return out


@dataclass(frozen=True)
class CaseRow:
    number: str
    procedure: str
    title: str
    kind: str | None
    topic: str | None
    channel: str | None
    status: str
    rating: str | None
    outcome: str | None
    started_at: datetime
    completed_at: datetime | None
    unit: str = ""  # the 社区 (or other unit) the case belongs to, by name


def parse_query(params: dict[str, Any]) -> CaseQuery:
    """A query from URL parameters; a bad date names its field and nothing is searched."""
    text = {k: str(params.get(k) or "").strip()[:100] for k in
            ("number", "process", "kind", "topic", "channel", "status", "rating", "outcome", "person")}
    date_from, date_to = clock.day_range(params, "起始日期", "截止日期")
    overdue = str(params.get("overdue") or "").lower() in ("1", "true", "on", "yes")
    return CaseQuery(**text, date_from=date_from, date_to=date_to, overdue=overdue)


def overdue_condition(now: datetime) -> Any:
    """A human step finished after its due time, or still open past it."""
    return or_(and_(HumanTask.status == "COMPLETED", HumanTask.completed_at > HumanTask.due_at),
               and_(HumanTask.status == "READY", HumanTask.due_at < now))


def apply(query: Select, q: CaseQuery) -> Select:
    """Narrow a select over `Case` to the cases `q` asks for (never sandbox cases). The EXISTS tests
    correlate to `Case` only, so they stay about the case when the select also reads `HumanTask`."""
    query = query.where(Case.sandbox.is_(False))
    in_units = units.in_scope(Case.unit_id, q.scope)
    if in_units is not None:
        query = query.where(in_units)
    for column, value in ((Case.process_id, q.process), (Case.kind, q.kind), (Case.topic, q.topic),
                          (Case.channel, q.channel), (Case.status, q.status), (Case.rating, q.rating)):
        if value:
            query = query.where(column == value)
    if q.number:
        query = query.where(Case.number.contains(q.number, autoescape=True))
    if q.outcome:
        query = query.where(Case.outcome.contains(q.outcome, autoescape=True))
    if q.date_from:
        query = query.where(Case.started_at >= clock.midnight(q.date_from))
    if q.date_to:
        query = query.where(Case.started_at < clock.midnight(q.date_to + timedelta(days=1)))
    if q.person:
        worked = exists().where(HumanTask.case_id == Case.id, HumanTask.completed_by_id == User.id,
                                User.username == q.person).correlate(Case)
        query = query.where(or_(Case.started_by == q.person, worked))
    if q.overdue:
        query = query.where(exists().where(HumanTask.case_id == Case.id, HumanTask.due_at.is_not(None),
                                           overdue_condition(clock.now())).correlate(Case))
    return query


def audited_case(session: Session, actor: Actor, number: str) -> Case:
    """The case of `number` for an auditor, when it belongs to a unit they audit (one where they hold 审计 or
    管理员, or below it); a case of another unit is refused as the case page refuses it."""
    require_auditor(actor)
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"事项 {number} 不存在")
    if not in_charge(session, actor, case.unit_id, AUDIT_ROLES):
        raise Forbidden("该事项不属于您所在单位或其下级单位,您无权查看")
    return case


def search(db: Database, actor: Actor, q: CaseQuery, page: int = 1, per_page: int = PER_PAGE) -> Page[CaseRow]:
    require_auditor(actor)
    page = max(1, page)
    with db.read() as session:
        q = q.within(audit_scope(session, actor))
        total = session.scalar(apply(select(func.count(Case.id)), q))
        rows = session.execute(
            apply(select(Case, DiagramVersion.name).join(DiagramVersion, DiagramVersion.id == Case.version_id), q)
            .order_by(Case.started_at.desc(), Case.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
        unit_names = units.names(session, (c.unit_id for c, _ in rows))
        items = tuple(CaseRow(c.number, name, c.title, c.kind, c.topic, c.channel, c.status, c.rating,
                              c.outcome, c.started_at, c.completed_at, unit_names.get(c.unit_id, ""))
                      for c, name in rows)
    return Page(items, total or 0, page, per_page)


def choices(db: Database, actor: Actor) -> dict[str, Any]:
    """The values seen so far for each filter with a fixed vocabulary (for the search form). The
    five case columns come from one pass over ix_cases_statistics (their distinct combinations);
    `process_names` gives each procedure's name, which the form shows instead of its id. Only the cases
    of the units the actor audits count."""
    require_auditor(actor)
    with db.read() as session:
        q = CaseQuery().within(audit_scope(session, actor))
        found = {"process": sorted(v for v in session.scalars(apply(select(Case.process_id), q).distinct()) if v)}
        columns = {"status": Case.status, "kind": Case.kind, "channel": Case.channel, "topic": Case.topic,
                   "rating": Case.rating}  # in the index's order
        seen = session.execute(apply(select(*columns.values()), q).distinct()).all()
        for key in ("kind", "topic", "channel", "rating", "status"):
            at = list(columns).index(key)
            found[key] = sorted({row[at] for row in seen if row[at]})
        found["process_names"] = dict(session.execute(
            select(DiagramVersion.process_id, DiagramVersion.name).order_by(DiagramVersion.id)).all())
        return found
