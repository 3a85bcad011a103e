"""The public board (公示栏) as residents read it: what steps published (see `publishing`), newest
first; withdrawn entries and sandbox cases never show.

A publication belongs to its case's unit (moved with it by 转办): a 社区's board lists those of its
cases, a 街道's those of every unit below it (`board(unit_id=…)`); the board without a unit lists the
whole deployment's."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.clock import CHINA_TZ
from engine.errors import NotFound
from engine.store.db import Database
from engine.store.models import Case, DiagramVersion, Publication, Unit
from engine.store.paging import Page

from . import communities
from .objections import OBJECTED_KIND, HowToObject, how_to_object

KINDS = ("决议公开", "实施结果公开", "集中式公示")


@dataclass(frozen=True)
class PublicationView:
    """One entry of the board, as a resident sees it."""

    id: int
    kind: str
    title: str
    body: tuple[tuple[str, str], ...]
    procedure: str
    case_number: str
    published_at: datetime
    ends_at: datetime | None
    remaining_days: int | None
    how_to_object: HowToObject | None = None  # a 决议公开 in its publicity period whose diagram takes 异议
    unit_name: str = ""  # the unit of its case (光明社区)
    in_publicity: bool = False  # its period has not ended yet

    @property
    def last_day(self) -> date | None:
        """The period's last day (China time): it ends at 24:00 that day."""
        if self.ends_at is None:
            return None
        return (self.ends_at - timedelta(microseconds=1)).astimezone(CHINA_TZ).date()


def _remaining(ends_at: datetime | None, now: datetime) -> int | None:
    """Days left in the publicity period after today (China time): its last day minus today, 0 on the last
    day and once it ended. Published on 11-24 for 7 days, the last day is 12-01: 7 days left on 11-24."""
    if ends_at is None:
        return None
    if now >= ends_at:
        return 0
    last_day = (ends_at - timedelta(microseconds=1)).astimezone(CHINA_TZ).date()
    return max(0, (last_day - now.astimezone(CHINA_TZ).date()).days)


def _view(row: Publication, number: str, procedure: str, now: datetime, unit_name: str = "") -> PublicationView:
    return PublicationView(row.id, row.kind, row.title, tuple((str(k), str(v)) for k, v in row.body),
                           procedure, number, row.published_at, row.ends_at, _remaining(row.ends_at, now),
                           unit_name=unit_name, in_publicity=row.ends_at is not None and now < row.ends_at)


def _with_objection(session: Session, view: PublicationView, row: Publication, now: datetime) -> PublicationView:
    """A 决议公开 in its publicity period says how to object (only those: the others need no case read)."""
    if not view.in_publicity or row.kind != OBJECTED_KIND:
        return view
    return replace(view, how_to_object=how_to_object(session, row, session.get(Case, row.case_id), now))


def _visible():
    return (select(Publication, Case.number, DiagramVersion.name, Unit.name)
            .join(Case, Case.id == Publication.case_id)
            .join(DiagramVersion, DiagramVersion.id == Case.version_id)
            .join(Unit, Unit.id == Case.unit_id)
            .where(Publication.withdrawn.is_(False), Case.sandbox.is_(False)))


@dataclass(frozen=True)
class BoardPage:
    """The board of a unit (or of the whole deployment) with the units a resident may choose instead."""

    entries: Page[PublicationView]
    places: communities.Places


def board_page(db: Database, kind: str | None = None, page: int = 1, per_page: int = 20,
               unit_id: int | None = None) -> BoardPage:
    """The public board page: of the unit `unit_id` and those below it (404 for a unit with no public
    pages), else of the whole deployment."""
    with db.read() as session:
        places = communities.places(session, unit_id)
        return BoardPage(_board(session, kind, page, per_page, unit_id), places)


def board(db: Database, kind: str | None = None, page: int = 1, per_page: int = 20,
          unit_id: int | None = None) -> Page[PublicationView]:
    """What the public board lists, newest first; withdrawn entries and sandbox cases never show.
    With `unit_id`: only the publications of cases of that unit or the units below it."""
    with db.read() as session:
        return _board(session, kind, page, per_page, unit_id)


def _board(session: Session, kind: str | None, page: int, per_page: int, unit_id: int | None
           ) -> Page[PublicationView]:
    page = max(1, page)
    query = _visible()
    if kind:
        query = query.where(Publication.kind == kind)
    if unit_id is not None:
        path = session.scalar(select(Unit.path).where(Unit.id == unit_id))
        query = query.where(Unit.path.startswith(path or "-"))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.order_by(Publication.published_at.desc(), Publication.id.desc())
                           .limit(per_page).offset((page - 1) * per_page)).all()
    now = clock.now()
    return Page(tuple(_with_objection(session, _view(p, n, name, now, unit), p, now)
                      for p, n, name, unit in rows), total, page, per_page)


def publication(db: Database, publication_id: int) -> PublicationView:
    with db.read() as session:
        found = session.execute(_visible().where(Publication.id == publication_id)).first()
        if found is None:
            raise NotFound(f"公示 {publication_id} 不存在或已撤回")
        now = clock.now()
        return _with_objection(session, _view(*found[:3], now, found[3]), found[0], now)


def of_case(db: Database, case_number: str, include_withdrawn: bool = False) -> list[PublicationView]:
    """A case's publications, oldest first (for staff pages and tests)."""
    query = (select(Publication, Case.number, DiagramVersion.name).join(Case, Case.id == Publication.case_id)
             .join(DiagramVersion, DiagramVersion.id == Case.version_id).where(Case.number == case_number))
    if not include_withdrawn:
        query = query.where(Publication.withdrawn.is_(False))
    with db.read() as session:
        now = clock.now()
        return [_view(p, n, name, now) for p, n, name in session.execute(query.order_by(Publication.id))]
