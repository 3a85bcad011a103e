"""异议 in a 决议公开's publicity period (seeds 004/000): how a resident objects, and objecting online.

The diagram decides everything: the objection step is the step of the publishing case whose form has
`objection_content` (一征三议两公开: 登记异议, 社区“两委”, ready for the whole 公示期). A resident's
online objection does not complete that step — the 两委 still review it and record 审查结论 and 审查意见,
and a valid objection sends the matter back to 审议 as the diagram draws. It fills the step's 异议人 /
日期 / 异议内容 (several objections are kept one after another, each tagged 〔网上异议 n〕), is recorded in
the audit trail and tells the people of the step. Who receives objections, and an optional contact line
(`objectionContact` on the process, e.g. 社区居委会 电话 …), are shown on the board entry.

An objection is also kept in the case's data, so the end of the period cannot lose it: the step's
timer (公示期满, drawn on its border) carries on with the data it was given, not with the step's, so the
objection is written where the case waits — into the step's data and its timer's (`objections`, every
online objection), and into the timer's alone: `objections_unreviewed` (those filled into the open step)
and `objection_valid` = 待审查. Reviewing the step sets a real 审查结论, and the loop back to the step
starts a new timer from that; if the period ends first, the timer's data says 待审查 and the diagram
sends the listed objections to a step that must answer each (审查期满前未审查的异议) before it goes on.
The resident gets a reference and a follow-up code (`followup`) to read the answer (`objection_answers`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import deployments, spiff
from engine.bpmn.diagram import Diagram, HumanStep
from engine.clock import CHINA_TZ
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import notifications
from engine.store import audit_chain, locks
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, HumanTask, Publication
from engine.work import runtime

from . import followup

CONTENT, BY, DATE = "objection_content", "objection_by", "objection_date"
OBJECTED_KIND = "决议公开"
# in the case's data: every online objection; those the period's timer must not lose; the mark that
# they wait for review (a review's 审查结论 replaces it); the late step's list is the field of that name
ALL, UNREVIEWED, VERDICT, WAITING = "objections", "objections_unreviewed", "objection_valid", "待审查"
ONLINE = "objections_online"  # the open step's own list of the online objections filled into it
RECEIVED = "objection_received"


@dataclass(frozen=True)
class HowToObject:
    """What a board entry tells a resident about objecting: to whom, how to reach them, until when."""

    to: str
    contact: str
    until: datetime
    online: bool  # the objection step is open now: the online form is offered


@dataclass(frozen=True)
class ObjectionReceived:
    """Shown once: the objection's reference and follow-up code (only a hash is kept) to read the answer."""

    case_number: str
    title: str
    received_at: datetime
    reviewers: str
    number: int = 0
    code: str = ""

    @property
    def reference(self) -> str:
        return reference(self.case_number, self.number)

    @property
    def shown_code(self) -> str:
        return followup.grouped(self.code)


def reference(case_number: str, number: int) -> str:
    """What a resident quotes: the case number and the objection's number in it (YZ-…-异议2)."""
    return f"{case_number}-异议{number}"


def how_to_object(session: Session, row: Publication, case: Case, now: datetime) -> HowToObject | None:
    """For a 决议公开 in its publicity period whose diagram has an objection step; otherwise None."""
    if row.kind != OBJECTED_KIND or row.withdrawn or row.ends_at is None or row.ends_at <= now or case.sandbox:
        return None
    d = deployments.diagram_of(session, case.version_id)
    step = objection_step(d)
    if step is None:
        return None
    return HowToObject("、".join(step.roles) or "社区居委会", d.properties.get("objectionContact", ""), row.ends_at,
                       _waiting(session, case, step) is not None)


def objection_step(d: Diagram) -> HumanStep | None:
    return next((s for s in d.steps.values() if any(f.id == CONTENT for f in s.form)), None)


def raise_objection(db: Database, publication_id: int, name: str, contact: str, content: str) -> ObjectionReceived:
    """A resident's 异议 on a 决议公开, filled into the open objection step for the 两委 to review."""
    content = free_text.clean(content, CONTENT, "异议内容", free_text.TEXT)
    name = free_text.clean(name, "name", "姓名", free_text.NAME)
    contact = free_text.clean(contact, "contact", "联系方式", free_text.NAME)
    if not content:
        raise InvalidInput("请写明您对公示内容的异议", {CONTENT: "请填写异议内容"})
    with db.write() as session:
        found = session.execute(select(Publication, Case).join(Case, Case.id == Publication.case_id)
                                .where(Publication.id == publication_id)).first()
        if found is None or found[0].withdrawn or found[1].sandbox:
            raise NotFound(f"公示 {publication_id} 不存在或已撤回")
        row, case = found
        now = clock.now()
        how = how_to_object(session, row, case, now)
        if how is None:
            raise Conflict("这条公示现在不受理异议:只有公示期内的决议公开可以提出异议" if row.kind == OBJECTED_KIND
                           else f"“{row.kind}”不受理异议,只有决议公开在公示期内可以提出异议")
        locks.lock_case(session, case.id)
        session.refresh(case)
        d = deployments.diagram_of(session, case.version_id)
        step = objection_step(d)
        task = _waiting(session, case, step)
        if task is None:
            raise Conflict(f"{how.to}正在审查此前的异议,请稍后再提交,或直接联系{how.to}")
        number = 1 + len(session.scalars(select(AuditEvent.id).where(
            AuditEvent.case_id == case.id, AuditEvent.kind == RECEIVED)).all())
        who = f"{name or '匿名居民'}{f'({contact})' if contact else ''}(网上提交)"
        day = f"{now.astimezone(CHINA_TZ):%Y-%m-%d}"
        line = _line(number, day, who, content)
        online = _fill(session, task, line, who, day)
        _keep_in_case_data(session, case, d, task, line, online)
        code = followup.new_code()
        audit_chain.append(session, case.id, "resident", RECEIVED, step_id=step.id, step_name=step.name,
                           data={"objection": number, "text": content, "publication": row.id,
                                 "code_hash": followup.stored_hash(reference(case.number, number), code)})
        notifications.notify(session, notifications.task_people(session, task), "objection",
                             f"{case.number} “{row.title}”公示期内收到居民网上异议,请在“{step.name}”中审查",
                             case_id=case.id, task_id=task.id)
        return ObjectionReceived(case.number, row.title, now, how.to, number, code)


def _waiting(session: Session, case: Case, step: HumanStep) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.step_id == step.id,
                                                  HumanTask.status == "READY").order_by(HumanTask.id.desc()))


def _line(number: int, day: str, who: str, content: str) -> str:
    """One objection as the 两委 read it: its number, day, who (as given) and what, on one line."""
    text = " / ".join(part.strip() for part in content.splitlines() if part.strip())
    return f"〔网上异议{number}〕{day} {who}:{text}"


def _fill(session: Session, task: HumanTask, line: str, who: str, day: str) -> list[str]:
    """The step's own values (what its form opens with), each objection after the ones not yet reviewed;
    returns the online objections now filled into the step."""
    own = dict(task.data or {})
    own[CONTENT] = f"{own[CONTENT]}\n{line}" if own.get(CONTENT) else line
    own[BY] = f"{own[BY]};{who}" if own.get(BY) else who
    own[DATE] = day
    own[ONLINE] = [*(own.get(ONLINE) or []), line]
    own[VERDICT] = None  # the case's data says 待审查 now (`_keep_in_case_data`); the form asks afresh
    session.execute(update(HumanTask).where(HumanTask.id == task.id).values(data=own))
    return own[ONLINE]


def _keep_in_case_data(session: Session, case: Case, d: Diagram, task: HumanTask, line: str,
                       online: list[str]) -> None:
    """Write the objection where the case waits (see the module's docstring): the open step's data and
    the timers on its border with their common parent, from which they take their data when they fire."""
    workflow = runtime.load_workflow(session, case, d)
    ready = spiff.task_by_id(workflow, task.task_uuid)
    if ready is None:
        raise Conflict("该事项刚被他人更新,请稍后再提交")
    timers = spiff.boundary_timers(ready)
    for waiting in (ready, *timers, *([ready.parent] if timers else [])):
        waiting.data[ALL] = [*(item for item in waiting.data.get(ALL) or [] if item != line), line]
    for waiting in (*timers, *([ready.parent] if timers else [])):
        waiting.data[UNREVIEWED] = list(online)
        waiting.data[VERDICT] = WAITING
    runtime.save(session, case, d, workflow, "resident")
