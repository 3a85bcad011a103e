"""延期申请 (asking for more time) and 催办 (urging), on one open human step.

A handler asks before the due time, with a reason and the date wanted; a leader
approves (the step gets the new due date, and a timer drawn on the step for the
old deadline moves with it) or refuses. The request row and the audit trail keep
both dates. Who decides is the step's or process's `extensionApprover` (default
社区负责人); 管理员 may always decide. Either must hold that role in the case's unit
or one above it (`oversight.in_charge`): a 社区负责人 of another 社区 neither sees nor decides
the request; urging (催办) follows the same rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.bpmn import deployments, spiff
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.people import notifications, units
from engine.people.oversight import in_charge
from engine.store import audit_chain, locks
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import Case, ExtensionRequest, HumanTask, HumanTaskRole, User

from . import deadlines, runtime
from .casepages import display_names
from .cases import check_can_work, holds_step, task_grants

DEFAULT_APPROVER = "社区负责人"
URGERS = ("社区负责人", "民情监督员", "管理员")
URGE_NOTE = 500  # it goes into the notification's one line
# "lapsed" is never stored: a request still pending when its step ended (done, or cancelled by a timer) is shown
# so, and leaves the approvers' lists; deciding it is refused (the step is no longer waiting)
STATUS_NAMES = {"pending": "待审批", "approved": "已批准", "refused": "未批准", "lapsed": "已失效(步骤已结束)"}


@dataclass(frozen=True)
class ExtensionView:
    id: int
    case_number: str
    case_title: str
    task_id: int
    step_name: str
    requested_by: str
    requested_at: datetime
    reason: str
    old_due: datetime | None
    requested_due: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    requested_by_name: str = ""  # the people above by name, as pages show them
    decided_by_name: str = ""

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)


def parse_due(text: str | None, field: str = "requested_due") -> datetime:
    """A date (end of that day, China time) or a local date and time."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            return deadlines.end_of_day(datetime.strptime(text, "%Y-%m-%d").date())
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("延期日期格式不正确,应为 YYYY-MM-DD", {field: "请填写 YYYY-MM-DD 格式的日期"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.CHINA_TZ)


def _lock(session: Session, task_id: int) -> tuple[HumanTask, Case]:
    """The task and its case, read after taking the case's lock (as every write to a case does)."""
    if not locks.lock_case_of_task(session, task_id):
        raise NotFound(f"任务 {task_id} 不存在")
    row = session.get(HumanTask, task_id, populate_existing=True)
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在")
    return row, session.get(Case, row.case_id, populate_existing=True)


def _approver_role(session: Session, case: Case, row: HumanTask) -> str:
    d = deployments.diagram_of(session, case.version_id)
    step = d.steps.get(row.step_id)
    return ((step.properties if step else {}).get("extensionApprover")
            or d.properties.get("extensionApprover") or DEFAULT_APPROVER)


def request_extension(db: Database, actor: Actor, task_id: int, reason: str, requested_due: str) -> int:
    """A handler asks for more time before the step is due; returns the request's id."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "请填写延期理由"
    elif found := free_text.problem(reason, free_text.TEXT):
        errors["reason"] = found
    wanted = None
    try:
        wanted = parse_due(requested_due) if requested_due else None
    except InvalidInput as exc:
        errors.update(exc.fields)
    if wanted is None and "requested_due" not in errors:
        errors["requested_due"] = "请填写希望延至的日期"
    if errors:
        raise InvalidInput("延期申请填写有误", errors)
    now = clock.now()
    with db.write() as session:
        row, case = _lock(session, task_id)
        check_can_work(session, actor, row)
        if row.assignee_id not in (None, actor.id):
            raise Forbidden("该任务已由他人认领,只有办理人可以申请延期")
        if row.due_at is None:
            raise Conflict("该任务没有办理期限,无需申请延期")
        if row.due_at <= now:
            raise Conflict("已超过办理期限,不能再申请延期(延期须在到期前申请)")
        if wanted <= row.due_at:
            raise InvalidInput("延期日期须晚于现在的办理期限", {"requested_due": "须晚于现在的办理期限"})
        if session.scalar(select(ExtensionRequest.id).where(
                ExtensionRequest.human_task_id == row.id, ExtensionRequest.status == "pending")):
            raise Conflict("该任务已有一份待审批的延期申请")
        request = ExtensionRequest(human_task_id=row.id, case_id=case.id, requested_by=actor.username,
                                   requested_at=now, reason=reason, old_due=row.due_at, requested_due=wanted,
                                   status="pending")
        session.add(request)
        session.flush()
        audit_chain.append(session, case.id, actor.username, "extension_requested", step_id=row.step_id,
                     step_name=row.name, lane=row.lane, data={
                         "reason": reason, "old_due": row.due_at.isoformat(), "requested_due": wanted.isoformat()})
        role = _approver_role(session, case, row)
        text = (f"{actor.display_name} 申请将“{row.name}”({case.number})的期限延至 "
                f"{deadlines.when_text(wanted)}:{reason}")
        approvers = notifications.role_members(session, [role], [units.route(session, case.unit_id, role)])
        notifications.notify(session, approvers, "extension", text,
                             case_id=case.id, task_id=row.id)
        return request.id


def decide_extension(db: Database, actor: Actor, request_id: int, approve: bool, note: str = "",
                     new_due: str | None = None) -> None:
    """The leader approves (new due date, default the one asked for) or refuses with a reason."""
    note = free_text.clean(note, "note", "审批意见", free_text.TEXT)
    if not approve and not note:
        raise InvalidInput("不批准时请说明理由", {"note": "请填写不批准的理由"})
    granted = parse_due(new_due, "new_due") if (approve and new_due) else None
    now = clock.now()
    remembered = None
    with db.write() as session:
        task_id = session.scalar(select(ExtensionRequest.human_task_id).where(ExtensionRequest.id == request_id))
        if task_id is None:
            raise NotFound(f"延期申请 {request_id} 不存在")
        row, case = _lock(session, task_id)
        request = session.get(ExtensionRequest, request_id, populate_existing=True)
        role = _approver_role(session, case, row)
        if not in_charge(session, actor, case.unit_id, (role, "管理员")):
            raise Forbidden(f"只有本事项所在单位(或其上级单位)的“{role}”可以审批延期申请")
        if request.status != "pending":
            raise Conflict(f"该延期申请{STATUS_NAMES.get(request.status, '已处理')},不能再次审批")
        if row.status != "READY":
            raise Conflict("该任务已不在待办状态,延期申请无需审批")
        request.status = "approved" if approve else "refused"
        request.decided_by, request.decided_at, request.decision_note = actor.username, now, note or None
        data = {"old_due": request.old_due.isoformat() if request.old_due else None,
                "requested_due": request.requested_due.isoformat(), "note": note}
        if approve:
            granted = granted or request.requested_due
            if granted <= now:
                raise InvalidInput("新的期限须晚于现在", {"new_due": "须晚于现在"})
            remembered = _move_deadline(session, case, row, granted, now)
            data["new_due"] = granted.isoformat()
        audit_chain.append(session, case.id, actor.username, "extension_approved" if approve else "extension_refused",
                     step_id=row.step_id, step_name=row.name, lane=row.lane, data=data)
        requester = session.scalar(select(User.id).where(User.username == request.requested_by))
        verdict = f"已批准,新期限 {deadlines.when_text(granted)}" if approve else f"未批准:{note}"
        notifications.notify(session, [requester] if requester else [], "extension",
                             f"“{row.name}”({case.number})的延期申请{verdict}", case_id=case.id, task_id=row.id)
    if remembered:
        runtime.remember(*remembered)


def _move_deadline(session: Session, case: Case, row: HumanTask, granted: datetime, now: datetime):
    """The step's due date, its reminder, and a timer drawn on it for the old deadline all move."""
    old = row.due_at
    d = deployments.diagram_of(session, case.version_id)
    step = d.steps.get(row.step_id)
    deadlines.apply(row, deadlines.Deadline(granted, deadlines.remind_moment(
        granted, step.properties if step else {}, d.properties, now)))
    for role_row in session.scalars(select(HumanTaskRole).where(HumanTaskRole.human_task_id == row.id)):
        role_row.due_at = granted
    workflow = runtime.load_workflow(session, case, d)
    task = spiff.task_by_id(workflow, row.task_uuid)
    moved = False
    for timer in spiff.boundary_timers(task) if task is not None else []:
        moment = spiff.timer_moment(timer)
        if moment is not None and old is not None and abs(moment - old) <= timedelta(seconds=1):
            spiff.move_timer(timer, granted)
            moved = True
    if not moved:
        return None
    runtime.save(session, case, d, workflow, "system")
    session.flush()
    return case.id, case.revision, workflow


def urge(db: Database, actor: Actor, task_id: int, note: str = "") -> int:
    """催办 by a leader or supervisor of the case's unit or one above it: the step's people are told, and
    it is recorded."""
    if not actor.has_role(*URGERS):
        raise Forbidden("只有社区负责人或民情监督员可以催办")
    note = free_text.clean(note, "note", "催办说明", URGE_NOTE)
    with db.write() as session:
        row, case = _lock(session, task_id)
        if not in_charge(session, actor, case.unit_id, URGERS):
            raise Forbidden("只有本事项所在单位(或其上级单位)的社区负责人或民情监督员可以催办")
        if row.status != "READY":
            raise Conflict("该任务已不在待办状态,无需催办")
        if row.assignee_id == actor.id:
            raise Conflict("这是您自己的任务,无需催办")
        people = notifications.task_people(session, row)
        due = f",期限 {deadlines.when_text(row.due_at)}" if row.due_at else ""
        text = f"{actor.display_name} 催办“{row.name}”({case.number}{due}){':' + note if note else ''}"
        sent = notifications.notify(session, people, "urge", text, case_id=case.id, task_id=row.id)
        audit_chain.append(session, case.id, actor.username, "urged", step_id=row.step_id, step_name=row.name,
                     lane=row.lane, data={"note": note, "notified": sent})
        return sent


def _views(session: Session, rows: list) -> tuple[ExtensionView, ...]:
    names = display_names(session, {p for r, _, _ in rows for p in (r.requested_by, r.decided_by) if p})
    return tuple(ExtensionView(r.id, case.number, case.title, row.id, row.name, r.requested_by, r.requested_at,
                               r.reason, r.old_due, r.requested_due,
                               "lapsed" if r.status == "pending" and row.status != "READY" else r.status,
                               r.decided_by, r.decided_at,
                               r.decision_note, names.get(r.requested_by, r.requested_by),
                               names.get(r.decided_by, r.decided_by) if r.decided_by else "")
                 for r, case, row in rows)


def pending_for(db: Database, actor: Actor) -> tuple[ExtensionView, ...]:
    """Requests this actor may decide: their step still waits, and their role is the step's approver, held in
    the case's unit or above."""
    with db.read() as session:
        query = (select(ExtensionRequest, Case, HumanTask).join(Case, Case.id == ExtensionRequest.case_id)
                 .join(HumanTask, HumanTask.id == ExtensionRequest.human_task_id)
                 .where(ExtensionRequest.status == "pending", HumanTask.status == "READY")
                 .order_by(ExtensionRequest.requested_at))
        in_units = units.in_scope(Case.unit_id, actor.scope)
        rows = session.execute(query if in_units is None else query.where(in_units)).all()
        return _views(session, [(r, c, t) for r, c, t in rows
                                if in_charge(session, actor, c.unit_id, (_approver_role(session, c, t), "管理员"))])


def of_task(db: Database, actor: Actor, task_id: int) -> tuple[ExtensionView, ...]:
    """A step's requests, for the people of the step (its role in the unit it was routed to), its approver,
    and auditors and admins of the case's unit or one above it."""
    with db.read() as session:
        row = session.get(HumanTask, task_id)
        if row is None:
            raise NotFound(f"任务 {task_id} 不存在")
        case = session.get(Case, row.case_id)
        approver = _approver_role(session, case, row)
        if not (row.assignee_id == actor.id or holds_step(actor, task_grants(session, row))
                or in_charge(session, actor, case.unit_id, (approver, "管理员", "审计"))):
            raise Forbidden("您无权查看该任务的延期申请")
        rows = session.execute(
            select(ExtensionRequest, Case, HumanTask).join(Case, Case.id == ExtensionRequest.case_id)
            .join(HumanTask, HumanTask.id == ExtensionRequest.human_task_id)
            .where(ExtensionRequest.human_task_id == task_id).order_by(ExtensionRequest.id)).all()
        return _views(session, list(rows))
