"""Supervisors' findings (监督发现): a note on a case at any step, kept in its audit trail.

Who may record one is the diagram's ``supervisorRole`` property (居务监督委员会 for
一征三议两公开), so a designer, not the code, names the supervising body; it is held in the case's
unit or one above it (a 社区's 居务监督委员会 records findings on its own 社区's matters only).
"""
from __future__ import annotations

from sqlalchemy import select

from engine.actor import Actor
from engine.bpmn import deployments
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.people.oversight import in_charge
from engine.store import audit_chain
from engine.store import text as free_text
from engine.store.db import Database
from engine.store.models import Case

MAX_LENGTH = free_text.TEXT


def record_finding(db: Database, actor: Actor, case_number: str, text: str) -> None:
    """Add a finding to the case's trace; it shows on the case page and in the audit log."""
    text = free_text.clean(text, "finding", "监督发现", MAX_LENGTH)
    if not text:
        raise InvalidInput("监督发现内容不能为空", {"finding": "请填写内容"})
    with db.write() as session:
        case = session.scalar(select(Case).where(Case.number == case_number).with_for_update())
        if case is None:
            raise NotFound(f"事项 {case_number} 不存在")
        role = deployments.diagram_of(session, case.version_id).properties.get("supervisorRole")
        if not in_charge(session, actor, case.unit_id, (role, "管理员") if role else ("管理员",)):
            raise Forbidden(f"只有本事项所在单位(或其上级单位)的{role or '监督机构'}可以记录监督发现")
        audit_chain.append(session, case.id, actor.username, "finding", lane=role or "", data={"text": text})


def may_record(db: Database, actor: Actor, case_number: str) -> bool:
    """Whether the case page should offer the finding form to this actor."""
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == case_number))
        if case is None:
            return False
        role = deployments.diagram_of(session, case.version_id).properties.get("supervisorRole")
        return in_charge(session, actor, case.unit_id, (role, "管理员") if role else ("管理员",))
