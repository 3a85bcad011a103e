"""Deadlines of human steps (办理期限): when a step is due, when to remind, when it is overdue.

A designer gives a step's deadline in the diagram, either as `camunda:dueDate` (a date,
a moment, or a calendar duration such as `P7D`) or as working days on the Chinese
calendar with step properties `dueWorkingDays` (e.g. 3) and `dueFrom` (a case field
such as `reply_date` or `received_at`; default: when the step became ready). The
reminder lead time is the property `remindBefore` (ISO duration, on the step or the
process; default P1D). The role told when a step is overdue is `escalateTo`; the leaders of the
procedure (`leaders`: 社区负责人) are told too, once per step, with who holds it.

The deadline worker visits only rows whose indexed `next_check_at` has passed, a batch of them
per transaction.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import calendar, deployments, durations, expressions, sites
from engine.bpmn.diagram import Diagram
from engine.clock import CHINA_TZ
from engine.people import notifications
from engine.store import audit_chain
from engine.store.db import Database
from engine.store.models import Case, HumanTask, HumanTaskRole, User

from . import leaders

log = logging.getLogger(__name__)
DEFAULT_REMIND_BEFORE = "P1D"
WORKDAY_START = time(9, 0)


@dataclass(frozen=True)
class Deadline:
    """A step's deadline; `failure` when its dueDate could not be computed (the step then has none)."""

    due_at: datetime | None
    remind_at: datetime | None
    failure: sites.Failure | None = None

    @property
    def next_check_at(self) -> datetime | None:
        return self.remind_at or self.due_at


def _as_date(value: Any, fallback: datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(CHINA_TZ).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return fallback.astimezone(CHINA_TZ).date()


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), CHINA_TZ)


def plan(step: Any, process_properties: dict[str, str], data: dict[str, Any], now: datetime) -> Deadline:
    """The deadline of a step that becomes ready now, from what the diagram says."""
    props = step.properties if step else {}
    due_at = None
    failed = sites.Failures(step.id if step else "")
    if step and step.due:
        computed, value = failed.attempt("dueDate", step.due, {**data, **process_properties})
        due_at = _due_moment(value, now, step, failed) if computed else None
    elif props.get("dueWorkingDays", "").strip().isdigit():
        source = props.get("dueFrom", "").strip()
        start = _as_date(data.get(source) if source else None, now)
        due_at = end_of_day(calendar.add_workdays(start, int(props["dueWorkingDays"])))
    return Deadline(due_at, remind_moment(due_at, props, process_properties, now), next(iter(failed.found), None))


def _due_moment(value: Any, now: datetime, step: Any, failed: sites.Failures) -> datetime | None:
    """The moment a computed dueDate names; a value that is no date, moment or duration is a failure."""
    moment = durations.due_moment(value, now)
    if moment is None and value not in (None, ""):
        failed.found.append(sites.Failure(step.id, "dueDate", expressions.unwrap(step.due),
                                          f"得到 “{str(value)[:40]}”,不是日期、时刻或时长(例如 P7D、2026-12-01)"))
    return moment


def remind_moment(due_at: datetime | None, props: dict, process_props: dict, now: datetime) -> datetime | None:
    """`remindBefore` ahead of the due time, moved back onto a working day (09:00) when it
    falls on a day off, so the reminder reaches people at work. None when already too late."""
    if due_at is None:
        return None
    lead = durations.lead_time(props.get("remindBefore") or process_props.get("remindBefore") or DEFAULT_REMIND_BEFORE)
    moment = due_at - (lead if lead is not None else timedelta(days=1))
    day = moment.astimezone(CHINA_TZ).date()
    if not calendar.is_workday(day):
        while not calendar.is_workday(day):
            day -= timedelta(days=1)
        moment = datetime.combine(day, WORKDAY_START, CHINA_TZ)
    if due_at <= now:
        return None
    return max(moment, now)


def columns(deadline: Deadline) -> dict[str, datetime | None]:
    """A new step's deadline columns, as written to its index row."""
    return {"due_at": deadline.due_at, "remind_at": deadline.remind_at, "reminded_at": None, "overdue_at": None,
            "next_check_at": deadline.next_check_at}


def apply(row: HumanTask, deadline: Deadline) -> None:
    row.due_at, row.remind_at = deadline.due_at, deadline.remind_at
    row.reminded_at = row.overdue_at = None
    row.next_check_at = deadline.next_check_at


# --- the sweep (催办: reminder before, overdue notice after) -------------------------

def due_checks(db: Database, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Open steps whose reminder or deadline has come; rows no longer open are cleared."""
    now = now or clock.now()
    with db.write() as session:
        session.execute(update(HumanTask).where(HumanTask.next_check_at <= now, HumanTask.status != "READY")
                        .values(next_check_at=None))
    with db.read() as session:
        return list(session.scalars(select(HumanTask.id).where(HumanTask.next_check_at <= now)
                                    .order_by(HumanTask.next_check_at).limit(limit)))


# Steps checked per transaction, each under its case's lock (FOR UPDATE SKIP LOCKED on PostgreSQL);
# a crash rolls the batch back and leaves every step in it to the next sweep.
BATCH = 20


def check_tasks(db: Database, task_ids: list[int]) -> dict[str, int]:
    """Remind or mark overdue a batch of steps in one transaction, each under its case's lock;
    steps whose case another worker holds are left for later."""
    now = clock.now()
    done = {"reminder": 0, "overdue": 0}
    with db.write() as session:
        case_ids = select(HumanTask.case_id).where(HumanTask.id.in_(task_ids))
        query = select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)
        cases = {c.id: c for c in session.scalars(
            query.with_for_update(skip_locked=True) if not db.is_sqlite else query).all()}
        rows = session.scalars(select(HumanTask).where(HumanTask.id.in_(task_ids), HumanTask.case_id.in_(cases))
                               .order_by(HumanTask.next_check_at, HumanTask.id)
                               .execution_options(populate_existing=True)).all()
        batch = _Batch(session, [row.id for row in rows])
        for row in rows:
            outcome = _check(session, cases[row.case_id], row, now, batch)
            if outcome:
                done[outcome] += 1
    return done


def _check(session: Session, case: Case, row: HumanTask, now: datetime, batch: _Batch) -> str | None:
    if row.next_check_at is None or row.next_check_at > now:
        return None
    if row.status != "READY":
        row.next_check_at = None
        return None
    if row.due_at is not None and row.due_at <= now:
        _overdue(session, case, row, now, batch)
        return "overdue"
    if row.reminded_at is None:
        _remind(session, case, row, now, batch)
    row.next_check_at = row.due_at
    return "reminder"


def when_text(moment: datetime) -> str:
    return f"{moment.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"


class _Batch:
    """What the steps of one batch share, looked up once: diagrams, each step's roles, each role's
    holders and their names."""

    def __init__(self, session: Session, task_ids: list[int]) -> None:
        self.session = session
        self.roles: dict[int, list[str]] = {}
        for task_id, role in session.execute(select(HumanTaskRole.human_task_id, HumanTaskRole.role)
                                             .where(HumanTaskRole.human_task_id.in_(task_ids))):
            self.roles.setdefault(task_id, []).append(role)
        self.members: dict[tuple[str, ...], list[int]] = {}
        self.usernames: dict[int, str] = {}
        self.diagrams: dict[int, Diagram] = {}

    def diagram(self, version_id: int) -> Diagram:
        if version_id not in self.diagrams:
            self.diagrams[version_id] = deployments.diagram_of(self.session, version_id)
        return self.diagrams[version_id]

    def people(self, row: HumanTask) -> list[int]:
        """Its assignee, else everyone holding one of its roles (as `notifications.task_people`)."""
        return [row.assignee_id] if row.assignee_id is not None else self.holding(self.roles.get(row.id, []))

    def holding(self, roles: list[str]) -> list[int]:
        key = tuple(sorted(set(roles)))
        if key not in self.members:
            self.members[key] = notifications.role_members(self.session, key)
        return self.members[key]

    def display_name(self, user_id: int) -> str:
        return self.session.scalar(select(User.display_name).where(User.id == user_id)) or "?"

    def names(self, user_ids: list[int]) -> list[str]:
        missing = [u for u in user_ids if u not in self.usernames]
        if missing:
            self.usernames.update(self.session.execute(
                select(User.id, User.username).where(User.id.in_(missing))).all())
        return [self.usernames[u] for u in user_ids if u in self.usernames]


def _remind(session: Session, case: Case, row: HumanTask, now: datetime, batch: _Batch) -> None:
    told = batch.people(row)
    text = f"“{row.name}”({case.number} {case.title})将于 {when_text(row.due_at)} 到期,请抓紧办理。"
    notifications.notify(session, told, "reminder", text, case_id=case.id, task_id=row.id)
    row.reminded_at = now
    audit_chain.append(session, case.id, "system", "reminder", step_id=row.step_id, step_name=row.name,
                 lane=row.lane, data={"due_at": row.due_at.isoformat(), "notified": batch.names(told)})


def _overdue(session: Session, case: Case, row: HumanTask, now: datetime, batch: _Batch) -> None:
    row.overdue_at, row.next_check_at = now, None
    told = batch.people(row)
    text = f"“{row.name}”({case.number} {case.title})已超过办理期限 {when_text(row.due_at)},已记为逾期。"
    notifications.notify(session, told, "overdue", text, case_id=case.id, task_id=row.id)
    d = batch.diagram(case.version_id)
    # the leaders of the procedure (本组逾期), once per step: this runs once, as overdue_at is set here
    team = [u for u in batch.holding(list(leaders.leading_roles(d))) if u not in told]
    holder = batch.display_name(row.assignee_id) if row.assignee_id is not None else "未认领"
    notifications.notify(session, team, "overdue",
                         f"本组步骤“{row.name}”({case.number} {case.title})已超过办理期限 {when_text(row.due_at)},"
                         f"办理人:{holder}。", case_id=case.id, task_id=row.id)
    audit_chain.append(session, case.id, "system", "overdue", step_id=row.step_id, step_name=row.name,
                 lane=row.lane, data={"due_at": row.due_at.isoformat(), "notified": batch.names(told),
                                      **({"leaders": batch.names(team)} if team else {})})
    step = d.steps.get(row.step_id)
    role = ((step.properties if step else {}).get("escalateTo") or d.properties.get("escalateTo") or "").strip()
    if not role:
        return
    supervisors = batch.holding([role])
    text = f"“{row.name}”({case.number} {case.title})已逾期(期限 {when_text(row.due_at)}),请督办。"
    notifications.notify(session, supervisors, "escalation", text, case_id=case.id, task_id=row.id)
    audit_chain.append(session, case.id, "system", "escalated", step_id=row.step_id, step_name=row.name,
                 lane=row.lane, data={"to": role, "notified": batch.names(supervisors)})


def sweep(db: Database, limit: int = 500, batch: int = BATCH) -> dict[str, int]:
    """One pass over every step whose reminder or deadline has come, `batch` steps per transaction."""
    done = {"reminder": 0, "overdue": 0}
    due = due_checks(db, limit=limit)
    for i in range(0, len(due), batch):
        for outcome, count in check_tasks(db, due[i:i + batch]).items():
            done[outcome] += count
    return done
