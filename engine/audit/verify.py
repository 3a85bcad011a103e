"""Checking the audit chains, in the database or in a downloaded case bundle.

The checks are pure functions over plain event dicts, so `minyi audit verify --bundle FILE`
works offline, without a database or the server. The first broken link is reported with the
case number, the event's seq and what differs.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import groupby
from typing import Any

from sqlalchemy import select

from engine.actor import Actor
from engine.people import units
from engine.people.oversight import audit_scope, require_auditor
from engine.store import audit_chain
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, ChainHead, DiagramVersion

from .search import audited_case

BUNDLE_FORMAT = "minyi-audit-bundle/1"


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain."""

    chain: str  # "case" or "global" or "bundle"
    case_number: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"事项 {self.case_number}" if self.case_number else "全局链"
        at = f" 第 {self.seq} 条" if self.seq is not None else ""
        return f"{where}{at}: {self.problem}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: how much was checked and the first break, if any."""

    events: int
    cases: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def event_dict(row: AuditEvent) -> dict[str, Any]:
    """One event as stored in a bundle: exactly what its hashes cover, plus the hashes."""
    return {"case_id": row.case_id, "seq": row.seq, "at": audit_chain.utc_iso(row.at), "actor": row.actor,
            "kind": row.kind, "step_id": row.step_id, "step_name": row.step_name, "lane": row.lane,
            "data": row.data, "prev_hash": row.prev_hash, "hash": row.hash, "global_seq": row.global_seq,
            "global_prev_hash": row.global_prev_hash, "global_hash": row.global_hash}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def check_event(e: dict[str, Any], prev_hash: str, expected_seq: int) -> str | None:
    """What is wrong with one event of a case chain, or None."""
    if e["seq"] != expected_seq:
        return f"序号不连续:应为 {expected_seq},实为 {e['seq']}(有记录被删除或插入)"
    if e["prev_hash"] != prev_hash:
        return "前一条的哈希不符:链在此断开(前一条记录被删除、替换或改动)"
    recomputed = audit_chain.event_hash(e["case_id"], e["seq"], _at(e["at"]), e["actor"], e["kind"], e["step_id"],
                                  e["data"], e["prev_hash"], e["step_name"], e["lane"])
    if recomputed != e["hash"]:
        return f"内容与哈希不符:记录被改动(存储 {e['hash'][:12]}…,按内容计算 {recomputed[:12]}…)"
    if e.get("global_seq") is not None and e.get("global_hash") != audit_chain.global_hash(
            e["global_seq"], e["hash"], e["global_prev_hash"]):
        return "全局链哈希与记录不符"
    return None


def check_owner(e: dict[str, Any], number: str) -> str | None:
    """The case number is hashed into the case's first event (登记受理); a chain shown under another
    number belongs to another case (a swapped bundle, or numbers exchanged in the database)."""
    if e["kind"] != "case_started":
        return None
    recorded = e["data"].get("number")
    if recorded != number:
        return f"登记受理记录中的受理编号为 {recorded},与事项编号 {number} 不符(记录属于其他事项)"
    return None


def check_case(number: str, events: Iterable[dict[str, Any]]) -> tuple[int, Break | None]:
    """Walk one case's chain from seq 1; (events checked, first break)."""
    prev, count = audit_chain.GENESIS, 0
    for e in events:
        count += 1
        problem = check_event(e, prev, count) or check_owner(e, number)
        if problem:
            return count, Break("case", number, e["seq"], problem)
        prev = e["hash"]
    return count, None


def check_global(events: Iterable[dict[str, Any]], head: tuple[int, str] | None) -> tuple[int, Break | None]:
    """Walk the global chain in global_seq order and compare its end with the stored head."""
    prev, expected, count = audit_chain.GENESIS, 1, 0
    for e in events:
        count += 1
        if e["global_seq"] != expected:
            return count, Break("global", e.get("number", ""), e["seq"],
                                f"全局序号不连续:应为 {expected},实为 {e['global_seq']}(有记录被删除)")
        if e["global_prev_hash"] != prev \
                or e["global_hash"] != audit_chain.global_hash(e["global_seq"], e["hash"], prev):
            return count, Break("global", e.get("number", ""), e["seq"], "全局链在此断开(记录被改动或替换)")
        prev, expected = e["global_hash"], expected + 1
    if head is not None and (head[0] != expected - 1 or head[1] != prev):
        return count, Break("global", "", None, f"全局链头不符:链头记录为第 {head[0]} 条,实际链尾为第 {expected - 1} 条"
                                                 "(末尾记录被删除或链头被改动)")
    return count, None


def verify_database(db: Database, scope: frozenset[str] | None = None) -> Verdict:
    """Check every case chain, then the global chain and its head. With a `scope` (an auditor's units,
    `Actor.scope`) only the chains of those units' cases are walked and counted; the global chain runs
    through every case, so it is checked whole, but a break in it names a case only when it is in scope."""
    in_units = units.in_scope(Case.unit_id, scope)
    with db.snapshot() as session:
        numbers = dict(session.execute(select(Case.id, Case.number).where(
            *(() if in_units is None else (in_units,)))).all())
        cases = total = 0
        events = select(AuditEvent)
        if in_units is not None:
            events = events.where(AuditEvent.case_id.in_(select(Case.id).where(in_units)))
        result = session.scalars(events.order_by(AuditEvent.case_id, AuditEvent.seq)
                                 .execution_options(yield_per=2000))
        try:
            for case_id, events in groupby((event_dict(r) for r in result), key=lambda e: e["case_id"]):
                cases += 1
                count, broken = check_case(numbers.get(case_id, str(case_id)), events)
                total += count
                if broken:
                    return Verdict(total, cases, broken)
        finally:
            result.close()
        head = session.get(ChainHead, audit_chain.GLOBAL)
        result = session.scalars(select(AuditEvent).where(AuditEvent.global_seq.is_not(None))
                                 .order_by(AuditEvent.global_seq).execution_options(yield_per=2000))
        try:
            chained = (dict(event_dict(r), number=numbers.get(r.case_id, "")) for r in result)
            _, broken = check_global(chained, (head.seq, head.hash) if head else None)
        finally:
            result.close()
        return Verdict(total, cases, broken)


def build_bundle(session: Any, case: Case) -> dict[str, Any]:
    """A case bundle: the BPMN of its version, every event and the chain hashes (JSON-ready)."""
    version = session.get(DiagramVersion, case.version_id)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq))
    return {
        "format": BUNDLE_FORMAT,
        "case": {"id": case.id, "number": case.number, "process_id": case.process_id, "title": case.title,
                 "status": case.status, "started_at": audit_chain.utc_iso(case.started_at)},
        "diagram": {"process_id": version.process_id, "name": version.name, "hash": version.hash,
                    "filename": version.filename, "bpmn": version.bpmn.decode("utf-8")},
        "events": [event_dict(r) for r in rows],
    }


def verify_bundle(bundle: dict[str, Any]) -> Verdict:
    """Check a bundle offline: its diagram's content hash, the case chain and each global link."""
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        return Verdict(0, 0, Break("bundle", "", None, f"不是民议审计包(format 应为 {BUNDLE_FORMAT})"))
    try:
        number = bundle["case"]["number"]
        diagram, events = bundle["diagram"], bundle["events"]
        if hashlib.sha256(diagram["bpmn"].encode("utf-8")).hexdigest() != diagram["hash"]:
            return Verdict(0, 1, Break("bundle", number, None, "流程图内容与其版本哈希不符(流程图被改动)"))
        if any(e["case_id"] != bundle["case"]["id"] for e in events):
            return Verdict(0, 1, Break("bundle", number, None, "包内混有其他事项的记录"))
        if not events or events[0]["kind"] != "case_started":
            return Verdict(0, 1, Break("bundle", number, 1, "包内第 1 条不是登记受理记录,无法确认记录属于该事项"))
        count, broken = check_case(number, events)
        if broken is None:
            broken = _check_header(bundle["case"], diagram, events)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return Verdict(0, 0, Break("bundle", "", None, f"审计包结构不完整: {exc}"))
    return Verdict(count, 1, broken)


def _check_header(case: dict[str, Any], diagram: dict[str, Any], events: list[dict[str, Any]]) -> Break | None:
    """What the bundle says of the case beside its events must agree with the hashed records: the diagram
    is the version of 登记受理, or the one the last 迁移 moved the case to."""
    number, started = case["number"], events[0]
    version, named_by = str(started["data"].get("version", "")), started
    for e in events:
        if e["kind"] == "migrated":
            version, named_by = str(e["data"]["to_hash"]), e
    if not diagram["hash"].startswith(version):
        where = "受理记录" if named_by is started else "迁移记录"
        return Break("bundle", number, named_by["seq"], f"{where}中的流程图版本与包内流程图不符")
    if case["process_id"] != diagram["process_id"]:
        return Break("bundle", number, None,
                     f"事项的流程 {case['process_id']} 与包内流程图 {diagram['process_id']} 不符")
    return None


def case_bundle(db: Database, actor: Actor, number: str) -> dict[str, Any]:
    """The bundle an auditor downloads for one case of a unit they see."""
    with db.snapshot() as session:
        return build_bundle(session, audited_case(session, actor, number))


def chain_status(db: Database, actor: Actor) -> Verdict:
    """The auditor UI's "verified" or where the chain breaks, over the cases of the units they audit."""
    require_auditor(actor)
    with db.read() as session:
        scope = audit_scope(session, actor)
    return verify_database(db, scope)
