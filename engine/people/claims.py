"""Claims (认领, 指派) follow roles in units: a step stays with a person only while they may do it.

When an administrator takes a role away (in the unit the step was routed to) or deactivates an account,
every open step the person holds and may no longer do goes back to the 待认领 list of its roles, in the
same transaction, each under its case's lock and recorded in the case's audit trail (`task_unclaimed`, with the reason).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store import audit_chain, locks
from engine.store.models import HumanTask, HumanTaskRole


def release(session: Session, user_id: int, username: str, grants: Iterable[tuple[str, int]], active: bool,
            by: str) -> int:
    """Release the open steps `user_id` holds but may no longer do (the person holds none of the step's
    roles in the unit it was routed to among `grants`, (role, unit id) pairs, or the account is no
    longer `active`); returns how many. `by`: who made the change."""
    held = set(grants) if active else set()
    candidates = _held_steps(session, user_id)
    if not candidates:
        return 0
    step_roles: dict[int, set[tuple[str, int]]] = {}
    for task_id, role, unit_id in session.execute(
            select(HumanTaskRole.human_task_id, HumanTaskRole.role, HumanTaskRole.unit_id)
            .where(HumanTaskRole.human_task_id.in_(candidates))):
        step_roles.setdefault(task_id, set()).add((role, unit_id))
    lost = [task_id for task_id in candidates if not step_roles.get(task_id, set()) & held]
    if not lost:
        return 0
    locks.lock_cases(session, session.scalars(select(HumanTask.case_id).where(HumanTask.id.in_(lost))))
    reason = (f"{username} 的账户已停用,任务退回待认领" if not active
              else f"{username} 已不再担任该步骤的角色,任务退回待认领")
    released = 0
    for row in session.scalars(select(HumanTask).where(  # read again under the locks: still open, still theirs
            HumanTask.id.in_(lost), HumanTask.status == "READY", HumanTask.assignee_id == user_id)
            .order_by(HumanTask.id).execution_options(populate_existing=True)):
        row.assignee_id = None
        audit_chain.append(session, row.case_id, by, "task_unclaimed", step_id=row.step_id, step_name=row.name,
                           lane=row.lane, data={"released": username, "reason": reason})
        released += 1
    return released


def _held_steps(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(HumanTask.id).where(HumanTask.assignee_id == user_id,
                                                           HumanTask.status == "READY")))
