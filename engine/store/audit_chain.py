"""The append-only audit trail, hash-chained twice: per case, and across all cases (global chain).

An event's hash covers its content and its case predecessor's hash; its global hash covers
that hash and the previous event's global hash in commit order. Events are collected while
the transaction runs and written at commit, after every case lock is held, so the global
head is always the last lock a writer takes (no lock-order deadlocks) and is held briefly.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapper, Session

from engine import clock

from . import casefigures, driver
from .models import AccountEvent, AuditEvent, ChainHead

GENESIS = "0" * 64
GLOBAL = "global"
_PENDING = "minyi_audit_pending"
_HEADS = "minyi_audit_heads"
_GLOBAL_SEEN = "minyi_audit_global_head"


class AuditTampering(RuntimeError):
    """Raised when code tries to change or delete a written audit event."""


def utc_iso(at: datetime) -> str:
    """The one text form of a moment inside hashes: naive UTC ISO 8601."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(case_id: int, seq: int, at: datetime, actor: str, kind: str, step_id: str,
               data: dict[str, Any], prev_hash: str, step_name: str, lane: str) -> str:
    """SHA-256 over the event's content (including the names shown to readers) and its predecessor's hash."""
    body = canonical([case_id, seq, utc_iso(at), actor, kind, step_id, step_name, lane, data, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def global_hash(global_seq: int, own_hash: str, global_prev_hash: str) -> str:
    """SHA-256 linking an event (by its own hash) into the chain of all events."""
    return hashlib.sha256(canonical([global_seq, own_hash, global_prev_hash]).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Appended:
    """What `append` gives back: the event's place in its case's chain."""

    case_id: int
    seq: int
    kind: str
    hash: str


def append(session: Session, case_id: int, actor: str, kind: str, *, step_id: str = "",
           step_name: str = "", lane: str = "", data: dict[str, Any] | None = None,
           at: datetime | None = None) -> Appended:
    """Add one event; the caller holds the case's lock, so seq and the case chain cannot race."""
    heads: dict[int, tuple[int, str]] = session.info.setdefault(_HEADS, {})
    if case_id in heads:
        last_seq, prev = heads[case_id]
    else:
        last = driver.run(session.connection(), _CASE_HEAD, {"case_id": case_id}).first()
        last_seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    seq = last_seq + 1
    at = at or clock.now()
    payload = dict(data or {})
    digest = event_hash(case_id, seq, at, actor, kind, step_id, payload, prev, step_name, lane)
    session.info.setdefault(_PENDING, []).append(dict(
        case_id=case_id, seq=seq, at=at, actor=actor, kind=kind, step_id=step_id, step_name=step_name,
        lane=lane, data=payload, prev_hash=prev, hash=digest))
    heads[case_id] = (seq, digest)
    return Appended(case_id, seq, kind, digest)


def seed(session: Session, case_id: int, seq: int | None, digest: str | None) -> None:
    """Tell `append` a case's chain head read under the case's lock (None: the case has no events)."""
    session.info.setdefault(_HEADS, {}).setdefault(case_id, (seq or 0, digest or GENESIS))


def seed_global(session: Session, seq: int | None, digest: str | None) -> None:
    """Tell `_seal` the global head, read inside this SQLite write transaction (BEGIN IMMEDIATE holds the
    database's write lock from the start, so nobody can move the head before the commit). Ignored when
    the head does not exist yet, and on PostgreSQL, where the head is locked last, at the seal."""
    conn = session.connection()
    if seq is not None and conn.dialect.name == "sqlite" and conn.get_execution_options().get("minyi_write"):
        session.info[_GLOBAL_SEEN] = (seq, digest)


def seed_locked(session: Session, case_ids: list[int]) -> None:
    """Read the chain heads of several cases the caller has locked, in one query (the timer worker's batch)."""
    if not case_ids:
        return
    newest = select(AuditEvent.case_id, func.max(AuditEvent.seq).label("seq")) \
        .where(AuditEvent.case_id.in_(case_ids)).group_by(AuditEvent.case_id).subquery()
    rows = session.connection().execute(
        select(AuditEvent.case_id, AuditEvent.seq, AuditEvent.hash)
        .join(newest, (newest.c.case_id == AuditEvent.case_id) & (newest.c.seq == AuditEvent.seq))).all()
    found = {row.case_id: row for row in rows}
    for case_id in case_ids:
        row = found.get(case_id)
        seed(session, case_id, row.seq if row else None, row.hash if row else None)


_CASE_HEAD = driver.Statement("SELECT seq, hash FROM audit_events WHERE case_id = :case_id ORDER BY seq DESC LIMIT 1")
_GLOBAL_HEAD = driver.Statement("SELECT seq, hash FROM chain_heads WHERE name = 'global'", " FOR UPDATE")
_EVENT_COLUMNS = ("case_id", "seq", "at", "actor", "kind", "step_id", "step_name", "lane", "data", "prev_hash",
                  "hash", "global_seq", "global_prev_hash", "global_hash")
_INSERT = driver.Statement(f"INSERT INTO audit_events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608 — fixed columns, bound values
                           f"VALUES ({', '.join(':' + c for c in _EVENT_COLUMNS)})")
_MOVE_HEAD = driver.Statement("UPDATE chain_heads SET seq = :seq, hash = :hash WHERE name = 'global'")


def lock_global_head(session: Session, before: driver.Step | None = None) -> tuple[int, str]:
    """The global chain's head (seq, hash), row-locked; created on first use without racing another writer.
    `before`: a statement to run first, in the same round trip on PostgreSQL."""
    conn = session.connection()
    head = driver.run_all(conn, [*((before,) if before else ()), (_GLOBAL_HEAD, None)])[-1].first()
    if head is None:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert(ChainHead).values(name=GLOBAL, seq=0, hash=GENESIS).on_conflict_do_nothing())
        head = driver.run(conn, _GLOBAL_HEAD).first()
    return head.seq, head.hash


@sa_event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    """Write the transaction's events, each linked into the global chain, under the head's lock."""
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    session.info.pop(_HEADS, None)
    seen = session.info.pop(_GLOBAL_SEEN, None)
    if not pending:
        return
    session.flush()  # the transaction's ORM changes, so the cases' figures are counted from every row
    conn = session.connection()
    figures = casefigures.refreshing(conn.dialect.name, pending)  # before the global head: cases are locked first
    if seen:
        if figures:
            driver.run(conn, *figures)
        seq, prev = seen
    else:
        seq, prev = lock_global_head(session, before=figures)  # one round trip with the figures on PostgreSQL
    for row in pending:
        seq += 1
        row["global_seq"], row["global_prev_hash"] = seq, prev
        row["global_hash"] = prev = global_hash(seq, row["hash"], prev)
    driver.run_all(conn, [(_INSERT, pending), (_MOVE_HEAD, {"seq": seq, "hash": prev})])


@sa_event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_HEADS, None)
    session.info.pop(_GLOBAL_SEEN, None)


def _append_only(model: type, what: str, which: Callable[[Any], str]) -> None:
    """Refuse, through the ORM, any change to or deletion of a written row of `model`."""
    def refuse(verb: str) -> Callable[..., None]:
        def listener(mapper: Mapper, connection: Any, target: Any) -> None:
            raise AuditTampering(f"{what}只能追加,不能{verb}({which(target)})")
        return listener

    sa_event.listen(model, "before_update", refuse("修改"))
    sa_event.listen(model, "before_delete", refuse("删除"))


_append_only(AuditEvent, "审计记录", lambda e: f"事项 {e.case_id} 第 {e.seq} 条")
_append_only(AccountEvent, "账户变更记录", lambda e: f"第 {e.id} 条")
