"""Firing due timers: finds waiting cases through the indexed `next_timer_at` column.

Due cases are fired in batches, one transaction per batch, each case under its own row lock;
on PostgreSQL the sweep uses SKIP LOCKED so several workers can run at once without firing
twice. A crash rolls back the batch in flight: its cases stay due and the next sweep fires
each of them once (their half-advanced workflows never reach the cache, which is filled only
after the commit).
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import calendar, deployments, spiff
from engine.bpmn.diagram import Diagram
from engine.errors import MinyiError
from engine.people import notifications, outbox
from engine.store import audit_chain
from engine.store.db import Database
from engine.store.models import Case, HumanTaskRole

from . import calendar_days, deadlines, heartbeat, runtime
from .autosteps import AutoSteps

log = logging.getLogger(__name__)


def due_cases(db: Database, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Cases whose next timer is due, found through the `next_timer_at` index alone (a finished
    case has none; one left behind is cleared by `fire_case`), so the cost does not grow with
    the number of waiting cases."""
    now = now or clock.now()
    with db.read() as session:
        return list(session.scalars(
            select(Case.id).where(Case.next_timer_at <= now).order_by(Case.next_timer_at).limit(limit)))


# Due cases fired per transaction: one commit and one seal of the audit chain serve them all.
# Larger batches hold their case locks (on SQLite, the write lock) longer and redo more after a crash.
BATCH = 20


def fire_case(db: Database, case_id: int) -> bool:
    """Fire whatever is due on one case; False when another worker holds it or nothing was due."""
    return fire_cases(db, [case_id]) == 1


def fire_cases(db: Database, case_ids: list[int]) -> int:
    """Fire a batch of due cases in one transaction; cases another worker holds are skipped.
    One commit, one seal of the audit chain and one look-up of each diagram and role serve
    the whole batch. Returns how many cases were fired."""
    now = clock.now()
    fired: list[tuple[Case, Any]] = []
    with db.write() as session:
        query = select(Case).where(Case.id.in_(case_ids), Case.next_timer_at <= now).order_by(Case.id)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        batch = _Batch(session)
        locked = session.scalars(query).all()
        audit_chain.seed_locked(session, [case.id for case in locked])
        batch.stored = runtime.prefetch(session, [case.id for case in locked])
        for case in locked:
            workflow = _fire(session, case, batch)
            if workflow is not None:
                fired.append((case, workflow))
    for case, workflow in fired:
        runtime.remember(case.id, case.revision, workflow)
    return len(fired)


class _Batch:
    """What the cases of one batch share: parsed diagrams by version, role holders by role."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.diagrams: dict[int, Diagram] = {}
        self.stored: runtime.Prefetched | None = None  # the locked cases' states and open steps

    def diagram(self, version_id: int) -> Diagram:
        if version_id not in self.diagrams:
            self.diagrams[version_id] = deployments.diagram_of(self.session, version_id)
        return self.diagrams[version_id]


def _fire(session: Session, case: Case, batch: _Batch) -> Any | None:
    """Advance one locked case past its due timers; its workflow, or None when nothing was due."""
    if case.status != "running":
        case.next_timer_at = None
        return None
    d = batch.diagram(case.version_id)
    stored = batch.stored
    workflow = runtime.load_workflow(session, case, d, stored.states.get(case.id) if stored else None)
    before = {str(t.id) for t in spiff.waiting_timers(workflow)}
    decided = AutoSteps()
    spiff.advance(workflow, decided)
    fired = [t for t in spiff.timer_tasks(workflow) if str(t.id) in before and not spiff.is_waiting(t)]
    for task in fired:
        audit_chain.append(session, case.id, "system", "timer_fired", step_id=spiff.spec_name(task),
                     step_name=d.element_names.get(spiff.spec_name(task), ""), data={})
    decided.record(session, case.id, d)
    created = runtime.save(session, case, d, workflow, "system",
                           stored.open_steps.get(case.id) if stored else None)
    session.flush()
    _announce(session, case, created, fired, d, batch)
    return workflow


def _announce(session: Session, case: Case, created: list[runtime.ReadyTask], fired: list, d: Diagram,
              batch: _Batch) -> None:
    """A step a timer led to (逾期督办, 逾期未补齐结案 …) is announced to its role holders
    (a new step has no assignee yet, so its people are the holders of its roles)."""
    if not fired:
        return
    timer_names = "、".join(d.element_names.get(spiff.spec_name(t)) or spiff.spec_name(t) for t in fired)
    for row in created:
        people = notifications.grant_members(session, session.execute(
            select(HumanTaskRole.role, HumanTaskRole.unit_id).where(HumanTaskRole.human_task_id == row.id)))
        text = f"{case.number}({case.title}):{timer_names},新任务“{row.name}”待办理。"
        notifications.notify(session, people, "escalation", text, case_id=case.id, task_id=row.id)


# A case whose diagram fails on its data when a timer fires is tried again after this long.
RETRY_FAILED_AFTER = timedelta(hours=1)


def fire_due(db: Database, limit: int = 500, batch: int = BATCH) -> int:
    """One sweep: fire every case whose next timer is due, `batch` cases per transaction.
    A batch that fails is redone case by case, so one bad case never holds back the others.
    Returns how many cases were fired."""
    due = due_cases(db, limit=limit)
    fired = 0
    for i in range(0, len(due), batch):
        chunk = due[i:i + batch]
        try:
            fired += fire_cases(db, chunk)
        except MinyiError:
            for case_id in chunk:
                try:
                    fired += fire_cases(db, [case_id])
                except MinyiError as exc:
                    _postpone(db, case_id, exc.message)
    return fired


def _postpone(db: Database, case_id: int, message: str) -> None:
    """Record why a case's timer could not fire (audit `timer_failed`) and try it again later."""
    log.warning("timer of case %s failed: %s", case_id, message)
    with db.write() as session:
        case = session.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if case is None:
            return
        case.next_timer_at = clock.now() + RETRY_FAILED_AFTER
        audit_chain.append(session, case.id, "system", "timer_failed",
                     data={"message": message, "retry_at": case.next_timer_at.isoformat()})


# --- a new 放假/调休 notice (engine.work.calendar_notices) --------------------------------

def recompute(session: Session, cases: dict[int, Case], old: calendar.Overrides, new: calendar.Overrides,
              actor: str) -> tuple[list[deadlines.Moved], list[tuple[int, int, Any]]]:
    """Move the waiting date timers computed in working days (`add_workdays(…)`) that the notice
    changes, when they still hold what their expression gives on the old calendar (a timer moved
    by 延期 stays). Returns what moved and, for each changed case, what `runtime.remember` needs
    after the commit. The caller holds the locks of `cases`."""
    moved: list[deadlines.Moved] = []
    remembered = []
    diagrams: dict[int, Diagram] = {}
    for case in cases.values():
        if case.status != "running" or case.next_timer_at is None:
            continue
        if case.version_id not in diagrams:
            diagrams[case.version_id] = deployments.diagram_of(session, case.version_id)
        d = diagrams[case.version_id]
        if b"add_workdays" not in d.xml:
            continue
        workflow = runtime.load_workflow(session, case, d)
        changed = False
        for task in spiff.waiting_timers(workflow):
            with calendar.assuming(old):
                before = spiff.recomputed_timer(task, "add_workdays")
            if before is None or before != spiff.timer_value(task):
                continue
            with calendar.assuming(new):
                after = spiff.recomputed_timer(task, "add_workdays")
            old_moment = spiff.timer_moment(task)
            if after is None or after == before or old_moment is None:
                continue
            task.internal_data["event_value"] = after
            new_moment = spiff.timer_moment(task)
            if new_moment is None:
                task.internal_data["event_value"] = before
                continue
            changed = True
            name = d.element_names.get(spiff.spec_name(task)) or spiff.spec_name(task)
            audit_chain.append(session, case.id, actor, "timer_recomputed", step_id=spiff.spec_name(task),
                               step_name=name, data={"old": deadlines.china_iso(old_moment),
                                                     "new": deadlines.china_iso(new_moment)})
            moved.append(deadlines.Moved(case.number, case.title or "", name, "定时器", old_moment, new_moment))
        if changed:
            runtime.save(session, case, d, workflow, actor)
            session.flush()
            remembered.append((case.id, case.revision, workflow))
    return moved, remembered


# --- the worker (minyi worker) ------------------------------------------------------

def sweep(db: Database) -> dict[str, int]:
    """Everything time-driven, once: due timers, reminders and overdue steps, outbound messages.
    Each unit of work commits on its own, so a crash loses at most the unit in flight."""
    calendar_days.keep_fresh(db, max_age=0)  # a notice entered in the web since the last sweep
    done = {"timers": fire_due(db)}
    done.update(deadlines.sweep(db))
    done["sent"] = outbox.deliver(db)
    return done


def run_worker(db: Database, interval: float = 30.0, once: bool = False,
               stop: threading.Event | None = None) -> None:
    """Sweep every `interval` seconds until `stop` is set; a failed sweep is logged and retried.
    Each sweep begins with a heartbeat (engine.work.heartbeat), which the readiness check reads."""
    stop = stop or threading.Event()
    name, started = heartbeat.worker_name(), clock.now()
    while True:
        try:
            heartbeat.beat(db, name, interval, started)
            done = sweep(db)
            if any(done.values()):
                log.info("worker sweep: %s", done)
        except Exception:  # noqa: BLE001 — the worker must outlive one bad sweep
            log.exception("worker sweep failed; retrying in %s s", interval)
            if once:
                raise
        if once or stop.wait(interval):
            return
