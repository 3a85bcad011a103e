"""批量认领 / 批量指派: several open steps claimed or assigned in one engine call and one transaction.

Each step is checked on its own, exactly as a single 认领 or 指派 is (the step's role, still open, not
held by another; a leader's right to assign and the colleague's role): the steps that pass are done,
the others are refused with their reason, and the result names both. Every check of a step comes
before its first write, so a refused step leaves nothing behind. The cases are locked in id order
before any step is touched, so two leaders working on overlapping selections never deadlock. A step
refused in a case the person may not see (another unit's) is named by its number only: its case's number
and step stay unknown to them.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.people.oversight import READ_ONLY_MESSAGE, only_reads
from engine.store import locks
from engine.store.db import Database
from engine.store.models import Case, HumanTask, User

from . import cases
from .casepages import SUPERVISOR_ROLES, check_can_view

ACTIONS = {"claim": "认领", "assign": "指派"}
MAX_STEPS = 100  # one page of a list at most


@dataclass(frozen=True)
class BulkItem:
    task_id: int
    case_number: str
    step_name: str
    reason: str = ""  # why it was refused (empty when done)


@dataclass(frozen=True)
class BulkResult:
    action: str  # 认领 / 指派
    assignee: str | None  # the colleague's name when assigning
    done: tuple[BulkItem, ...]
    refused: tuple[BulkItem, ...]


def _task_ids(raw: list[str]) -> list[int]:
    ids = list(dict.fromkeys(int(v) for v in raw if str(v).strip().isdigit()))
    if not ids:
        raise InvalidInput("请至少勾选一个步骤", {"task": "请至少勾选一个步骤"})
    if len(ids) > MAX_STEPS:
        raise InvalidInput(f"一次最多处理 {MAX_STEPS} 个步骤,您勾选了 {len(ids)} 个",
                           {"task": f"一次最多 {MAX_STEPS} 个步骤"})
    return ids


def _may_see(session: Session, actor: Actor, task_id: int) -> bool:
    case = session.scalar(select(Case).join(HumanTask, HumanTask.case_id == Case.id).where(HumanTask.id == task_id))
    try:
        check_can_view(session, actor, case)
    except Forbidden:
        return False
    return True


def apply(db: Database, actor: Actor, action: str, task_ids: list[str], username: str = "") -> BulkResult:
    """认领 (`claim`) or 指派 to `username` (`assign`) every step of `task_ids` that allows it."""
    if only_reads(actor):
        raise Forbidden(READ_ONLY_MESSAGE)
    if action not in ACTIONS:
        raise InvalidInput("请选择批量操作:认领或指派", {"action": "请选择认领或指派"})
    ids = _task_ids(task_ids)
    username = (username or "").strip()
    with db.write() as session:
        assignee = None
        if action == "assign":
            if not actor.has_role(*SUPERVISOR_ROLES):
                raise Forbidden("只有社区负责人可以指派任务")
            if not username:
                raise InvalidInput("请选择要指派给哪位同事", {"username": "请选择同事"})
            assignee = session.scalar(select(User.display_name).where(User.username == username, User.active))
            if assignee is None:
                raise InvalidInput(f"用户 “{username}” 不存在或已停用", {"username": "用户不存在"})
        found = {task_id: (number, name) for task_id, number, name in session.execute(
            select(HumanTask.id, Case.number, HumanTask.name).join(Case, Case.id == HumanTask.case_id)
            .where(HumanTask.id.in_(ids), Case.sandbox.is_(False)))}
        locks.lock_cases(session, session.scalars(select(HumanTask.case_id).where(HumanTask.id.in_(list(found)))))
        done, refused = [], []
        for task_id in ids:
            if task_id not in found:
                refused.append(BulkItem(task_id, "", "", f"步骤 {task_id} 不存在"))
                continue
            item = BulkItem(task_id, *found[task_id])
            try:
                if action == "claim":
                    cases.claim_in(session, actor, task_id)
                else:
                    cases.assign_in(session, actor, task_id, username)
            except Forbidden as exc:
                shown = item if _may_see(session, actor, task_id) else BulkItem(task_id, "", "")
                refused.append(BulkItem(shown.task_id, shown.case_number, shown.step_name,
                                        exc.message if shown.case_number else f"步骤 {task_id}:{exc.message}"))
            except (Conflict, InvalidInput, NotFound) as exc:
                refused.append(BulkItem(item.task_id, item.case_number, item.step_name, exc.message))
            else:
                done.append(item)
        return BulkResult(ACTIONS[action], assignee, tuple(done), tuple(refused))
