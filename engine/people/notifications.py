"""In-app notifications (提醒/通知) per user, and the outbox rows of the outbound hook.

Notifications are written inside the transaction that caused them (a reminder, an
overdue notice, an escalation, an assignment), so they exist exactly when the cause
was committed. When an outbound hook is configured (`outbox.configured()`), each
notification also gets an outbox row in the same transaction; the worker sends it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.errors import NotFound
from engine.store.db import Database
from engine.store.models import Case, HumanTask, HumanTaskRole, Notification, User, UserRole

from . import outbox

KINDS = {
    "assignment": "指派",
    "reminder": "到期提醒",
    "overdue": "逾期通知",
    "escalation": "督办",
    "urge": "催办",
    "extension": "延期申请",
    "account": "账户",
    "objection": "居民异议",
    "transfer": "转办",
}


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    kind_name: str
    text: str
    created_at: datetime
    read: bool
    case_number: str | None
    task_id: int | None


def role_members(session: Session, roles: Iterable[str], units: Iterable[int] | None = None) -> list[int]:
    """The active people holding one of `roles`, in one of `units` (None: in any unit)."""
    roles = list(roles)
    if not roles:
        return []
    query = select(User.id).join(UserRole, UserRole.user_id == User.id).where(UserRole.role.in_(roles), User.active)
    if units is not None:
        query = query.where(UserRole.unit_id.in_(list(units) or [-1]))
    return list(session.scalars(query.distinct().order_by(User.id)))


def grant_members(session: Session, grants: Iterable[tuple[str, int]]) -> list[int]:
    """The active people holding one of the (role, unit) `grants`."""
    grants = sorted(set(grants))
    if not grants:
        return []
    return list(session.scalars(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(tuple_(UserRole.role, UserRole.unit_id).in_(grants), User.active).distinct().order_by(User.id)))


def task_people(session: Session, row: HumanTask) -> list[int]:
    """Who is concerned by a task: its assignee, else everyone holding one of its roles in the unit it
    was routed to."""
    if row.assignee_id is not None:
        return [row.assignee_id]
    grants = session.execute(select(HumanTaskRole.role, HumanTaskRole.unit_id)
                             .where(HumanTaskRole.human_task_id == row.id))
    return grant_members(session, grants)


_INSERT = insert(Notification.__table__)  # Core: the ORM's bulk-insert bookkeeping costs more than the rows


def notify(session: Session, user_ids: Iterable[int], kind: str, text: str, *,
           case_id: int | None = None, task_id: int | None = None) -> int:
    """One notification per user (each once), in one INSERT for all of them (the worker writes many);
    returns how many were written."""
    now = clock.now()
    recipients = list(dict.fromkeys(user_ids))
    if recipients:
        session.connection().execute(_INSERT, [
            {"user_id": user_id, "case_id": case_id, "human_task_id": task_id, "kind": kind, "text": text,
             "created_at": now} for user_id in recipients])
    if recipients and outbox.configured():
        people = {row.id: row for row in session.execute(
            select(User.id, User.username, User.email, User.active).where(User.id.in_(recipients)))}
        number = session.scalar(select(Case.number).where(Case.id == case_id)) if case_id else None
        outbox.enqueue(session, {"kind": kind, "kind_name": KINDS.get(kind, kind), "text": text,
                                 "case_number": number, "task_id": task_id,
                                 "users": [people[u].username if u in people else "" for u in recipients]},
                       emails=[people[u].email for u in recipients if u in people and people[u].email
                               and people[u].active])
    return len(recipients)


def notifications_for(db: Database, actor: Actor, unread_only: bool = False,
                      limit: int = 100) -> tuple[NotificationView, ...]:
    with db.read() as session:
        query = (select(Notification, Case.number).outerjoin(Case, Case.id == Notification.case_id)
                 .where(Notification.user_id == actor.id))
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        rows = session.execute(query.order_by(Notification.id.desc()).limit(limit)).all()
        return tuple(NotificationView(n.id, n.kind, KINDS.get(n.kind, n.kind), n.text, n.created_at,
                                      n.read_at is not None, number, n.human_task_id) for n, number in rows)


def unread_count(db: Database, actor: Actor) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


def mark_read(db: Database, actor: Actor, notification_id: int | None = None) -> int:
    """Mark one (or, with None, every) notification of the actor as read."""
    with db.write() as session:
        query = update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        if notification_id is not None:
            owner = session.scalar(select(Notification.user_id).where(Notification.id == notification_id))
            if owner != actor.id:
                raise NotFound(f"通知 {notification_id} 不存在")
            query = query.where(Notification.id == notification_id)
        return session.execute(query.values(read_at=clock.now())).rowcount
