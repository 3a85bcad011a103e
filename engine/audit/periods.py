"""考核 periods: a month, a quarter or a year, in China time (the calendar the procedures follow).

A period is written as `2026-11` (month), `2026-Q4` (quarter) or `2026` (year); it runs from the first
midnight of its first day to the first midnight after its last day, both in China time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from engine import clock
from engine.errors import InvalidInput

KINDS = {"month": "月", "quarter": "季度", "year": "年"}
_PATTERN = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])))?$")


@dataclass(frozen=True)
class Period:
    kind: str  # month, quarter, year
    year: int
    number: int = 1  # the month (1–12) or quarter (1–4); 1 for a year

    @property
    def key(self) -> str:
        """As written in a URL: 2026-11, 2026-Q4, 2026."""
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        return f"{self.year}-Q{self.number}" if self.kind == "quarter" else str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.year}年{self.number}月"
        return f"{self.year}年第{self.number}季度" if self.kind == "quarter" else f"{self.year}年"

    @property
    def first_day(self) -> date:
        month = {"month": self.number, "quarter": 3 * self.number - 2}.get(self.kind, 1)
        return date(self.year, month, 1)

    @property
    def next_first_day(self) -> date:
        months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        index = self.first_day.year * 12 + self.first_day.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)

    @property
    def start(self) -> datetime:
        return clock.midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return clock.midnight(self.next_first_day)

    def previous(self) -> Period:
        if self.kind == "year":
            return Period("year", self.year - 1)
        count = 12 if self.kind == "month" else 4
        return Period(self.kind, self.year - (self.number == 1), count if self.number == 1 else self.number - 1)


def current(kind: str = "month") -> Period:
    today = clock.today()
    if kind == "year":
        return Period("year", today.year)
    if kind == "quarter":
        return Period("quarter", today.year, (today.month - 1) // 3 + 1)
    return Period("month", today.year, today.month)


def parse(text: str | None, default_kind: str = "month") -> Period:
    """A period from its written form; empty means the current one; anything else is refused naming the field."""
    text = (text or "").strip()
    if not text:
        return current(default_kind)
    found = _PATTERN.match(text)
    month = int(found.group(2)) if found and found.group(2) else None
    if not found or not 2000 <= int(found.group(1)) <= 2100 or (month is not None and not 1 <= month <= 12):
        raise InvalidInput(f"考核期不正确:{text[:20]}(应为 2026-11、2026-Q4 或 2026)",
                           {"period": "考核期应为 年-月、年-Q季度 或 年,如 2026-11、2026-Q4、2026"})
    year = int(found.group(1))
    if month is not None:
        return Period("month", year, month)
    if found.group(3):
        return Period("quarter", year, int(found.group(3)))
    return Period("year", year)


def recent(count: dict[str, int] | None = None) -> tuple[Period, ...]:
    """The periods a chooser offers: the last 12 months, 8 quarters and 3 years, newest first."""
    count = count or {"month": 12, "quarter": 8, "year": 3}
    offered: list[Period] = []
    for kind, n in count.items():
        period = current(kind)
        for _ in range(n):
            offered.append(period)
            period = period.previous()
    return tuple(offered)
