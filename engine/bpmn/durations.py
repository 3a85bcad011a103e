"""ISO durations and due values as the diagrams write them (`P3D`, `PT4H`, a date, a moment).

Deadline checks at validation (`diagram`) and deadline planning at run time (`deadlines`) both read
them here, so neither has to import the other.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import clock
from engine.clock import CHINA_TZ

from . import expressions


def lead_time(text: str) -> timedelta | None:
    """A fixed ISO duration (days, weeks, hours, minutes, seconds), e.g. a reminder's lead time
    (`remindBefore`); None when the text is not one, or counts years or months."""
    text = (text or "").strip()
    if not text.startswith("P"):
        return None
    try:
        parts = TimerEventDefinition.parse_iso_duration(text)
    except (ValueError, TypeError, AttributeError):
        return None
    if parts.get("years") or parts.get("months"):
        return None
    return timedelta(days=parts.get("days", 0) + 7 * parts.get("weeks", 0), hours=parts.get("hours", 0),
                     minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0))


def due_moment(value: Any, created: datetime) -> datetime | None:
    """Turn a dueDate value (date, datetime or ISO duration from now) into a moment; None when it is
    none of these, or lies beyond the calendar (`P99999999D`)."""
    if value in (None, ""):
        return None
    text = str(value)
    if expressions.is_iso_literal(text) and text.startswith("P"):
        try:
            return created + _from_now(text)
        except (OverflowError, ValueError):
            return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), CHINA_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def _from_now(text: str) -> timedelta:
    return TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(text), clock.now())
