"""What the office hands a resident on paper for a window or phone case (registered by a clerk).

受理回执: the case number, a follow-up code (issued here: a clerk's case has none until then) and what
happens next, so the resident can follow the matter online like one who submitted it there. Issuing a
new code replaces the earlier one (补发查询码 when a resident lost it); the audit trail records that a
code was issued, never the code.

书面告知书: seed 002 requires that a 补办件's resident be told **in writing** which documents are
missing; the notice lists them, the date of the notice and the period to hand them in.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from engine.actor import Actor
from engine.bpmn import deployments
from engine.clock import CHINA_TZ
from engine.errors import Conflict, Forbidden
from engine.store import audit_chain
from engine.store.db import Database
from engine.store.models import Case, CaseState, HumanTask
from engine.work import cases
from engine.work.casepages import SUPERVISOR_ROLES

from . import followup
from .procedures_page import describe
from .residents import ROLE, SUPPLEMENT_FIELD, Receipt, receipt_of


@dataclass(frozen=True)
class WrittenNotice:
    """书面告知书 of a 补办件: which documents are missing and by when to hand them in."""

    number: str
    title: str
    reporter_name: str
    received_at: str
    missing_documents: str
    notice_date: str
    period: str
    deadline: str


def issue_receipt(db: Database, actor: Actor, number: str) -> Receipt:
    """A 受理回执 with a new follow-up code for the case (the earlier code, if any, stops working)."""
    with db.write() as session:
        case = cases.case_for(session, actor, number, lock=True)
        d = deployments.diagram_of(session, case.version_id)
        if not actor.has_role(*d.start_roles, *SUPERVISOR_ROLES):
            raise Forbidden(f"只有{'、'.join((*d.start_roles, '社区负责人'))}可以打印受理回执")
        if case.sandbox:
            raise Conflict("试运行事项不对居民,没有受理回执")
        if not any(ROLE in step.roles for step in d.steps.values()):
            raise Conflict(f"“{d.name}”没有居民参与的步骤,居民无需查询码,没有受理回执")
        code = followup.new_code()
        session.execute(update(Case).where(Case.id == case.id)
                        .values(followup_code_hash=followup.stored_hash(case.number, code)))
        audit_chain.append(session, case.id, actor.username, "followup_code_issued",
                           data={"replaces_earlier": case.followup_code_hash is not None})
        return receipt_of(session, case, code)


def written_notice(db: Database, actor: Actor, number: str) -> WrittenNotice:
    with db.read() as session:
        case = cases.case_for(session, actor, number)
        data = session.get(CaseState, case.id).data
        missing = str(data.get("missing_documents") or "").strip()
        if case.kind != "补办件" or not missing:
            raise Conflict(f"事项 {number} 不是已登记所缺材料的补办件,没有书面告知书:"
                           "请先在“书面告知补办”步骤填写需补齐的材料")
        d = deployments.diagram_of(session, case.version_id)
        waiting = next((s for s in d.steps.values() if any(f.id == SUPPLEMENT_FIELD for f in s.form)), None)
        period = next((limit.split(":")[-1] for stage in describe(d).stages for s in stage.steps
                       if waiting and s.name == waiting.name for limit in s.time_limits), "")
        is_waiting = waiting is not None and session.scalar(select(HumanTask.id).where(
            HumanTask.case_id == case.id, HumanTask.step_id == waiting.id, HumanTask.status == "READY"))
        deadline = (f"{case.next_timer_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}"
                    if is_waiting and case.next_timer_at else "")
        return WrittenNotice(case.number, case.title, str(data.get("reporter_name") or ""),
                             str(data.get("received_at") or f"{case.started_at.astimezone(CHINA_TZ):%Y-%m-%d}"),
                             missing, str(data.get("notice_date") or ""), period, deadline)
