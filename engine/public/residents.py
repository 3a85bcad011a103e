"""What a resident (居民) does without an account: raise a matter, follow it, supplement it, rate it.

A resident is not a user: they hold a case number and a follow-up code (查询码)
shown once at submission; only its SHA-256 is stored. Every step goes through
the same engine calls as staff, with the resident actor, so the diagram decides
what a resident may do (the 居民 lane / candidateGroups). Results carry only what
a resident may see: never staff names, comments or internal fields.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn import deployments
from engine.bpmn.diagram import Diagram, HumanStep
from engine.bpmn.forms import Choice, FormField
from engine.clock import CHINA_TZ
from engine.errors import Conflict, InvalidInput, NotFound
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, CaseState, HumanTask, HumanTaskRole
from engine.work import cases

from . import attachments
from .attachments import AttachmentFile, AttachmentInfo, Upload

RESIDENT = Actor(None, "resident", "居民", frozenset({"居民"}))
ROLE = "居民"
PROCESS = "minqing_liushuixian"
# channel 1 of 民情受理: set by the system, never chosen by the resident
ONLINE = {"channel": "构筑平台及时受理", "channel_way": "电子信箱/网站"}
SYSTEM_FIELDS = frozenset({*ONLINE, "received_at"})
# a step's `stage` property (seed 002) → the four words a resident reads
STAGES = {"民情受理": "受理", "限期办理": "办理", "公示反馈": "反馈", "跟踪监督": "评价"}
STAGE_ORDER = ("受理", "办理", "反馈", "评价")
WRONG_CODE = "受理编号或查询码不正确,请核对后重试"
_NO_CASE_HASH = hashlib.sha256(b"no such case").hexdigest()


@dataclass(frozen=True)
class SubmitForm:
    """The fields of the procedure's start form that a resident fills in (labels from the diagram)."""

    procedure: str
    fields: tuple[FormField, ...]


@dataclass(frozen=True)
class Receipt:
    """Shown once: the case number and the follow-up code (only its hash is kept)."""

    number: str
    code: str


@dataclass(frozen=True)
class Answer:
    text: str
    method: str
    answered_at: str


@dataclass(frozen=True)
class Rating:
    rating: str
    comment: str
    at: str


@dataclass(frozen=True)
class FollowView:
    """A matter as its resident sees it."""

    number: str
    title: str
    topic: str
    received_at: str
    completed: bool
    stage: str
    kind: str
    promised_date: str
    answers: tuple[Answer, ...]
    ratings: tuple[Rating, ...]
    can_rate: bool
    rating_choices: tuple[Choice, ...]
    can_supplement: bool
    missing_documents: str
    attachments: tuple[AttachmentInfo, ...]

    @property
    def stages(self) -> tuple[tuple[str, str], ...]:
        """Each stage with 'done', 'current' or 'todo', for the progress line."""
        if self.completed:
            return tuple((s, "done") for s in STAGE_ORDER)
        at = STAGE_ORDER.index(self.stage)
        return tuple((s, "done" if i < at else "current" if i == at else "todo") for i, s in enumerate(STAGE_ORDER))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def submit_form(db: Database) -> SubmitForm:
    with db.read() as session:
        d = _latest(session)
        return SubmitForm(d.name, tuple(f for f in d.start_form if f.id not in SYSTEM_FIELDS))


def submit(db: Database, values: dict[str, Any], uploads: list[Upload]) -> Receipt:
    """民情受理 online: start the same case a clerk would, with the code and photos in the same transaction."""
    files = attachments.check(uploads)
    values = {k: v for k, v in values.items() if k not in SYSTEM_FIELDS} | ONLINE
    code = secrets.token_urlsafe(24)

    def also(session: Session, case: Case) -> None:
        session.connection().execute(update(Case.__table__).where(Case.id == case.id)
                                     .values(followup_code_hash=code_hash(code)))
        attachments.add(session, case.id, files, RESIDENT.username, "随事项提交")

    result = cases.start_case(db, RESIDENT, PROCESS, values, also)
    return Receipt(result.case_number, code)


def follow(db: Database, number: str, code: str) -> FollowView:
    """A matter as its resident sees it, after checking the code: where it stands, the answers and
    ratings so far, and whether the resident may rate it or supplement it now."""
    with db.read() as session:
        case = _case_with_code(session, number, code)
        d = deployments.diagram_of(session, case.version_id)
        data = session.get(CaseState, case.id).data
        stage = _stage([d.steps[s] for s in _open_step_ids(session, case) if s in d.steps])
        mine = [step for _, step in _resident_steps(session, case, d)]
        rate_step = next((s for s in mine if _has_field(s, "rating")), None)
        supplement_step = next((s for s in mine if _has_field(s, "supplied")), None)
        answers, ratings = _answers_and_ratings(session, case)
        kind = case.kind or ""
        return FollowView(
            number=case.number, title=case.title, topic=case.topic or "",
            received_at=str(data.get("received_at") or _day(case.started_at)),
            completed=case.status == "completed", stage=stage,
            kind=kind, promised_date=_text(data, "promised_date") if kind == "承诺件" else "",
            answers=answers, ratings=ratings, can_rate=rate_step is not None,
            rating_choices=_choices(rate_step, "rating"),
            can_supplement=supplement_step is not None,
            missing_documents=_text(data, "missing_documents") if supplement_step else "",
            attachments=attachments.list_for_case(session, case.id),
        )


def _stage(open_steps: list[HumanStep]) -> str:
    """The earliest of the stages the open steps belong to; 受理 when none has one."""
    stages = [STAGES[s.stage] for s in open_steps if s.stage in STAGES]
    return min(stages, key=STAGE_ORDER.index) if stages else STAGE_ORDER[0]


def _choices(step: HumanStep | None, field_id: str) -> tuple[Choice, ...]:
    """The options of the step's field `field_id`; none without the step or the field."""
    if step is None:
        return ()
    return next((f.choices for f in step.form if f.id == field_id), ())


def _text(data: dict[str, Any], name: str) -> str:
    """A case value shown as text; nothing when it is missing or empty."""
    return str(data.get(name) or "")


def supplement(db: Database, number: str, code: str, note: str, uploads: list[Upload]) -> None:
    """补办件: the resident hands in the missing documents, which completes the waiting step."""
    note = free_text.clean(note, "note", "补充说明", free_text.TEXT)
    if not note:
        raise InvalidInput("请说明补充了哪些材料", {"note": "请填写补充说明"})
    files = attachments.check(uploads)
    task_id = _task_for(db, number, code, "supplied")
    if task_id is None:
        raise Conflict("该事项现在不需要补充材料")
    _complete(db, task_id, {"supplied": True, "supplied_documents": note},
              lambda session, case: attachments.add(session, case.id, files, RESIDENT.username, note))


def rate(db: Database, number: str, code: str, rating: str, comment: str) -> None:
    """一事一评: once per answer; the diagram offers the step again only after a reopened handling."""
    task_id = _task_for(db, number, code, "rating")
    if task_id is None:
        raise Conflict("该事项现在不能评价:答复后才能评价,每次答复只能评价一次")
    _complete(db, task_id, {"rating": rating, "rating_comment": (comment or "").strip()}, None)


def read_file(db: Database, number: str, code: str, attachment_id: int) -> AttachmentFile:
    with db.read() as session:
        case = _case_with_code(session, number, code)
        return attachments.read_in(session, case.id, attachment_id)


def _complete(db: Database, task_id: int, values: dict[str, Any], also: cases.InTransaction | None) -> None:
    try:
        cases.complete_task(db, RESIDENT, task_id, values, also)
    except Conflict:
        # staff messages name who holds the step; a resident gets no names
        raise Conflict("该事项刚刚有了新进展,请刷新页面后查看") from None


def _latest(session: Session) -> Diagram:
    version_id = deployments.latest_version_id(session, PROCESS)
    if version_id is None:
        raise NotFound("网上反映暂未开通")
    return deployments.diagram_of(session, version_id)


def _case_with_code(session: Session, number: str, code: str) -> Case:
    """The case, if the code is its own; one message for a wrong code and an unknown number."""
    number, code = (number or "").strip()[:40], (code or "").strip()[:200]
    case = session.scalar(select(Case).where(Case.number == number)) if number else None
    expected = case.followup_code_hash if case is not None and case.followup_code_hash else _NO_CASE_HASH
    matches = hmac.compare_digest(code_hash(code), expected)
    if case is None or not case.followup_code_hash or not matches or not code:
        raise NotFound(WRONG_CODE)
    return case


def _open_step_ids(session: Session, case: Case) -> list[str]:
    return list(session.scalars(select(HumanTask.step_id).where(
        HumanTask.case_id == case.id, HumanTask.status == "READY").order_by(HumanTask.id)))


def _resident_steps(session: Session, case: Case, d: Diagram) -> list[tuple[int, HumanStep]]:
    """Ready steps a resident may do (the 居民 lane or candidateGroups), with their task ids."""
    rows = session.execute(select(HumanTask.id, HumanTask.step_id)
                           .join(HumanTaskRole, HumanTaskRole.human_task_id == HumanTask.id)
                           .where(HumanTask.case_id == case.id, HumanTask.status == "READY",
                                  HumanTaskRole.role == ROLE).order_by(HumanTask.id)).all()
    return [(task_id, d.steps[step_id]) for task_id, step_id in rows if step_id in d.steps]


def _has_field(step: HumanStep, field_id: str) -> bool:
    return any(f.id == field_id for f in step.form)


def _task_for(db: Database, number: str, code: str, field_id: str) -> int | None:
    """The ready step of the 居民 lane whose form has `field_id`, after checking the code."""
    with db.read() as session:
        case = _case_with_code(session, number, code)
        d = deployments.diagram_of(session, case.version_id)
        return next((task_id for task_id, step in _resident_steps(session, case, d)
                     if _has_field(step, field_id)), None)


def _answers_and_ratings(session: Session, case: Case) -> tuple[tuple[Answer, ...], tuple[Rating, ...]]:
    """Every answer given and every rating made, in order, from the audit trail (not staff names)."""
    answers, ratings = [], []
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.kind == "task_completed").order_by(AuditEvent.seq))
    for event in events:
        values = (event.data or {}).get("values") or {}
        if values.get("answer"):
            answers.append(Answer(str(values["answer"]), str(values.get("feedback_method") or ""),
                                  str(values.get("answered_at") or _day(event.at))))
        if values.get("rating"):
            ratings.append(Rating(str(values["rating"]), str(values.get("rating_comment") or ""),
                                  _day(event.at)))
    return tuple(answers), tuple(ratings)


def _day(moment: datetime) -> str:
    return f"{moment.astimezone(CHINA_TZ):%Y-%m-%d}"
