"""Database tables. Rows never leave `engine/`: callers get immutable views."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC on every database; always read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        return value.replace(tzinfo=timezone.utc) if value is not None else None


SORT_LAST = datetime(9999, 12, 31, tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    # where the outbound e-mail hook sends this person's notifications (migration 0006); optional
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # part of every signed-in session's id: raised when the password changes, so other sessions end
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # set by an administrator's initial password or reset: the person must choose their own first
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime]


class Unit(Base):
    """An organisational unit (migration 0011): 区 → 街道 → 社区 → 网格, the level names being data; a unit
    `beside` the tree (职能部门 under its 区 or 街道, 包保单位 under its 网格) owns no cases and sees only what
    is sent to it. `path` is the ids from the root down, "/1/4/9/": a unit's subtree is every unit whose
    path starts with its own. A closed unit keeps its cases and history and takes no new work."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    beside: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    path: Mapped[str] = mapped_column(String(400), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class UnitEvent(Base):
    """Append-only record of changes to units (审计 › 单位变更): created, renamed, moved, closed, reopened."""

    __tablename__ = "unit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)


class UserRole(Base):
    """A user holds roles in units: 社区负责人 of 光明社区, 上级部门 of 龙山街道; a role is a lane name of the
    diagrams (e.g. 社区负责人) or an application role (管理员, 审计 …)."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class DiagramVersion(Base):
    """One deployed version of a procedure, stored once and shared by all its cases."""

    __tablename__ = "diagram_versions"
    __table_args__ = (UniqueConstraint("process_id", "hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(128))
    hash: Mapped[str] = mapped_column(String(64))
    draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    filename: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    deployed_by: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[datetime]


class Case(Base):
    """A running or finished instance of a procedure (案件/事项)."""

    __tablename__ = "cases"
    # auditors' statistics (migration 0004): counts stream from it in group order
    __table_args__ = (Index("ix_cases_statistics", "status", "kind", "channel", "topic", "rating", "sandbox",
                            "started_at", "completed_at"),
                      # 考核 rankings (migrations 0012, 0015): a period's cases by unit with their kept figures,
                      # from the index alone
                      Index("ix_cases_ranking", "started_at", "unit_id", "rating", "sandbox", "id", "due_steps",
                            "on_time_steps", "late_steps", "returns", "escalations"),
                      # 统计's handling time (migration 0017): per kind, the completed cases in order of it, so
                      # the p90 walk reads the top tenth of a kind from the index alone (a period's too)
                      Index("ix_cases_handling", "kind", "handling_seconds", "unit_id", "sandbox", "started_at",
                            postgresql_where=text("handling_seconds IS NOT NULL"),
                            sqlite_where=text("handling_seconds IS NOT NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("diagram_versions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(128), index=True)
    # the 社区 or 网格 it belongs to (migration 0011), set at intake, changed only by 转办
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str | None] = mapped_column(String(40), index=True)
    channel: Mapped[str | None] = mapped_column(String(40), index=True)
    rating: Mapped[str | None] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(100))
    # not indexed (migration 0004): nearly every case is not sandbox, so an index only misleads the planner
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    followup_code_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    # its 考核 figures, recomputed in every transaction that audits it (engine/store/casefigures.py, 0015)
    due_steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_time_steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late_steps: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    returns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # start → 办结 in seconds once completed, else NULL (statistics' handling time; casefigures, migration 0017)
    handling_seconds: Mapped[float | None] = mapped_column(Float)
    __mapper_args__ = {"version_id_col": revision}


class CaseState(Base):
    """The serialized workflow of a case (compressed JSON, without the spec)."""

    __tablename__ = "case_states"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[int] = mapped_column(Integer)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    data: Mapped[dict] = mapped_column(JSON)


class HumanTask(Base):
    """The index behind every task list: one row per human step that was or is ready."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_inbox", "status", "assignee_id", "due_at"),
        Index("ix_human_tasks_archive", "completed_by_id", "completed_at"),
        # auditors' statistics and overdue list (migration 0004)
        Index("ix_human_tasks_statistics", "status", "completed_by_id", "lane", "step_id", "due_at", "completed_at",
              "case_id"),
        Index("ix_human_tasks_overdue", "status", "due_at", "completed_at", "case_id"),
        # 考核 rankings (migration 0012): a case's steps with the columns the figures read
        Index("ix_human_tasks_ranking", "case_id", "status", "due_at", "completed_at", "lane", "step_id"),
        # 本组待办 (migration 0014): a leader's units' open steps by deadline, without reading the district's
        Index("ix_human_tasks_team", "unit_id", "status", "due_at"),
        # 考核 督办 (migration 0015): the cases with a step in a lane overdue work is escalated to
        Index("ix_human_tasks_lane", "lane", "case_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # its case's unit (kept with it: 转办 moves both), so a unit's open steps are read from an index
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    task_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    step_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    # when the deadline worker must next look at this task (reminder or overdue); indexed
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    # the step's own values where they differ from the case's (the item of one multi-instance vote)
    data: Mapped[dict | None] = mapped_column(JSON)


class HumanTaskRole(Base):
    """Which roles, in which unit, may see and claim a human task (its lane, or candidateGroups).

    `due_at` is the queue's sort key: the task's due time, or SORT_LAST when it has none, so
    the (role, unit_id, open, due_at, human_task_id) index yields a (role, unit) pair's queue already in
    the page's order (migration 0013).
    """

    __tablename__ = "human_task_roles"
    __table_args__ = (Index("ix_human_task_roles_open", "role", "unit_id", "open", "due_at", "human_task_id"),)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the unit whose holders of `role` may do it (routing: the case's unit or the nearest above holding it)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    open: Mapped[bool] = mapped_column(Boolean)
    due_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Append-only trace: every start, completion, claim and system step."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),
                      UniqueConstraint("global_seq", name="uq_audit_events_global_seq"),
                      # 考核 rankings (migration 0012): a case's 退单 (return_to_leader ticked) and 督办 escalations
                      Index("ix_audit_events_ranking", "case_id", "kind",
                            postgresql_where=text("kind = 'escalated' OR (kind = 'task_completed' AND "
                                                  "(data -> 'values' ->> 'return_to_leader') = 'true')"),
                            sqlite_where=text("kind = 'escalated' OR (kind = 'task_completed' AND "
                                              "json_extract(data, '$.values.return_to_leader') = 1)")))
    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (case_id, seq) index serves every look-up by case (migration 0005)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    step_id: Mapped[str] = mapped_column(String(128), default="")
    step_name: Mapped[str] = mapped_column(String(200), default="")
    lane: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    global_seq: Mapped[int | None] = mapped_column(Integer)
    global_prev_hash: Mapped[str | None] = mapped_column(String(64))
    global_hash: Mapped[str | None] = mapped_column(String(64))


class ChainHead(Base):
    """The head of a hash chain (the global audit chain); locked while an event is appended."""

    __tablename__ = "chain_heads"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AccountEvent(Base):
    """Append-only record of every change to staff accounts (who gave whom which role, 停用, password
    resets), for the auditors; never a password or its hash."""

    __tablename__ = "account_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)


class CalendarNotice(Base):
    """A year's 放假/调休 notice as an administrator entered it (管理 › 工作日历). Append-only: the
    newest row of a year is in force, the older ones are its history; `changes` lists the open
    deadlines and timers the notice moved."""

    __tablename__ = "calendar_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    days_off: Mapped[dict] = mapped_column(JSON)   # {"YYYY-MM-DD": "说明"}
    workdays: Mapped[dict] = mapped_column(JSON)   # {"YYYY-MM-DD": "说明"}
    changes: Mapped[list] = mapped_column(JSON)


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)


class CaseLink(Base):
    """Cases about the same problem, answered by one 专项反馈 (stored in both directions)."""

    __tablename__ = "case_links"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    linked_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)


class Publication(Base):
    """Something on the public board (集中式公示, 决议公开, 实施结果公开); only public fields."""

    __tablename__ = "publications"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[list] = mapped_column(JSON)
    step_id: Mapped[str] = mapped_column(String(128), default="")
    published_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Notification(Base):
    """An in-app message to one user: reminder, overdue notice, escalation, assignment."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    human_task_id: Mapped[int | None] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class WorkTally(Base):
    """Completed human steps of the non-sandbox cases of one unit, per person, lane and step: the 统计 page's
    work per person and role for a whole subtree without reading every step (engine/store/worktallies.py,
    migration 0016). `completed_by_id` 0: completed by nobody's account; `lane` "" when the step had none."""

    __tablename__ = "work_tallies"
    __table_args__ = (UniqueConstraint("unit_id", "completed_by_id", "lane", "step_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    completed_by_id: Mapped[int] = mapped_column(Integer)
    lane: Mapped[str] = mapped_column(String(64))
    step_id: Mapped[str] = mapped_column(String(128))
    steps: Mapped[int] = mapped_column(Integer)
    due_steps: Mapped[int] = mapped_column(Integer)
    on_time_steps: Mapped[int] = mapped_column(Integer)


class OutboxMessage(Base):
    """An outbound e-mail or webhook call, written in the transaction that caused it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ExtensionRequest(Base):
    """延期申请: asked before the due time, approved (new due date) or refused by a leader."""

    __tablename__ = "extension_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    human_task_id: Mapped[int] = mapped_column(ForeignKey("human_tasks.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    old_due: Mapped[datetime | None]
    requested_due: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A file handed in for a case (e.g. a resident's supplement); its bytes are in `AttachmentContent`."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class WorkerHeartbeat(Base):
    """The last sign of life of one timer worker process (`minyi worker`), read by the readiness check."""

    __tablename__ = "worker_heartbeats"
    worker: Mapped[str] = mapped_column(String(160), primary_key=True)  # host:pid
    interval_seconds: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)


class AttachmentContent(Base):
    """The bytes of an attachment, in the database: every app server reads them, the one transaction that
    starts or completes the step writes them, and a database backup holds them (docs/deployment.md)."""

    __tablename__ = "attachment_contents"
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CaseSequence(Base):
    """The last case number issued under one prefix (受理编号): each procedure, and its 试运行, counts
    on its own, so MQ-…-000006 is followed by MQ-…-000007 whatever other procedures started meanwhile."""

    __tablename__ = "case_sequences"
    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)  # MQ, YZ, 试运行-MQ …
    last_number: Mapped[int] = mapped_column(Integer)
