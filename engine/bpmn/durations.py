"""ISO durations and due values as the diagrams write them (`P3D`, `PT4H`, a date, a moment).

`parse` is the one reader of ISO durations in Minyi: validation (`expressions`, `diagram`), deadlines and
reminders (`deadlines`), the residents' procedures page (`public.procedures_page`) all go through it, and it
reads them as SpiffWorkflow does when it runs a timer — so a duration the designer is allowed to write is one
the engine runs and residents read the same way. ISO 8601 rules, as the engine reads them:
- a decimal fraction only on the last component: `P1.5D` is a day and a half, `PT1.5H` ninety minutes,
  `P1.5DT2H` is refused (SpiffWorkflow alone would read it as two hours);
- weeks stand alone: `P2W`, never `P1W2D` (write `P9D`);
- time parts after `T`: `P1DT12H`; years and months count on the calendar from the start.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.clock import CHINA_TZ

_UNITS = (("years", "年"), ("months", "个月"), ("weeks", "周"), ("days", "天"), ("hours", "小时"),
          ("minutes", "分钟"), ("seconds", "秒"))

# Not a parser: what a designer who meant a duration writes (P, then a digit or T), to say why it is refused
# instead of reading it as a field name.
_MEANT = re.compile(r"^(R\d*/)?P(\d|T\d)[\dYMWDTHS.,]*$")


@dataclass(frozen=True)
class Duration:
    """An ISO duration, component by component (a component may be fractional, e.g. 1.5 days)."""

    years: float = 0
    months: float = 0
    weeks: float = 0
    days: float = 0
    hours: float = 0
    minutes: float = 0
    seconds: float = 0

    def fixed(self) -> timedelta | None:
        """The length, when it does not depend on the calendar (no years or months)."""
        if self.years or self.months:
            return None
        return timedelta(weeks=self.weeks, days=self.days, hours=self.hours, minutes=self.minutes,
                         seconds=self.seconds)

    def after(self, start: datetime) -> datetime:
        """The moment this long after `start`; months and years as the engine counts them for timers."""
        parts = {name: value for name, _ in _UNITS if (value := getattr(self, name))}
        return start + TimerEventDefinition.get_timedelta_from_start(parts, start)

    def readable(self) -> str:
        """As a resident reads it: "1.5 天", "1 周", "1 天 12 小时"."""
        return " ".join(f"{value:g} {unit}" for name, unit in _UNITS if (value := getattr(self, name)))


def parse(text: str | None) -> Duration | None:
    """The ISO duration `text` (e.g. `P1.5D`, `PT4H`, `P2W`), or None when it is not one."""
    text = (text or "").strip()
    if not text.startswith("P") or "P" in text[1:] or text != text.upper():
        return None
    try:
        parts = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception("Invalid duration")
        return None
    # every designator must have been read: SpiffWorkflow skips a fraction before T (P1.5DT2H → 2 hours)
    if not parts or sum(ch.isalpha() for ch in text[1:]) != len(parts) + ("T" in text):
        return None
    return Duration(**parts)


def meant(text: str) -> bool:
    """Whether `text` is written like an ISO duration (or a cycle of one), valid or not."""
    return bool(_MEANT.match((text or "").strip()))


def problem(text: str) -> str:
    """Why `text` is not an ISO duration, in the designer's words."""
    text = (text or "").strip().rpartition("/")[2]
    if "W" in text and any(unit in text.partition("W")[2] for unit in "DTHMS"):
        return f"“{text}” 不是有效的 ISO 时长:周(W)不能与其他单位合用,例如把 P1W2D 写成 P9D"
    if re.search(r"[.,]\d*[A-Z].*\d", text):
        return f"“{text}” 不是有效的 ISO 时长:小数只能用在最后一个单位上,例如把 P1.5DT2H 写成 P1DT14H"
    return f"“{text}” 不是有效的 ISO 时长,例如 P3D(3 天)、P1.5D(1.5 天)、PT4H(4 小时)、P2W(2 周)"


def lead_time(text: str) -> timedelta | None:
    """A fixed ISO duration, e.g. a reminder's lead time (`remindBefore`); None when the text is not one,
    or counts years or months."""
    duration = parse(text)
    return duration.fixed() if duration else None


def due_moment(value: Any, created: datetime) -> datetime | None:
    """Turn a dueDate value (date, datetime or ISO duration from `created`) into a moment; None when it is
    none of these, or lies beyond the calendar (`P99999999D`)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    duration = parse(text)
    if duration is not None:
        try:
            return duration.after(created)
        except (OverflowError, ValueError):
            return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), CHINA_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)
