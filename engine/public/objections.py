"""异议 in a 决议公开's publicity period (seeds 004/000): how a resident objects, and objecting online.

The diagram decides everything: the objection step is the step of the publishing case whose form has
`objection_content` (一征三议两公开: 登记异议, 社区“两委”, ready for the whole 公示期). A resident's
online objection does not complete that step — the 两委 still review it and record 审查结论 and 审查意见,
and a valid objection sends the matter back to 审议 as the diagram draws. It fills the step's 异议人 /
日期 / 异议内容 (several objections are kept one after another), is recorded in the audit trail and
tells the people of the step. Who receives objections, and an optional contact line
(`objectionContact` on the process, e.g. 社区居委会 电话 …), are shown on the board entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import deployments
from engine.bpmn.diagram import Diagram, HumanStep
from engine.clock import CHINA_TZ
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import notifications
from engine.store import audit_chain, locks
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import Case, HumanTask, Publication

CONTENT, BY, DATE = "objection_content", "objection_by", "objection_date"
OBJECTED_KIND = "决议公开"


@dataclass(frozen=True)
class HowToObject:
    """What a board entry tells a resident about objecting: to whom, how to reach them, until when."""

    to: str
    contact: str
    until: datetime
    online: bool  # the objection step is open now: the online form is offered


@dataclass(frozen=True)
class ObjectionReceived:
    case_number: str
    title: str
    received_at: datetime
    reviewers: str


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
        step = objection_step(deployments.diagram_of(session, case.version_id))
        task = _waiting(session, case, step)
        if task is None:
            raise Conflict(f"{how.to}正在审查此前的异议,请稍后再提交,或直接联系{how.to}")
        _fill(session, task, name, contact, content, now)
        audit_chain.append(session, case.id, "resident", "objection_received", step_id=step.id,
                           step_name=step.name, data={"content": content, "publication": row.id})
        notifications.notify(session, notifications.task_people(session, task), "objection",
                             f"{case.number} “{row.title}”公示期内收到居民网上异议,请在“{step.name}”中审查",
                             case_id=case.id, task_id=task.id)
        return ObjectionReceived(case.number, row.title, now, how.to)


def _waiting(session: Session, case: Case, step: HumanStep) -> HumanTask | None:
    return session.scalar(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.step_id == step.id,
                                                  HumanTask.status == "READY").order_by(HumanTask.id.desc()))


def _fill(session: Session, task: HumanTask, name: str, contact: str, content: str, now: datetime) -> None:
    """The step's own values (what its form opens with), each objection after the ones not yet reviewed."""
    own = dict(task.data or {})
    who = f"{name or '匿名居民'}{f'({contact})' if contact else ''}(网上提交)"
    day = f"{now.astimezone(CHINA_TZ):%Y-%m-%d}"
    entry = f"{day} {who}:{content}"
    own[CONTENT] = f"{own[CONTENT]}\n{entry}" if own.get(CONTENT) else entry
    own[BY] = f"{own[BY]};{who}" if own.get(BY) else who
    own[DATE] = day
    session.execute(update(HumanTask).where(HumanTask.id == task.id).values(data=own))
