"""The engine's one source of "now", so tests (and the timer worker) can move time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

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
