"""Immutable results of the daily work on cases handed to the web layer (never ORM rows): task-list rows,
a case's page, a step's page, the procedures a user may start, the tab counts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.bpmn.forms import FormField
from engine.bpmn.formtypes import Choice


@dataclass(frozen=True)
class TaskRow:
    """One line of a task list (收件箱/待认领/已办)."""

    id: int
    case_id: int
    case_number: str
    procedure: str
    step_id: str
    step_name: str
    case_title: str
    kind: str | None
    topic: str | None
    received_at: datetime
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    status: str
    assignee: str | None
    completed_at: datetime | None = None
    roles: tuple[str, ...] = ()
    due_soon: bool = False  # 即将到期: its reminder time has come, its deadline not yet
    grants: tuple[tuple[str, int], ...] = ()  # its roles with the unit each was routed to


@dataclass(frozen=True)
class HistoryEntry:
    """One audit event as the case page and the task page show it."""

    seq: int
    at: datetime
    actor: str
    kind: str
    step_id: str
    step_name: str
    lane: str
    data: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)
    actor_name: str = ""  # display name (李主任), 系统 or 居民; `actor` stays the username the audit log keeps


@dataclass(frozen=True)
class CommentView:
    author: str
    at: datetime
    text: str
    author_name: str = ""


@dataclass(frozen=True)
class OpenStep:
    task_id: int
    step_id: str
    step_name: str
    roles: tuple[str, ...]
    assignee: str | None
    due_at: datetime | None
    # whom the viewing leader may 指派 this step to: (username, display name) of each active colleague
    # holding one of its roles; empty for anyone who may not assign
    candidates: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CaseView:
    id: int
    number: str
    procedure: str
    process_id: str
    title: str
    status: str
    kind: str | None
    topic: str | None
    started_at: datetime
    started_by: str
    completed_at: datetime | None
    version_id: int
    version_hash: str
    open_steps: tuple[OpenStep, ...]
    history: tuple[HistoryEntry, ...]
    comments: tuple[CommentView, ...]
    linked: tuple[str, ...]  # the linked (关联) cases the reader may see
    data: dict[str, Any]
    next_task_ids: tuple[int, ...] = ()
    started_by_name: str = ""
    supervisor_role: str | None = None  # the diagram's supervisorRole: who may record 监督发现
    may_comment: bool = False  # the reader may add 意见 (they see the case through a role that acts)
    linked_elsewhere: int = 0  # linked cases of units the reader does not see: counted, never named
    # the files handed in (附件), as engine.public.attachments.AttachmentInfo; filled by engine.public.casefiles
    files: tuple[Any, ...] = ()
    unit_name: str = ""  # 所属单位, filled by engine.public.casefiles
    move_to: tuple[Choice, ...] = ()  # the units the reader may 转办 the case to (engine.work.transfer)


@dataclass(frozen=True)
class PendingExtension:
    """A 延期申请 of the step waiting for its approver."""

    requested_by_name: str
    requested_at: datetime
    requested_due: datetime


@dataclass(frozen=True)
class TaskView:
    """A task page: the step, its form with current values, and the case so far."""

    id: int
    status: str
    step_id: str
    step_name: str
    lane: str
    roles: tuple[str, ...]
    assignee: str | None
    due_at: datetime | None
    form: tuple[FormField, ...]
    values: dict[str, Any]
    case: CaseView
    can_complete: bool
    pending_extension: PendingExtension | None = None


@dataclass(frozen=True)
class Procedure:
    """A procedure a user may start, with the form of its start event."""

    process_id: str
    name: str
    version_id: int
    form: tuple[FormField, ...]
    values: dict[str, Any]
    # 所属单位: the units the person may register the case in (a select when there is a choice), and theirs
    unit_field: FormField | None = None
    unit_id: int | None = None


@dataclass(frozen=True)
class Counts:
    inbox: int
    queue: int
    archive: int
    team: int | None = None  # 本组待办, for leaders only (None: the tab is not shown)
