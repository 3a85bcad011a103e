"""Who may read the audit side of the system (审计): auditors and administrators, read-only — and where:
each role reaches the unit it is held in and the units below it (`in_charge`, `role_scope`)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.errors import Forbidden
from engine.store.models import Unit

from . import units

AUDIT_ROLES = ("审计", "管理员")
# roles that read and never act: a person acts only through their other roles (e.g. 审计 and 受理员)
READ_ONLY_ROLES = ("审计",)
READ_ONLY_MESSAGE = "审计人员只能查看,不能在事项上办理、发表意见或作出其他改动"


def only_reads(actor: Actor) -> bool:
    """Every role the actor holds is read-only (an auditor and nothing else)."""
    return bool(actor.roles) and actor.roles <= frozenset(READ_ONLY_ROLES)


def require_auditor(actor: Actor) -> None:
    if not actor.has_role(*AUDIT_ROLES):
        raise Forbidden("只有审计人员(居务监督委员会、纪工委、民情监督员)或管理员可以查看审计内容")


def in_charge(session: Session, actor: Actor, unit_id: int, roles: tuple[str, ...]) -> bool:
    """The actor holds one of `roles` in the unit `unit_id` or a unit above it — the 社区负责人 who decides a
    延期申请 of their 社区, the 民情监督员 of a 街道 who urges a step of one of its 社区. Who has no account
    (the system, a resident) holds their roles everywhere."""
    if actor.id is None:
        return actor.has_role(*roles)
    held = actor.units_of(*roles)
    if not held:
        return False
    path = session.scalar(select(Unit.path).where(Unit.id == unit_id)) or ""
    return bool(held.intersection(units.ancestors(path)))


def role_scope(session: Session, actor: Actor, roles: tuple[str, ...]) -> frozenset[str] | None:
    """The unit paths whose subtrees the actor sees through `roles` alone (None: every unit): a person who
    is 审计 in one 社区 and 受理员 in another audits the first only. `Actor.scope` is the same over all roles."""
    if actor.id is None:
        return actor.scope if actor.has_role(*roles) else frozenset()
    held = actor.units_of(*roles)
    if not held:
        return frozenset()
    if held == frozenset(unit for _, unit in actor.grants):
        return actor.scope
    paths = session.scalars(select(Unit.path).where(Unit.id.in_(sorted(held))))
    return units.scope_of(paths, session.scalar(select(func.count(Unit.id)).where(Unit.parent_id.is_(None))))


def audit_scope(session: Session, actor: Actor) -> frozenset[str] | None:
    """Where the actor reads as an auditor (审计 or 管理员): the units they hold those roles in, and below."""
    return role_scope(session, actor, AUDIT_ROLES)
