"""The append-only audit trail. Each event is chained to the previous one of its case."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .models import AuditEvent

GENESIS = "0" * 64


def event_hash(case_id: int, seq: int, at: datetime, actor: str, kind: str, step_id: str,
               data: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the event's content and its predecessor's hash."""
    body = json.dumps(
        [case_id, seq, at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(), actor, kind, step_id, data, prev_hash],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(session: Session, case_id: int, actor: str, kind: str, *, step_id: str = "",
           step_name: str = "", lane: str = "", data: dict[str, Any] | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Add one event; the caller holds the case's lock, so seq and chain cannot race."""
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.case_id == case_id)
        .order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = at or clock.now()
    payload = dict(data or {})
    event = AuditEvent(case_id=case_id, seq=seq, at=at, actor=actor, kind=kind, step_id=step_id,
                       step_name=step_name, lane=lane, data=payload, prev_hash=prev,
                       hash=event_hash(case_id, seq, at, actor, kind, step_id, payload, prev))
    session.add(event)
    return event
