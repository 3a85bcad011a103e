"""The benchmarks' clock: the engine's clock pinned to a fixed moment and running on from it in real
time, so a benchmark runs the same on any date — the fixed dates in its cases (a promised date, a
上级批复日期) fall where it expects, and no step goes down the overdue path because of the day it runs."""
from __future__ import annotations

from datetime import datetime, timezone

from engine import clock

PINNED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in China, a working day


def pin_clock(at: datetime = PINNED_AT) -> None:
    """From now on the engine's clock reads `at` plus the time elapsed since this call."""
    clock.set_clock(clock.running_from(at))
