"""Who may read the audit side of the system (审计): auditors and administrators, read-only."""
from __future__ import annotations

from engine.actor import Actor
from engine.errors import Forbidden

AUDIT_ROLES = ("审计", "管理员")


def require_auditor(actor: Actor) -> None:
    if not actor.has_role(*AUDIT_ROLES):
        raise Forbidden("只有审计人员(居务监督委员会、纪工委、民情监督员)或管理员可以查看审计内容")
