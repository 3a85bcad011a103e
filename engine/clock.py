"""The engine's one source of "now", so tests (and the timer worker) can move time; and days as people
type them into a search (`day_range`, `midnight`, China time)."""
from __future__ import annotations

import time as _time
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from engine.errors import InvalidInput

CHINA_TZ = timezone(timedelta(hours=8), "CST")  # the calendar the procedures follow

_now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _now()


def today() -> date:
    """Today's date in China Standard Time (the calendar the procedures follow)."""
    return now().astimezone(CHINA_TZ).date()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (None restores the system clock)."""
    global _now
    _now = fn or (lambda: datetime.now(timezone.utc))


def running_from(at: datetime) -> Callable[[], datetime]:
    """A clock for `set_clock` that reads `at` now and runs on from it in real time: benchmarks and tests
    pin the day this way, so they behave the same whatever day they run on, while time still passes."""
    began = _time.monotonic()
    return lambda: at + timedelta(seconds=_time.monotonic() - began)


def midnight(day: date) -> datetime:
    """The first moment of `day` in China time: a search by day runs from one midnight to the next."""
    return datetime.combine(day, time(0), CHINA_TZ)


def day_range(params: Mapping[str, Any], first: str, last: str) -> tuple[date | None, date | None]:
    """The days typed into a search form's `from` and `to` fields, labelled `first` and `last` for the
    messages: either may be empty; a date that cannot be read, or a range that ends before it starts,
    is refused naming the field."""
    start, end = _day(params, "from", first), _day(params, "to", last)
    if start and end and start > end:
        raise InvalidInput(f"{first}晚于{last}", {"from": "起始日期不能晚于截止日期"})
    return start, end


def _day(params: Mapping[str, Any], key: str, label: str) -> date | None:
    text = str(params.get(key) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}不是有效日期(应为 YYYY-MM-DD):{text[:20]}",
                           {key: "日期格式应为 YYYY-MM-DD"}) from None
