"""The engine's one source of "now", so tests (and the timer worker) can move time."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone

_now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _now()


def today() -> date:
    """Today's date in China Standard Time (the calendar the procedures follow)."""
    from .calendar import CHINA_TZ

    return now().astimezone(CHINA_TZ).date()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (None restores the system clock)."""
    global _now
    _now = fn or (lambda: datetime.now(timezone.utc))
