"""Loading a case's workflow, and writing back its state and its human-task index.

Both run inside the caller's transaction, after the case row is locked.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import audit, clock, deadlines, expressions, spiff
from .calendar import CHINA_TZ
from .diagram import Diagram
from .models import SORT_LAST, Case, CaseState, HumanTask, HumanTaskRole

_CACHE_SIZE = 256
_cache: OrderedDict[int, tuple[int, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def load_workflow(session: Session, case: Case, d: Diagram) -> Any:
    """The case's workflow. A copy kept from the last commit is reused when its revision matches;
    it is taken out of the cache so a failed transaction can never leave a half-changed copy."""
    with _cache_lock:
        cached = _cache.pop(case.id, None)
    if cached is not None and cached[0] == case.revision:
        return cached[1]
    state = session.get(CaseState, case.id)
    return spiff.restore(d.engine, state.state)


def remember(case_id: int, revision: int, workflow: Any) -> None:
    """Keep a committed workflow for the next call on the same case."""
    with _cache_lock:
        _cache[case_id] = (revision, workflow)
        _cache.move_to_end(case_id)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def forget_all() -> None:
    with _cache_lock:
        _cache.clear()


def due_moment(value: Any, created: datetime) -> datetime | None:
    """Turn a dueDate value (date, datetime or ISO duration from now) into a moment."""
    if value in (None, ""):
        return None
    text = str(value)
    if expressions.is_iso_literal(text) and text.startswith("P"):
        return created + _duration(text)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), CHINA_TZ)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def _duration(text: str) -> timedelta:
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

    return TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(text), clock.now())


def save(session: Session, case: Case, d: Diagram, workflow: Any, actor_name: str) -> list[HumanTask]:
    """Write state, case columns and the human-task index; return newly ready tasks."""
    now = clock.now()
    data = spiff.case_data(workflow)
    blob = spiff.dump(workflow)
    # An UPDATE, not a load-then-set: a workflow from the cache never read the old blob, so don't.
    written = session.execute(update(CaseState).where(CaseState.case_id == case.id)
                              .values(state=blob, data=_jsonable(data))).rowcount
    if not written:
        session.add(CaseState(case_id=case.id, format=spiff.FORMAT, state=blob, data=_jsonable(data)))
    case.updated_at = now
    title_field = d.properties.get("caseTitle", "title")
    case.title = str(data.get(title_field) or case.title or "")[:200]
    case.topic = _short(data.get(d.properties.get("topicField", "topic")))
    case.kind = _short(data.get(d.properties.get("kindField", "kind")))
    case.channel = _short(data.get(d.properties.get("channelField", "channel")))
    case.rating = _short(data.get(d.properties.get("ratingField", "rating")))
    case.next_timer_at = spiff.next_timer_at(workflow)
    if workflow.is_completed() and case.status == "running":
        case.status, case.completed_at = "completed", now
        ends = spiff.reached_ends(workflow)
        case.outcome = "、".join(d.element_names.get(e) or e for e in ends)[:100] or None
        audit.append(session, case.id, "system", "case_completed", data={"outcome": case.outcome, "ends": ends})
    return _sync_tasks(session, case, d, workflow, data, now)


def _short(value: Any) -> str | None:
    return str(value)[:40] if value not in (None, "") else None


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if isinstance(v, (str, int, float, bool, list, dict, type(None)))}


def _sync_tasks(session: Session, case: Case, d: Diagram, workflow: Any, data: dict, now: datetime) -> list[HumanTask]:
    ready = {str(t.id): t for t in spiff.ready_human_tasks(workflow)}
    open_rows = list(session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "READY")))
    for row in open_rows:
        if row.task_uuid not in ready:
            row.status, row.completed_at = "CANCELLED", now
            _close_roles(session, row)
            audit.append(session, case.id, "system", "task_cancelled", step_id=row.step_id,
                         step_name=row.name, lane=row.lane, data={})
    known = {row.task_uuid for row in open_rows}
    created: list[HumanTask] = []
    for uuid, task in ready.items():
        if uuid in known:
            continue
        step_id = spiff.spec_name(task)
        step = d.steps.get(step_id)
        name = step.name if step else step_id
        roles = step.roles if step else ()
        deadline = deadlines.plan(step, d.properties, {**data, **task.data}, now)
        due_at = deadline.due_at
        row = HumanTask(case_id=case.id, task_uuid=uuid, step_id=step_id, name=name,
                        lane=step.lane if step else "", status="READY", created_at=now, due_at=due_at,
                        data=_own_data(task.data, data))
        deadlines.apply(row, deadline)
        session.add(row)
        audit.append(session, case.id, "system", "task_ready", step_id=step_id, step_name=name,
                     lane=row.lane, data={"roles": list(roles),
                                          "due_at": due_at.isoformat() if due_at else None})
        created.append(row)
    if created:
        session.flush()  # one INSERT batch gives every new row its id
        role_rows = [{"human_task_id": row.id, "role": role, "open": True, "due_at": row.due_at or SORT_LAST}
                     for row in created for role in (d.steps[row.step_id].roles if row.step_id in d.steps else ())]
        if role_rows:
            session.execute(insert(HumanTaskRole), role_rows)
    return created


def _own_data(task_data: dict, case_data: dict) -> dict | None:
    """What a ready step sees that the case as a whole does not (a multi-instance item)."""
    own = _jsonable({k: v for k, v in task_data.items() if case_data.get(k) != v})
    return own or None


def _close_roles(session: Session, row: HumanTask) -> None:
    session.execute(update(HumanTaskRole).where(HumanTaskRole.human_task_id == row.id).values(open=False),
                    execution_options={"synchronize_session": False})
