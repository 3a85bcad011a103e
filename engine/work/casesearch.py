"""查找事项 for staff: by 受理编号, title, reporter, phone, address, 网格, date received and status, among
the cases the searcher may see (`casepages.visible`, the rule of the case page), never sandbox cases.

The reporter's name, phone, address and 网格 are personal data. Every staff member who may open a case
reads them on its page (the intake values in 办理经过), so they may search by them — and the search only
ever looks inside the cases they may open, so it reveals nothing the case pages would not. These four
are read from the case's data under the field names of 民情流水线 (`PERSONAL_FIELDS`); a procedure
without such a field simply never matches. The status and date filters use the cases' indexes; the
text filters (number and title included) match any part, which no B-tree index serves, so they narrow
what the others select. Counting stops at `COUNT_CAP` ("999+").
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from engine.actor import Actor
from engine import clock
from engine.errors import InvalidInput
from engine.store.db import Database
from engine.store.models import Case, CaseState, DiagramVersion
from engine.store.paging import Page

from .casepages import visible

PER_PAGE = 20
COUNT_CAP = 999
# the search box → the case field it reads (民情流水线's names)
PERSONAL_FIELDS = {"reporter": "reporter_name", "phone": "reporter_contact", "address": "address", "grid": "grid"}
STATUSES = {"running": "办理中", "completed": "已办结"}
LABELS = {"number": "受理编号", "title": "事项标题", "reporter": "反映人姓名", "phone": "联系电话",
          "address": "地址", "grid": "所属网格"}


@dataclass(frozen=True)
class StaffQuery:
    """What a staff member asked for; empty means "any"."""

    number: str = ""
    title: str = ""
    reporter: str = ""
    phone: str = ""
    address: str = ""
    grid: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def empty(self) -> bool:
        return self == StaffQuery()

    def as_params(self) -> dict[str, str]:
        names = {"date_from": "from", "date_to": "to"}
        return {names.get(f.name, f.name): str(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) not in ("", None)}


@dataclass(frozen=True)
class FoundCase:
    number: str
    procedure: str
    title: str
    status: str
    kind: str | None
    grid: str | None
    started_at: datetime


def parse(params: dict[str, Any]) -> StaffQuery:
    """A query from the search form; a bad date or status names its field and nothing is searched."""
    text = {key: str(params.get(key) or "").strip()[:100] for key in LABELS}
    status = str(params.get("status") or "").strip()
    if status and status not in STATUSES:
        raise InvalidInput(f"没有“{status[:20]}”这种状态", {"status": "请从列表中选择状态"})
    date_from, date_to = clock.day_range(params, "受理日期起", "受理日期止")
    return StaffQuery(**text, status=status, date_from=date_from, date_to=date_to)


def _value(name: str) -> Any:
    return CaseState.data[name].as_string()


def _apply(query: Select, q: StaffQuery) -> Select:
    query = query.where(Case.sandbox.is_(False))
    if q.number:
        query = query.where(Case.number.contains(q.number, autoescape=True))
    if q.title:
        query = query.where(Case.title.contains(q.title, autoescape=True))
    if q.status:
        query = query.where(Case.status == q.status)
    if q.date_from:
        query = query.where(Case.started_at >= clock.midnight(q.date_from))
    if q.date_to:
        query = query.where(Case.started_at < clock.midnight(q.date_to + timedelta(days=1)))
    personal = {key: getattr(q, key) for key in PERSONAL_FIELDS if getattr(q, key)}
    if personal:
        query = query.join(CaseState, CaseState.case_id == Case.id)
        for key, text in personal.items():
            query = query.where(_value(PERSONAL_FIELDS[key]).contains(text, autoescape=True))
    return query


def search(db: Database, actor: Actor, q: StaffQuery, page: int = 1, per_page: int = PER_PAGE) -> Page[FoundCase]:
    """The cases the actor may see that match `q`, newest first; nothing is listed for an empty query."""
    page = max(1, page)
    if q.empty:
        return Page((), 0, 1, per_page)
    with db.read() as session:
        query = _apply(select(Case.id), q)
        condition = visible(session, actor)
        if condition is not None:
            query = query.where(condition)
        counted = session.scalar(select(func.count()).select_from(query.limit(COUNT_CAP + 1).subquery()))
        rows = session.execute(
            select(Case, DiagramVersion.name).join(DiagramVersion, DiagramVersion.id == Case.version_id)
            .where(Case.id.in_(query))
            .order_by(Case.started_at.desc(), Case.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
        grids = dict(session.execute(select(CaseState.case_id, _value("grid"))
                                     .where(CaseState.case_id.in_([c.id for c, _ in rows]))).all()) if rows else {}
        items = tuple(FoundCase(c.number, name, c.title, c.status, c.kind, grids.get(c.id) or None, c.started_at)
                      for c, name in rows)
    return Page(items, min(counted, COUNT_CAP), page, per_page, counted > COUNT_CAP)
