"""Firing due timers: finds waiting cases through the indexed `next_timer_at` column.

Each case is fired in its own transaction under its row lock; on PostgreSQL the
sweep uses SKIP LOCKED so several workers can run at once without firing twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from . import audit, clock, deployments, runtime, spiff
from .db import Database
from .models import Case


def due_cases(db: Database, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or clock.now()
    with db.read() as session:
        return list(session.scalars(
            select(Case.id).where(Case.next_timer_at <= now, Case.status == "running")
            .order_by(Case.next_timer_at).limit(limit)))


def fire_case(db: Database, case_id: int) -> bool:
    """Fire whatever is due on one case; False when another worker holds it or nothing was due."""
    now = clock.now()
    with db.write() as session:
        query = select(Case).where(Case.id == case_id, Case.next_timer_at <= now, Case.status == "running")
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        case = session.scalar(query)
        if case is None:
            return False
        d = deployments.diagram_of(session, case.version_id)
        workflow = runtime.load_workflow(session, case, d)
        before = {str(t.id) for t in spiff.waiting_timers(workflow)}
        spiff.advance(workflow)
        fired = [t for t in spiff.timer_tasks(workflow) if str(t.id) in before and not spiff.is_waiting(t)]
        for task in fired:
            audit.append(session, case.id, "system", "timer_fired", step_id=spiff.spec_name(task),
                         step_name=d.element_names.get(spiff.spec_name(task), ""), data={})
        runtime.save(session, case, d, workflow, "system")
        session.flush()
        revision = case.revision
    runtime.remember(case_id, revision, workflow)
    return True


def fire_due(db: Database, limit: int = 500) -> int:
    """One sweep: fire every case whose next timer is due. Returns how many cases were fired."""
    return sum(fire_case(db, case_id) for case_id in due_cases(db, limit=limit))
