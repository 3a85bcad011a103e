"""The 放假/调休 notices kept in the database (管理 › 工作日历), read and installed in this process's
working-day calendar. The web app installs them at start and refreshes them every half minute;
the worker at every sweep; the process where a notice is entered at once."""
from __future__ import annotations

import time
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import calendar
from engine.store.db import Database
from engine.store.models import CalendarNotice


def in_force(session: Session) -> list[CalendarNotice]:
    newest = select(func.max(CalendarNotice.id)).group_by(CalendarNotice.year)
    return list(session.scalars(select(CalendarNotice).where(CalendarNotice.id.in_(newest))
                                .order_by(CalendarNotice.year.desc())))


def as_overrides(notices: list[CalendarNotice]) -> calendar.Overrides:
    days_off = {date.fromisoformat(d) for n in notices for d in n.days_off}
    workdays = {date.fromisoformat(d) for n in notices for d in n.workdays}
    return calendar.Overrides(frozenset(days_off), frozenset(workdays), frozenset(n.year for n in notices))


def refresh(db: Database) -> calendar.Overrides:
    """Install the notices the database keeps into this process's calendar."""
    with db.read() as session:
        stored = as_overrides(in_force(session))
    calendar.install(stored)
    _fresh[db.url] = time.monotonic()
    return stored


_fresh: dict[str, float] = {}


def keep_fresh(db: Database, max_age: float = 30.0) -> None:
    """Refresh at most every `max_age` seconds: a notice entered in another process is used here
    within that time (the process that enters it uses it at once)."""
    if time.monotonic() - _fresh.get(db.url, float("-inf")) >= max_age:
        refresh(db)


def installed(db: Database, stored: calendar.Overrides) -> None:
    """`stored` was just committed: use it in this process now."""
    calendar.install(stored)
    _fresh[db.url] = time.monotonic()
