"""工作日历: the administrator enters a year's 放假/调休 notice in the browser.

The notice of year N (国务院办公厅关于N年部分节假日安排的通知) usually comes out in November or
December of N-1, after deadlines running into N have been computed. Entering it here keeps it in
the database (append-only: the newest notice of a year is in force, the older ones are its
history), installs it in the working-day calendar (`engine.bpmn.calendar`) and, in the same
transaction, moves every open deadline and waiting timer counted in working days that it changes;
each move is recorded in its case's audit trail and listed for the administrator.

The calendar is one for the whole system, so only an administrator of a root unit (the 区, or the one
community of a single-community installation) enters it; an administrator of a 街道 or 社区 reads it,
and of the deadlines it moved only those of the cases of their units.

Other processes (the worker, other web processes) pick the notices up through `calendar_days.keep_fresh`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import calendar
from engine.clock import CHINA_TZ
from engine.errors import Forbidden, InvalidInput
from engine.store import text as free_text
from engine.store.db import Database
from engine.people import units
from engine.store.models import CalendarNotice, Case, CaseState, HumanTask, Unit, User

from . import calendar_days, deadlines, runtime, timers

ADMIN_ROLE = "管理员"
WEEKDAYS = "一二三四五六日"
MAX_LINES = 60
_LINE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:至|到|~|～|—|--)\s*(\d{4}-\d{1,2}-\d{1,2}))?\s*(.*)$")


@dataclass(frozen=True)
class Notice:
    """The notice of one year in force, as the page shows it."""

    year: int
    days_off: tuple[tuple[date, str], ...]
    workdays: tuple[tuple[date, str], ...]
    entered_by: str    # the administrator's name
    entered_at: datetime


    def lines(self, which: str) -> str:
        """The days as the form takes them: consecutive days with one note as a range."""
        days = self.days_off if which == "days_off" else self.workdays
        runs: list[list] = []
        for day, note in days:
            if runs and runs[-1][2] == note and (day - runs[-1][1]).days == 1:
                runs[-1][1] = day
            else:
                runs.append([day, day, note])
        return "\n".join(f"{a}{f' 至 {b}' if b != a else ''}{f' {n}' if n else ''}" for a, b, n in runs)


@dataclass(frozen=True)
class Entry:
    """One notice as entered: which year, by whom (a name), when, and what it moved."""

    year: int
    entered_by: str
    entered_at: datetime
    moved: tuple[deadlines.Moved, ...]


@dataclass(frozen=True)
class CalendarPage:
    notices: tuple[Notice, ...]               # newest year first
    missing_years: tuple[int, ...]            # this year (and from November the next) with no notice
    history: tuple[Entry, ...]                # newest first

    def notice(self, year: int | None) -> Notice | None:
        return next((n for n in self.notices if n.year == year), None)


@dataclass(frozen=True)
class NoticeEntered:
    year: int
    days_off: int
    workdays: int
    moved: tuple[deadlines.Moved, ...]


def _require_admin(actor: Actor) -> None:
    if not actor.has_role(ADMIN_ROLE):
        raise Forbidden("只有管理员可以维护工作日历")


def _require_root_admin(session: Session, actor: Actor) -> None:
    """Entering a notice moves the deadlines of every unit: an administrator of a root unit only."""
    _require_admin(actor)
    held = actor.units_of(ADMIN_ROLE)
    if actor.id is not None and not session.scalar(select(Unit.id).where(Unit.id.in_(held), Unit.parent_id.is_(None))):
        raise Forbidden("工作日历全系统通用,只有最上级单位的管理员可以录入放假安排")


def _seen(session: Session, actor: Actor, moved: tuple[deadlines.Moved, ...]) -> tuple[deadlines.Moved, ...]:
    """The moves of the cases of the units the actor sees."""
    in_units = units.in_scope(Case.unit_id, actor.scope)
    if in_units is None or not moved:
        return moved
    shown = set(session.scalars(select(Case.number).where(Case.number.in_({m.case_number for m in moved}),
                                                           in_units)))
    return tuple(m for m in moved if m.case_number in shown)


# --- reading the form ----------------------------------------------------------------------

def _year(text: str) -> int:
    text = (text or "").strip()
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise InvalidInput("请检查年份", {"year": "年份应为 2000–2100 之间的四位数字,例如 2027"})
    return int(text)


def _day(text: str, field: str, label: str, number: int) -> date:
    try:
        return date(*map(int, text.split("-")))
    except (TypeError, ValueError):
        raise InvalidInput(f"请检查{label}", {field: f"第 {number} 行:“{text}” 不是有效的日期(YYYY-MM-DD)"}) from None


def parse_days(text: str, field: str, label: str, year: int) -> dict[date, str]:
    """One line per day or range: `2027-02-06 至 2027-02-12 春节` or `2027-02-14 春节调休`."""
    found: dict[date, str] = {}
    lines = [line.strip() for line in (text or "").splitlines()]
    if sum(1 for line in lines if line) > MAX_LINES:
        raise InvalidInput(f"请检查{label}", {field: f"最多 {MAX_LINES} 行"})
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        match = _LINE.match(line)
        if not match:
            raise InvalidInput(f"请检查{label}", {field: f"第 {number} 行:“{line[:30]}” 应以日期开头,例如 "
                                                          f"{year}-02-06 至 {year}-02-12 春节"})
        first = _day(match[1], field, label, number)
        last = _day(match[2], field, label, number) if match[2] else first
        note = free_text.clean(match[3] or "", field, label, 40)
        if last < first or (last - first).days > 31:
            raise InvalidInput(f"请检查{label}", {field: f"第 {number} 行:日期范围应从前到后,且不超过 31 天"})
        if first.year != year or last.year != year:
            raise InvalidInput(f"请检查{label}", {field: f"第 {number} 行:{match[1]} 不在 {year} 年内"})
        day = first
        while day <= last:
            found[day] = note
            day += timedelta(days=1)
    return found


def read_notice(values: dict[str, str]) -> tuple[int, dict[date, str], dict[date, str]]:
    """The year, its days off and its adjusted working days; InvalidInput naming the field and line."""
    year = _year(values.get("year", ""))
    days_off = parse_days(values.get("days_off", ""), "days_off", "放假日期", year)
    workdays = parse_days(values.get("workdays", ""), "workdays", "调休上班日期", year)
    if not days_off:
        raise InvalidInput("请检查放假日期", {"days_off": "请至少填写一个放假日期(通知中的各节日放假安排)"})
    for day in workdays:
        if day in days_off:
            raise InvalidInput("请检查调休上班日期", {"workdays": f"{day} 同时填在了放假日期中"})
        if day.weekday() < 5:
            raise InvalidInput("请检查调休上班日期", {
                "workdays": f"{day} 是星期{WEEKDAYS[day.weekday()]},本来就是工作日;这里只填调到周末上班的日子"})
    return year, days_off, workdays


# --- the notices in the database --------------------------------------------------------------

def calendar_page(db: Database, actor: Actor) -> CalendarPage:
    _require_admin(actor)
    with db.read() as session:
        notices = calendar_days.in_force(session)
        names = dict(session.execute(select(User.username, User.display_name)).all())
        history = session.execute(select(CalendarNotice.year, CalendarNotice.actor, CalendarNotice.at,
                                         CalendarNotice.changes).order_by(CalendarNotice.id.desc()).limit(50)).all()
        shown = tuple(Notice(n.year, _days(n.days_off), _days(n.workdays), names.get(n.actor, n.actor), n.at)
                      for n in notices)
        entries = tuple(Entry(h.year, names.get(h.actor, h.actor), h.at, _seen(session, actor, _moved(h.changes)))
                        for h in history)
    today = clock.today()
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    missing = tuple(y for y in years if calendar.coverage_warning(y))
    return CalendarPage(shown, missing, entries)


def _moved(changes: list | None) -> tuple[deadlines.Moved, ...]:
    return tuple(deadlines.Moved(c["case_number"], c["case_title"], c["what"], c["kind"],
                                 datetime.fromisoformat(c["old"]), datetime.fromisoformat(c["new"]))
                 for c in changes or [])


def _days(stored: dict) -> tuple[tuple[date, str], ...]:
    return tuple(sorted((date.fromisoformat(d), note) for d, note in stored.items()))


def enter_notice(db: Database, actor: Actor, values: dict[str, str]) -> NoticeEntered:
    """Keep the notice, and move what it changes, in one transaction; then use it in this process."""
    _require_admin(actor)
    year, days_off, workdays = read_notice(values)
    now = clock.now()
    with db.write() as session:
        _require_root_admin(session, actor)
        old = calendar_days.as_overrides(calendar_days.in_force(session))
        notice = CalendarNotice(year=year, at=now, actor=actor.username, changes=[],
                                days_off={d.isoformat(): note for d, note in sorted(days_off.items())},
                                workdays={d.isoformat(): note for d, note in sorted(workdays.items())})
        session.add(notice)
        session.flush()
        new = calendar_days.as_overrides(calendar_days.in_force(session))
        first = _first_changed_day(old, new, year)
        moved, remembered = _move(session, old, new, first, actor.username, now)
        notice.changes = [m.as_json() for m in moved]
    calendar_days.installed(db, new)
    for case_id, revision, workflow in remembered:
        runtime.remember(case_id, revision, workflow)
    return NoticeEntered(year, len(days_off), len(workdays), tuple(moved))


def _first_changed_day(old: calendar.Overrides, new: calendar.Overrides, year: int) -> date | None:
    """The first day of `year` whose kind the notice changes; None when it changes none."""
    day, end = date(year, 1, 1), date(year, 12, 31)
    while day <= end:
        with calendar.assuming(old):
            before = calendar.is_workday(day)
        with calendar.assuming(new):
            after = calendar.is_workday(day)
        if before != after:
            return day
        day += timedelta(days=1)
    return None


def _move(session, old: calendar.Overrides, new: calendar.Overrides, first: date | None, actor: str,
          now: datetime) -> tuple[list[deadlines.Moved], list]:
    """Every open deadline from `first` on, and every case waiting on a timer, under its case's lock."""
    if first is None:
        return [], []
    since = datetime.combine(first, datetime.min.time(), CHINA_TZ)
    open_steps = select(HumanTask.case_id).where(HumanTask.status == "READY", HumanTask.due_at >= since)
    query = select(Case).where(Case.status == "running",
                               or_(Case.id.in_(open_steps), Case.next_timer_at.is_not(None))).order_by(Case.id)
    cases = {c.id: c for c in session.scalars(query.with_for_update())}
    if not cases:
        return [], []
    data = dict(session.execute(select(CaseState.case_id, CaseState.data)
                                .where(CaseState.case_id.in_(list(cases)))).all())
    moved = deadlines.recompute(session, cases, data, old, new, since, actor, now)
    timer_moves, remembered = timers.recompute(session, cases, old, new, actor)
    return sorted(moved + timer_moves, key=lambda m: (m.case_number, m.new)), remembered
