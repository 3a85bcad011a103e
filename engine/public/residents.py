"""What a resident (居民) does without an account: raise a matter, follow it, supplement it, rate it.

A resident is not a user: they hold a case number and a follow-up code (查询码, see
`followup`) shown once at submission; only its hash is stored. Every step goes through
the same engine calls as staff, with the resident actor, so the diagram decides
what a resident may do (the 居民 lane / candidateGroups). Results carry only what
a resident may see: never staff names, comments or internal fields.
"""
from __future__ import annotations

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

from . import attachments, communities, followup
from .attachments import AttachmentFile, AttachmentInfo, Upload
from .procedures_page import readable_limit

RESIDENT = Actor(None, "resident", "居民", frozenset({"居民"}))
ROLE = "居民"
PROCESS = "minqing_liushuixian"
# channel 1 of 民情受理: set by the system, never chosen by the resident
ONLINE = {"channel": "构筑平台及时受理", "channel_way": "电子信箱/网站"}
SYSTEM_FIELDS = frozenset({*ONLINE, "received_at"})
PLACE_FIELDS = frozenset({communities.COMMUNITY_FIELD, communities.GRID_FIELD})  # where, not what: not case data
# a step's `stage` property (seed 002) → the four words a resident reads
STAGES = {"民情受理": "受理", "限期办理": "办理", "公示反馈": "反馈", "跟踪监督": "评价"}
STAGE_ORDER = ("受理", "办理", "反馈", "评价")
# what a resident reads as 状态 while staff work a stage; in 评价 only supervisors can be at work
STATE_OF_STAGE = {"受理": "受理中", "办理": "办理中", "反馈": "答复中", "评价": "监督复核中"}
SUPPLEMENT_FIELD = "supplied"  # the 补办件 step a resident completes by handing in the documents
WRONG_CODE = "受理编号或查询码不正确,请核对后重试"
_NO_CASE_HASH = followup.legacy_hash("no such case")


@dataclass(frozen=True)
class SubmitForm:
    """The fields of the procedure's start form that a resident fills in (labels from the diagram), after
    where they live: their 社区 and 网格 (`communities`), which decide the unit the matter goes to."""

    procedure: str
    fields: tuple[FormField, ...]
    places: tuple[FormField, ...] = ()

    @property
    def all_fields(self) -> tuple[FormField, ...]:
        return self.places + self.fields


@dataclass(frozen=True)
class NextStep:
    """What happens next and by when, as the office promises it (e.g. 网上受理核实, 1 个工作日内)."""

    name: str
    limit: str
    due: str


@dataclass(frozen=True)
class Receipt:
    """Shown once: the case number and the follow-up code (only its hash is kept), with what was
    submitted and what happens next, so the resident can print it or save it as a picture."""

    number: str
    code: str
    received_at: str
    submitted: tuple[tuple[str, str], ...]
    withheld: tuple[str, ...]
    files: tuple[str, ...]
    next_steps: tuple[NextStep, ...]

    @property
    def shown_code(self) -> str:
        return followup.grouped(self.code)


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
    state: str
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


def submit_form(db: Database) -> SubmitForm:
    with db.read() as session:
        d = _latest(session)
        return SubmitForm(d.name, tuple(f for f in d.start_form if f.id not in SYSTEM_FIELDS),
                          communities.choosing(session).fields)


def submit(db: Database, values: dict[str, Any], uploads: list[Upload]) -> Receipt:
    """民情受理 online: start the same case a clerk would, with the code and photos in the same transaction.
    The case belongs to the 网格 or 社区 the resident chose; a 网格 chosen from the list also fills the
    form's own 所属网格 when the resident left it empty."""
    files = attachments.check(uploads)
    with db.read() as session:
        unit_id = communities.chosen_unit(session, values)
        grid = communities.grid_name(session, unit_id)
    values = {k: v for k, v in values.items() if k not in SYSTEM_FIELDS | PLACE_FIELDS} | ONLINE
    if grid and not str(values.get("grid") or "").strip():
        values["grid"] = grid
    code = followup.new_code()
    made: list[Receipt] = []

    def also(session: Session, case: Case) -> None:
        session.connection().execute(update(Case.__table__).where(Case.id == case.id)
                                     .values(followup_code_hash=followup.stored_hash(case.number, code)))
        attachments.add(session, case.id, files, RESIDENT.username, "随事项提交")
        made.append(receipt_of(session, case, code, tuple(f.filename for f in files)))

    cases.start_case(db, RESIDENT, PROCESS, values, also, unit_id=unit_id)
    return made[0]


def receipt_of(session: Session, case: Case, code: str, files: tuple[str, ...] = ()) -> Receipt:
    """The receipt of a case as it stands: what was registered and the steps now waiting with their time
    limits. A receipt gets lost or left on a counter, so it shows only what the follow page shows (the
    topic and the fields the diagram marks public, e.g. the title); of the rest it names the fields given."""
    d = deployments.diagram_of(session, case.version_id)
    data = session.get(CaseState, case.id).data
    given = [f for f in d.start_form if f.id not in SYSTEM_FIELDS and data.get(f.id) not in (None, "")]
    shown = {f.id for f in given if f.public} | {d.properties.get("topicField", "topic")}
    waiting = session.execute(select(HumanTask.step_id, HumanTask.due_at).where(
        HumanTask.case_id == case.id, HumanTask.status == "READY").order_by(HumanTask.id)).all()
    next_steps = tuple(NextStep(d.steps[step_id].name, _limit(d.steps[step_id]), _day(due) if due else "")
                       for step_id, due in waiting if step_id in d.steps)
    return Receipt(case.number, code, f"{case.started_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}",
                   tuple((f.label, _shown(f, data[f.id])) for f in given if f.id in shown),
                   tuple(f.label for f in given if f.id not in shown), files, next_steps)


def _shown(field: FormField, value: Any) -> str:
    names = {c.id: c.name for c in field.choices}
    if isinstance(value, bool):
        return "是" if value else "否"
    return names.get(str(value), str(value))


def _limit(step: HumanStep) -> str:
    """The step's time limit in words ("1 个工作日"), "" when the diagram promises none."""
    if step.properties.get("dueWorkingDays"):
        return f"{step.properties['dueWorkingDays']} 个工作日"
    return readable_limit(step.due, {}) if step.due else ""


def follow(db: Database, number: str, code: str) -> FollowView:
    with db.read() as session:
        case = _case_with_code(session, number, code)
        d = deployments.diagram_of(session, case.version_id)
        data = session.get(CaseState, case.id).data
        open_steps = [d.steps[s] for s in _open_step_ids(session, case) if s in d.steps]
        mine = [step for _, step in _resident_steps(session, case, d)]
        rate_step = next((s for s in mine if _has_field(s, "rating")), None)
        supplement_step = next((s for s in mine if _has_field(s, SUPPLEMENT_FIELD)), None)
        answers, ratings = _answers_and_ratings(session, case)
        stage, state = _where(case, open_steps, rate_step is not None, supplement_step is not None)
        kind = case.kind or ""
        return FollowView(
            number=case.number, title=case.title, topic=case.topic or "",
            received_at=str(data.get("received_at") or _day(case.started_at)),
            completed=case.status == "completed", stage=stage, state=state,
            kind=kind, promised_date=_text(data, "promised_date") if kind == "承诺件" else "",
            answers=answers, ratings=ratings, can_rate=rate_step is not None,
            rating_choices=_choices(rate_step, "rating"),
            can_supplement=supplement_step is not None,
            missing_documents=_text(data, "missing_documents") if supplement_step else "",
            attachments=attachments.list_for_case(session, case.id),
        )


def _choices(step: HumanStep | None, field_id: str) -> tuple[Choice, ...]:
    """The options of the step's field `field_id`; none without the step or the field."""
    if step is None:
        return ()
    return next((f.choices for f in step.form if f.id == field_id), ())


def _text(data: dict[str, Any], name: str) -> str:
    """A case value shown as text; nothing when it is missing or empty."""
    return str(data.get(name) or "")


def _where(case: Case, open_steps: list[HumanStep], may_rate: bool, may_supplement: bool) -> tuple[str, str]:
    """The stage and the 状态 a resident reads, from the case's actual open steps or its end.

    The earliest stage with an open step is where the matter is: a 逾期督办 that runs beside the
    handling does not move it on. Once only supervision steps are open (督办复核 after 不满意, or a
    逾期督办 still open after 满意) the resident reads 监督复核中, not 评价中."""
    if case.status == "completed":
        return STAGE_ORDER[-1], "已办结"
    if may_rate:
        return "评价", "待您评价"
    if may_supplement:
        return "办理", "待您补充材料"
    stages = [STAGES[s.stage] for s in open_steps if s.stage in STAGES]
    stage = min(stages, key=STAGE_ORDER.index) if stages else "办理"
    return stage, STATE_OF_STAGE[stage]


def supplement(db: Database, number: str, code: str, note: str, uploads: list[Upload]) -> None:
    """补办件: the resident hands in the missing documents, which completes the waiting step."""
    note = free_text.clean(note, "note", "补充说明", free_text.TEXT)
    if not note:
        raise InvalidInput("请说明补充了哪些材料", {"note": "请填写补充说明"})
    files = attachments.check(uploads)
    task_id = _task_for(db, number, code, SUPPLEMENT_FIELD)
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
    matches = followup.matches(number, code, expected)
    if case is None or not case.followup_code_hash or not matches:
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
