"""Working days on the official Chinese calendar (工作日).

Weekends and statutory holidays are days off; the adjusted working weekends (调休)
are working days. The `holidays` package carries both for China, up to the last
year whose official notice (国务院办公厅关于…部分节假日安排的通知) it has. The
notice for a year often arrives late in the previous year, so an administrator
enters it in the browser (管理 › 工作日历; kept in the database by
`engine.work.calendar_notices`, which `install`s it here) or, at deployment, in
`processes/calendar-overrides.toml`. Both take precedence over the library; a day
the database names wins over the file.

A year no source covers is never silently treated as all-weekdays: it is
computed from the library's rule-based holidays, and `coverage_warning(year)`
says so (logged once, shown to administrators in the web banner).

`assuming(stored)` computes, in the current thread only, as if `stored` were the
database's notices: how a deadline recomputation compares the old calendar with the new.
"""
from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import holidays

try:
    from holidays.countries.china import ChinaStaticHolidays as _china_static
except ImportError:  # a future layout of the package: fall back on its 调休 days alone
    _china_static = None

OVERRIDES_ENV = "MINYI_CALENDAR_OVERRIDES"
DEFAULT_OVERRIDES = Path(__file__).resolve().parents[2] / "processes" / "calendar-overrides.toml"

log = logging.getLogger(__name__)


class CalendarFileInvalid(ValueError):
    """The overrides file cannot be read; the message names the file and the entry."""


@dataclass(frozen=True)
class Overrides:
    """Local corrections: days off (放假), working days (调休上班), years fully entered."""

    days_off: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    covered_years: frozenset[int] = frozenset()


def overrides_path() -> Path:
    return Path(os.environ.get(OVERRIDES_ENV) or DEFAULT_OVERRIDES)


def parse_overrides(text: str, source: str = "calendar-overrides.toml") -> Overrides:
    """Read the TOML format documented in the README; every mistake names its entry."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarFileInvalid(f"{source}: 不是有效的 TOML: {exc}") from None
    unknown = set(raw) - {"covered_years", "days_off", "workdays"}
    if unknown:
        raise CalendarFileInvalid(f"{source}: 未知的项 {', '.join(sorted(unknown))}")
    years = raw.get("covered_years", [])
    if not isinstance(years, list) or not all(isinstance(y, int) and 1950 <= y <= 2200 for y in years):
        raise CalendarFileInvalid(f"{source}: covered_years 应为年份列表,例如 [2027]")
    days = {section: _dates(raw.get(section, {}), section, source) for section in ("days_off", "workdays")}
    both = days["days_off"] & days["workdays"]
    if both:
        raise CalendarFileInvalid(f"{source}: {min(both)} 同时出现在 days_off 和 workdays 中")
    return Overrides(frozenset(days["days_off"]), frozenset(days["workdays"]), frozenset(years))


def _dates(section: object, name: str, source: str) -> set[date]:
    if not isinstance(section, dict):
        raise CalendarFileInvalid(f"{source}: [{name}] 应为 \"YYYY-MM-DD\" = \"说明\" 的列表")
    found = set()
    for key in section:
        try:
            found.add(date.fromisoformat(str(key)))
        except ValueError:
            raise CalendarFileInvalid(f"{source}: [{name}] 中的 “{key}” 不是 YYYY-MM-DD 格式的日期") from None
    return found


@lru_cache(maxsize=1)
def file_overrides() -> Overrides:
    """The overrides file, read once (`reload()` after an administrator edits it)."""
    path = overrides_path()
    if not path.exists():
        return Overrides()
    return parse_overrides(path.read_text(encoding="utf-8"), str(path))


def merged(file: Overrides, stored: Overrides) -> Overrides:
    """The file's corrections with the database's on top: a day the database names wins."""
    return Overrides((file.days_off - stored.workdays) | stored.days_off,
                     (file.workdays - stored.days_off) | stored.workdays,
                     file.covered_years | stored.covered_years)


_stored = Overrides()  # the database's notices, as last installed in this process
_merged: Overrides | None = None
_assumed: ContextVar[Overrides | None] = ContextVar("assumed_calendar", default=None)


def install(stored: Overrides) -> None:
    """Use `stored` (the notices kept in the database) from now on, in this whole process."""
    global _stored, _merged
    _stored, _merged = stored, None
    _warned.clear()


@contextmanager
def assuming(stored: Overrides) -> Iterator[None]:
    """Within the block, and in this thread only, compute as if `stored` were installed."""
    token = _assumed.set(merged(file_overrides(), stored))
    try:
        yield
    finally:
        _assumed.reset(token)


def overrides() -> Overrides:
    """Every local correction in force: the file's and the database's."""
    global _merged
    assumed = _assumed.get()
    if assumed is not None:
        return assumed
    if _merged is None:
        _merged = merged(file_overrides(), _stored)
    return _merged


def reload() -> None:
    """Forget cached years, the file and the installed notices (after editing the file, or in tests)."""
    file_overrides.cache_clear()
    _year.cache_clear()
    install(Overrides())


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    cn = holidays.China(years=year)
    days_off = frozenset(cn.keys())
    workdays = frozenset(getattr(cn, "weekend_workdays", set()))
    return days_off, workdays


def library_covers(year: int) -> bool:
    """The library has the official notice of `year`: it knows that year's 调休 working days
    (every year since 2000 has had some), or lists the notice's moved holidays."""
    if year in getattr(_china_static, "special_public_holidays", {}):
        return True
    return any(d.year == year for d in _year(year)[1])


def coverage_warning(year: int) -> str | None:
    """A warning for the administrator when `year`'s official holiday notice is in neither source."""
    if library_covers(year) or year in overrides().covered_years:
        return None
    return (f"{year} 年的法定节假日安排(含调休上班日)尚未录入:工作日按周末和固定节日估算,"
            f"可能不准确。请在“工作日历”中录入国务院办公厅发布的 {year} 年放假通知。")


def warnings_for(today: date) -> list[str]:
    """What staff must know now: this year, and from November on the next (deadlines cross it)."""
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    return [w for w in map(coverage_warning, years) if w]


_warned: set[int] = set()


def _warn_once(year: int) -> None:
    if year in _warned:
        return
    _warned.add(year)
    message = coverage_warning(year)
    if message:
        log.warning("working-day calendar: %s", message)


def is_workday(day: date) -> bool:
    local = overrides()
    if day in local.workdays:
        return True
    if day in local.days_off:
        return False
    _warn_once(day.year)
    days_off, adjusted_workdays = _year(day.year)
    if day in adjusted_workdays:
        return True
    if day in days_off:
        return False
    return day.weekday() < 5


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after `start` (the start day itself is not counted).

    A start on a holiday counts from the next working day: 3 working days from
    National Day are the 3rd working day after the holiday ends.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day
