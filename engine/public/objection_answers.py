"""What a resident reads about their online 异议 (see `objections`), with its reference and follow-up code.

An objection waits (待审查) until the 两委 answer it: in the 登记异议 step it was filled into (审查结论 and
审查意见), or — when the 公示期 ended first — in the step after the period that answers each objection on
a line of its own (`objection_answers`), with the step's 审查结论. Both are read back from the audit trail,
whose order is the order things happened: an objection is answered by the first completion, after it
arrived, of either step, and the late step's lines follow the objections still open then, in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.bpmn import deployments
from engine.bpmn.diagram import Diagram, HumanStep
from engine.errors import NotFound
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, Publication

from . import followup
from .objections import RECEIVED, UNREVIEWED, VERDICT, objection_step, reference

ANSWERS = "objection_answers"
_NO_OBJECTION_HASH = followup.stored_hash("no such objection", "")


@dataclass(frozen=True)
class ObjectionAnswer:
    reference: str
    title: str  # of the 决议公开 objected to
    received_at: datetime
    content: str
    conclusion: str = ""  # 成立 / 不成立 once answered
    answer: str = ""
    answered_at: datetime | None = None

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


def late_step(d: Diagram) -> HumanStep | None:
    """The step that answers, after the period, the objections it left unreviewed (its form lists them)."""
    return next((s for s in d.steps.values() if any(f.id == UNREVIEWED for f in s.form)), None)


def answer_for(db: Database, typed_reference: str, code: str) -> ObjectionAnswer:
    """The same, from the reference as a resident types it (YZ-20261123-000001-异议2)."""
    case_number, _, number = typed_reference.strip().upper().replace(" ", "").rpartition("-异议")
    if not case_number or not number.isdigit():
        raise NotFound("异议编号或查询码不正确,请核对回执上的异议编号和查询码")
    return objection_answer(db, case_number, int(number), code)


def objection_answer(db: Database, case_number: str, number: int, code: str) -> ObjectionAnswer:
    """The objection and its answer, for whoever holds its code; any mismatch is the same 404."""
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == case_number, Case.sandbox.is_(False)))
        events = [] if case is None else list(session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case.id,
                                     AuditEvent.kind.in_((RECEIVED, "task_completed"))).order_by(AuditEvent.seq)))
        mine = next((e for e in events if e.kind == RECEIVED and e.data.get("objection") == number), None)
        expected = str((mine.data if mine else {}).get("code_hash") or _NO_OBJECTION_HASH)
        if mine is None or not followup.matches(reference(case_number, number), code, expected):
            raise NotFound("异议编号或查询码不正确,请核对回执上的异议编号和查询码")
        d = deployments.diagram_of(session, case.version_id)
        publication = session.get(Publication, mine.data.get("publication"))
        found = _answers(events, d).get(number)
        shown = ObjectionAnswer(reference(case_number, number), publication.title if publication else "",
                                mine.at, str(mine.data.get("text") or ""))
        if found is None:
            return shown
        conclusion, answer, at = found
        return ObjectionAnswer(shown.reference, shown.title, shown.received_at, shown.content, conclusion, answer, at)


def _answers(events: list[AuditEvent], d: Diagram) -> dict[int, tuple[str, str, datetime]]:
    """Objection number → (审查结论, the answer to it, when), for each one answered so far."""
    in_period, late = objection_step(d), late_step(d)
    found: dict[int, tuple[str, str, datetime]] = {}
    waiting: list[int] = []
    for e in events:
        if e.kind == RECEIVED:
            waiting.append(int(e.data.get("objection") or 0))
            continue
        values: dict[str, Any] = e.data.get("values") or {}
        if in_period is not None and e.step_id == in_period.id:
            for number in waiting:
                found[number] = (str(values.get(VERDICT) or ""), str(values.get("objection_review") or ""), e.at)
            waiting = []
        elif late is not None and e.step_id == late.id:
            lines = list(values.get(ANSWERS) or [])
            for i, number in enumerate(waiting):
                found[number] = (str(values.get(VERDICT) or ""), str(lines[i]) if i < len(lines) else "", e.at)
            waiting = []
    return found
