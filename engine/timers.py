"""Firing due timers: finds waiting cases through the indexed `next_timer_at` column.

Each case is fired in its own transaction under its row lock; on PostgreSQL the
sweep uses SKIP LOCKED so several workers can run at once without firing twice.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, clock, deadlines, deployments, notifications, outbox, runtime, spiff
from .autosteps import AutoSteps
from .db import Database
from .models import Case, HumanTask

log = logging.getLogger(__name__)


def due_cases(db: Database, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Cases whose next timer is due, found through the `next_timer_at` index alone (a finished
    case has none; one left behind is cleared by `fire_case`), so the cost does not grow with
    the number of waiting cases."""
    now = now or clock.now()
    with db.read() as session:
        return list(session.scalars(
            select(Case.id).where(Case.next_timer_at <= now).order_by(Case.next_timer_at).limit(limit)))


def fire_case(db: Database, case_id: int) -> bool:
    """Fire whatever is due on one case; False when another worker holds it or nothing was due."""
    now = clock.now()
    with db.write() as session:
        query = select(Case).where(Case.id == case_id, Case.next_timer_at <= now)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        case = session.scalar(query)
        if case is None:
            return False
        if case.status != "running":
            case.next_timer_at = None
            return False
        d = deployments.diagram_of(session, case.version_id)
        workflow = runtime.load_workflow(session, case, d)
        before = {str(t.id) for t in spiff.waiting_timers(workflow)}
        decided = AutoSteps()
        spiff.advance(workflow, decided)
        fired = [t for t in spiff.timer_tasks(workflow) if str(t.id) in before and not spiff.is_waiting(t)]
        for task in fired:
            audit.append(session, case.id, "system", "timer_fired", step_id=spiff.spec_name(task),
                         step_name=d.element_names.get(spiff.spec_name(task), ""), data={})
        decided.record(session, case.id, d)
        created = runtime.save(session, case, d, workflow, "system")
        session.flush()
        _announce(session, case, created, fired, d)
        revision = case.revision
    runtime.remember(case_id, revision, workflow)
    return True


def _announce(session: Session, case: Case, created: list[HumanTask], fired: list, d: Any) -> None:
    """A step a timer led to (逾期督办, 逾期未补齐结案 …) is announced to its role holders."""
    if not fired:
        return
    timer_names = "、".join(d.element_names.get(spiff.spec_name(t)) or spiff.spec_name(t) for t in fired)
    for row in created:
        text = f"{case.number}({case.title}):{timer_names},新任务“{row.name}”待办理。"
        notifications.notify(session, notifications.task_people(session, row), "escalation", text,
                             case_id=case.id, task_id=row.id)


def fire_due(db: Database, limit: int = 500) -> int:
    """One sweep: fire every case whose next timer is due. Returns how many cases were fired."""
    return sum(fire_case(db, case_id) for case_id in due_cases(db, limit=limit))


# --- the worker (minyi worker) ------------------------------------------------------

def sweep(db: Database) -> dict[str, int]:
    """Everything time-driven, once: due timers, reminders and overdue steps, outbound messages.
    Each unit of work commits on its own, so a crash loses at most the unit in flight."""
    done = {"timers": fire_due(db)}
    done.update(deadlines.sweep(db))
    done["sent"] = outbox.deliver(db)
    return done


def run_worker(db: Database, interval: float = 30.0, once: bool = False,
               stop: threading.Event | None = None) -> None:
    """Sweep every `interval` seconds until `stop` is set; a failed sweep is logged and retried."""
    stop = stop or threading.Event()
    while True:
        try:
            done = sweep(db)
            if any(done.values()):
                log.info("worker sweep: %s", done)
        except Exception:  # noqa: BLE001 — the worker must outlive one bad sweep
            log.exception("worker sweep failed; retrying in %s s", interval)
            if once:
                raise
        if once or stop.wait(interval):
            return
