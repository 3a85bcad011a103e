"""The timer worker's sign of life: each worker process records when it last began a sweep, so the
readiness check can tell that deadlines, reminders and outbound messages are being handled."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from engine import clock
from engine.store.db import Database
from engine.store.models import WorkerHeartbeat

# A worker is late when it has not begun a sweep for this many of its own intervals (plus the grace
# below, for one slow sweep); rows of workers silent for FORGET_AFTER are removed by the next beat.
LATE_AFTER_INTERVALS = 3
GRACE = timedelta(seconds=60)
FORGET_AFTER = timedelta(days=7)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:160]


def beat(db: Database, worker: str, interval: float, started_at: datetime) -> None:
    """Record that `worker` (sweeping every `interval` seconds since `started_at`) is alive now."""
    now = clock.now()
    with db.write() as session:
        session.merge(WorkerHeartbeat(worker=worker, interval_seconds=interval, started_at=started_at, beat_at=now))
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_AFTER))


@dataclass(frozen=True)
class WorkerState:
    """The liveliest worker: its name, how long since its last beat, and whether that is too long."""

    worker: str
    age: timedelta
    late: bool


def liveliest(db: Database) -> WorkerState | None:
    """The worker that beat most recently relative to its own interval, or None if none ever beat."""
    now = clock.now()
    with db.read() as session:
        rows = session.execute(select(WorkerHeartbeat.worker, WorkerHeartbeat.beat_at,
                                      WorkerHeartbeat.interval_seconds)).all()  # a few: old rows are pruned
    states = [WorkerState(worker, now - beat_at,
                          now - beat_at > timedelta(seconds=interval * LATE_AFTER_INTERVALS) + GRACE)
              for worker, beat_at, interval in rows]
    return min(states, key=lambda s: (s.late, s.age), default=None)
