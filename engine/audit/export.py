"""Event logs for process-mining tools: CSV and XES (IEEE 1849-2016), one trace per case.

Events are the case's start, every step's life — ready (`schedule`), assigned by a leader
(`assign`), claimed (`start`), done (`complete`) — and timers fired, each with its XES
`lifecycle:transition` (standard model), so waiting time (schedule → start) and working time
(start → complete) can be mined. The XES is written without a default namespace, so it validates
against the IEEE XSD as published (which declares no target namespace).

Who did it (`org:resource`, the CSV's `resource`) is the person's display name as every page shows it
(李主任; 系统 and 居民 for the engine and residents); the username the audit trail keeps is written
beside it (`minyi:username`, the CSV's `username`), so two people of the same name stay apart.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from itertools import groupby

from lxml import etree
from sqlalchemy import select

from engine.actor import Actor
from engine.errors import InvalidInput
from engine.people.oversight import audit_scope, require_auditor
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, User
from engine.work.casepages import NOT_STAFF

from . import csvfile
from .search import CaseQuery, apply

# audit event kind → XES lifecycle transition (the standard lifecycle model of IEEE 1849-2016)
LIFECYCLE = {"case_started": "complete", "task_ready": "schedule", "task_assigned": "assign",
             "task_claimed": "start", "task_completed": "complete", "timer_fired": "complete"}
EXPORTED = tuple(LIFECYCLE)
CSV_COLUMNS = ("case_id", "activity", "timestamp", "resource", "role", "lifecycle", "event_kind", "process", "seq",
               "username")
EXTENSIONS = (("Concept", "concept"), ("Time", "time"), ("Organizational", "org"), ("Lifecycle", "lifecycle"))


def _events(db: Database, q: CaseQuery) -> Iterator[tuple[str, str, AuditEvent]]:
    with db.snapshot() as session:
        query = apply(select(Case.number, Case.process_id, AuditEvent)
                      .join(AuditEvent, AuditEvent.case_id == Case.id), q)
        result = session.execute(query.where(AuditEvent.kind.in_(EXPORTED))
                                 .order_by(Case.id, AuditEvent.seq).execution_options(yield_per=5000))
        try:
            yield from result
        finally:
            result.close()


def _people(db: Database) -> dict[str, str]:
    """Username → display name of every account (a small table, read once per export), and 系统 / 居民."""
    with db.read() as session:
        return {**dict(session.execute(select(User.username, User.display_name)).all()), **NOT_STAFF}


def _activity(e: AuditEvent) -> str:
    return e.step_name or e.step_id or e.kind


def _stamp(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def to_csv(db: Database, q: CaseQuery) -> bytes:
    """Through `csvfile`: UTF-8 with a BOM, and designers' names never read as formulas."""
    names = _people(db)
    return csvfile.csv_bytes(CSV_COLUMNS, (
        (number, _activity(e), _stamp(e.at), names.get(e.actor, e.actor), e.lane, LIFECYCLE[e.kind], e.kind,
         process_id, e.seq, e.actor)
        for number, process_id, e in _events(db, q)))


def _attr(parent: etree._Element, tag: str, key: str, value: str) -> None:
    etree.SubElement(parent, tag, key=key, value=value)


def to_xes(db: Database, q: CaseQuery) -> bytes:
    log = etree.Element("log", {"xes.version": "2.0", "xes.features": ""})
    for name, prefix in EXTENSIONS:
        etree.SubElement(log, "extension", name=name, prefix=prefix, uri=f"http://www.xes-standard.org/{prefix}.xesext")
    trace_globals = etree.SubElement(log, "global", scope="trace")
    _attr(trace_globals, "string", "concept:name", "__INVALID__")
    event_globals = etree.SubElement(log, "global", scope="event")
    _attr(event_globals, "string", "concept:name", "__INVALID__")
    _attr(event_globals, "date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
    _attr(event_globals, "string", "lifecycle:transition", "complete")
    etree.SubElement(log, "classifier", name="Activity", keys="concept:name")
    etree.SubElement(log, "classifier", name="Activity_and_resource", keys="concept:name org:resource")
    _attr(log, "string", "concept:name", "民议事件日志")
    names = _people(db)
    for number, rows in groupby(_events(db, q), key=lambda r: r[0]):
        trace = etree.SubElement(log, "trace")
        _attr(trace, "string", "concept:name", number)
        for _, process_id, e in rows:
            event = etree.SubElement(trace, "event")
            _attr(event, "string", "concept:name", _activity(e))
            _attr(event, "date", "time:timestamp", _stamp(e.at))
            _attr(event, "string", "org:resource", names.get(e.actor, e.actor))
            _attr(event, "string", "minyi:username", e.actor)
            if e.lane:
                _attr(event, "string", "org:role", e.lane)
            _attr(event, "string", "lifecycle:transition", LIFECYCLE[e.kind])
            _attr(event, "string", "minyi:process", process_id)
    return etree.tostring(log, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_log(db: Database, actor: Actor | None, q: CaseQuery, fmt: str) -> bytes:
    """The event log of the selected cases (of the units the actor audits); `actor` None is the command line
    (the operator, every unit)."""
    if actor is not None:
        require_auditor(actor)
        with db.read() as session:
            q = q.within(audit_scope(session, actor))
    if fmt == "csv":
        return to_csv(db, q)
    if fmt == "xes":
        return to_xes(db, q)
    raise InvalidInput(f"不支持的导出格式: {fmt}(可选 csv、xes)", {"format": "请选择 csv 或 xes"})
