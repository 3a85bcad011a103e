"""Working days on the official Chinese calendar (工作日).

Weekends and statutory holidays are days off; the adjusted working weekends (调休)
are working days. The `holidays` package carries both for China.
"""
from __future__ import annotations

from datetime import date, timedelta, timezone
from functools import lru_cache

import holidays

CHINA_TZ = timezone(timedelta(hours=8), "CST")


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    cn = holidays.China(years=year)
    days_off = frozenset(cn.keys())
    workdays = frozenset(getattr(cn, "weekend_workdays", set()))
    return days_off, workdays


def is_workday(day: date) -> bool:
    days_off, adjusted_workdays = _year(day.year)
    if day in adjusted_workdays:
        return True
    if day in days_off:
        return False
    return day.weekday() < 5


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after `start` (the start day itself is not counted)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day
