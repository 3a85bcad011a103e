"""Deadlines of human steps (办理期限): when a step is due, when to remind, when it is overdue.

A designer gives a step's deadline in the diagram, either as `camunda:dueDate` (a date,
a moment, or a calendar duration such as `P7D`) or as working days on the Chinese
calendar with step properties `dueWorkingDays` (e.g. 3) and `dueFrom` (a case field
such as `reply_date` or `received_at`; default: when the step became ready). The
reminder lead time is the property `remindBefore` (ISO duration, on the step or the
process; default P1D); before a deadline that is a whole day, whole days of it are working days
and the reminder comes at 09:00 (`remind_moment`). The role told when a step is overdue is
`escalateTo`; the leaders of the procedure (`leaders`: 社区负责人) are told too, once per step, with
who holds it. When an administrator enters a year's 放假/调休 notice, `recompute` moves the open
working-day deadlines it changes.

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
from engine.people import notifications, units
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
    """When to remind: `remindBefore` ahead of the due time, always on a working day.

    A deadline at the end of a day (working days, a date) counts a lead of whole days in working
    days and reminds at the start of work (09:00): P1D is 09:00 of the last working day on or
    before the due day, P2D the working day before that. Any other lead is subtracted from the
    due time and, when that lands on a day off, moved back to 09:00 of the working day before.
    None when the deadline has already passed."""
    if due_at is None:
        return None
    lead = durations.lead_time(props.get("remindBefore") or process_props.get("remindBefore") or DEFAULT_REMIND_BEFORE)
    lead = lead if lead is not None else timedelta(days=1)
    if _ends_a_day(due_at) and lead >= timedelta(days=1) and lead % timedelta(days=1) == timedelta(0):
        day = _working_day_on_or_before(due_at.astimezone(CHINA_TZ).date())
        for _ in range(lead.days - 1):
            day = _working_day_on_or_before(day - timedelta(days=1))
        moment = datetime.combine(day, WORKDAY_START, CHINA_TZ)
    else:
        moment = due_at - lead
        day = moment.astimezone(CHINA_TZ).date()
        if not calendar.is_workday(day):
            moment = datetime.combine(_working_day_on_or_before(day), WORKDAY_START, CHINA_TZ)
    if due_at <= now:
        return None
    return max(moment, now)


def _ends_a_day(moment: datetime) -> bool:
    """A deadline given as a day (working days, a date field) is due at 23:59:59 China time."""
    return moment.astimezone(CHINA_TZ).time().replace(microsecond=0) == time(23, 59, 59)


def _working_day_on_or_before(day: date) -> date:
    while not calendar.is_workday(day):
        day -= timedelta(days=1)
    return day


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
        self.grants: dict[int, list[tuple[str, int]]] = {}
        for task_id, role, unit_id in session.execute(
                select(HumanTaskRole.human_task_id, HumanTaskRole.role, HumanTaskRole.unit_id)
                .where(HumanTaskRole.human_task_id.in_(task_ids))):
            self.grants.setdefault(task_id, []).append((role, unit_id))
        self.members: dict[tuple[tuple[str, int], ...], list[int]] = {}
        self.usernames: dict[int, str] = {}
        self.diagrams: dict[int, Diagram] = {}

    def diagram(self, version_id: int) -> Diagram:
        if version_id not in self.diagrams:
            self.diagrams[version_id] = deployments.diagram_of(self.session, version_id)
        return self.diagrams[version_id]

    def people(self, row: HumanTask) -> list[int]:
        """Its assignee, else everyone holding one of its roles where it was routed (`notifications.task_people`)."""
        return [row.assignee_id] if row.assignee_id is not None else self.holding(self.grants.get(row.id, []))

    def holding(self, grants: list[tuple[str, int]]) -> list[int]:
        key = tuple(sorted(set(grants)))
        if key not in self.members:
            self.members[key] = notifications.grant_members(self.session, key)
        return self.members[key]

    def nearest(self, case: Case, roles: list[str]) -> list[int]:
        """Holders of `roles` for a case: in its unit or the nearest unit above it holding each role."""
        return self.holding([(role, units.route(self.session, case.unit_id, role)) for role in roles])

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
    team = [u for u in batch.nearest(case, list(leaders.leading_roles(d))) if u not in told]
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
    supervisors = batch.nearest(case, [role])
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


# --- a new 放假/调休 notice (engine.work.calendar_notices) --------------------------------

@dataclass(frozen=True)
class Moved:
    """An open deadline or timer a calendar notice moved, as the administrator's list shows it."""

    case_number: str
    case_title: str
    what: str          # the step's or the timer's name
    kind: str          # 办理期限 / 定时器
    old: datetime
    new: datetime

    def as_json(self) -> dict[str, str]:
        return {"case_number": self.case_number, "case_title": self.case_title, "what": self.what,
                "kind": self.kind, "old": china_iso(self.old), "new": china_iso(self.new)}


def china_iso(moment: datetime) -> str:
    return moment.astimezone(CHINA_TZ).isoformat()


def _on_working_days(step: Any) -> bool:
    return bool(step.properties.get("dueWorkingDays", "").strip().isdigit()
                or (step.due and "add_workdays" in step.due))


def recompute(session: Session, cases: dict[int, Case], case_data: dict[int, dict], old: calendar.Overrides,
              new: calendar.Overrides, since: datetime, actor: str, now: datetime) -> list[Moved]:
    """Move the open deadlines counted in working days that the notice changes. A deadline is moved
    only when it still is what the diagram gives on the old calendar (one granted by 延期申请 stays);
    a reminder already sent is not sent again. Steps already marked overdue keep their record.
    The caller holds the locks of `cases`."""
    rows = session.scalars(select(HumanTask).where(
        HumanTask.case_id.in_(list(cases)), HumanTask.status == "READY", HumanTask.due_at >= since,
        HumanTask.overdue_at.is_(None)).order_by(HumanTask.case_id, HumanTask.id)).all()
    diagrams: dict[int, Diagram] = {}
    moved = []
    for row in rows:
        case = cases[row.case_id]
        if case.version_id not in diagrams:
            diagrams[case.version_id] = deployments.diagram_of(session, case.version_id)
        d = diagrams[case.version_id]
        step = d.steps.get(row.step_id)
        if step is None or not _on_working_days(step):
            continue
        data = {**case_data.get(case.id, {}), **(row.data or {})}
        with calendar.assuming(old):
            before = plan(step, d.properties, data, row.created_at).due_at
        if before is None or abs(before - row.due_at) > timedelta(seconds=1):
            continue
        with calendar.assuming(new):
            after = plan(step, d.properties, data, row.created_at).due_at
            remind = remind_moment(after, step.properties, d.properties, now)
        if after is None or after == before:
            continue
        row.due_at, row.remind_at = after, remind
        row.next_check_at = remind if row.reminded_at is None and remind is not None else after
        session.execute(update(HumanTaskRole).where(HumanTaskRole.human_task_id == row.id).values(due_at=after))
        audit_chain.append(session, case.id, actor, "deadline_recomputed", step_id=row.step_id, step_name=row.name,
                           lane=row.lane, data={"old": china_iso(before), "new": china_iso(after)})
        moved.append(Moved(case.number, case.title or "", row.name, "办理期限", before, after))
    return moved
