"""The trace of a case for auditors: the drawn diagram of its exact version with the path it took,
and a timeline of every audit event — who, when, how long it waited, what was entered (field by
field, with the change against the previous value), deadlines met or missed, gateway decisions.

Highlighting comes from the stored workflow (which elements were reached, what is open, what was
cancelled) plus the audit events (which way each gateway went).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.actor import Actor
from engine.bpmn import bpmngraph, deployments, spiff
from engine.bpmn.diagram import Diagram
from engine.people import units
from engine.store.db import Database
from engine.store.models import AuditEvent, Case, CaseState, DiagramVersion, HumanTask, User
from engine.work import casepages, runtime

from . import details, search, verify

DONE, CURRENT, CANCELLED = "done", "current", "cancelled"


@dataclass(frozen=True)
class FieldValue:
    """One form field as entered at a step, and what it was before (if it changed)."""

    id: str
    label: str
    value: Any
    previous: Any = None
    changed: bool = False


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    at: datetime
    kind: str
    actor: str
    actor_name: str
    step_id: str
    step_name: str
    lane: str
    fields: tuple[FieldValue, ...] = ()
    waited: timedelta | None = None
    due_at: datetime | None = None
    on_time: bool | None = None
    flows: tuple[dict, ...] = ()
    text: str = ""
    data: dict | None = None
    details: tuple[tuple[str, str], ...] = ()  # what else was recorded, worded for people (`details`)


@dataclass(frozen=True)
class DrawnShape:
    element_id: str
    type: str
    name: str
    x: float
    y: float
    width: float
    height: float
    state: str  # done / current / cancelled / ""
    events: int


@dataclass(frozen=True)
class DrawnEdge:
    flow_id: str
    name: str
    points: tuple[tuple[float, float], ...]
    state: str


@dataclass(frozen=True)
class Trace:
    number: str
    title: str
    procedure: str
    process_id: str
    status: str
    kind: str | None
    topic: str | None
    channel: str | None
    rating: str | None
    outcome: str | None
    started_at: datetime
    completed_at: datetime | None
    version_hash: str
    version_deployed_at: datetime
    viewbox: tuple[float, float, float, float]
    shapes: tuple[DrawnShape, ...]
    edges: tuple[DrawnEdge, ...]
    timeline: tuple[TimelineEntry, ...]
    chain_ok: bool
    chain_problem: str
    unit: str = ""  # the unit the case belongs to, by name


def get_trace(db: Database, actor: Actor, number: str) -> Trace:
    """The trace of a case of a unit the auditor sees."""
    with db.read() as session:
        case = search.audited_case(session, actor, number)
        return build(session, case, casepages.linked_cases(session, actor, case.id)[1])


def build(session: Session, case: Case, hidden: frozenset[str] = frozenset()) -> Trace:
    """The trace of a case; `hidden`: numbers of linked cases the reader may not see (shown as another unit's)."""
    version = session.get(DiagramVersion, case.version_id)
    d = deployments.diagram_of(session, case.version_id)
    graph = bpmngraph.graph_of(d)
    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
    rows = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
    names = dict(session.execute(select(User.username, User.display_name).where(
        User.username.in_({e.actor for e in events} | details.people_in(e.data or {} for e in events)))).all())
    _, broken = verify.check_case(case.number, [verify.event_dict(e) for e in events])
    states = _node_states(session, case, d, rows)
    taken = _taken_flows(graph, states, events)
    counts: dict[str, int] = defaultdict(int)
    for e in events:
        counts[e.step_id] += 1
    shapes = tuple(DrawnShape(s.element_id, s.type, s.name, s.x, s.y, s.width, s.height,
                              states.get(s.element_id, ""), counts.get(s.element_id, 0)) for s in graph.shapes)
    edges = tuple(DrawnEdge(e.flow_id, e.name, e.points, DONE if e.flow_id in taken else "") for e in graph.edges)
    return Trace(
        number=case.number, title=case.title, procedure=version.name, process_id=case.process_id,
        status=case.status, kind=case.kind, topic=case.topic, channel=case.channel, rating=case.rating,
        outcome=case.outcome, started_at=case.started_at, completed_at=case.completed_at,
        version_hash=version.hash, version_deployed_at=version.deployed_at, viewbox=graph.bounds,
        shapes=shapes, edges=edges, timeline=tuple(_timeline(events, rows, d, names, hidden)),
        chain_ok=broken is None, chain_problem=str(broken) if broken else "",
        unit=units.names(session, [case.unit_id]).get(case.unit_id, ""))


def _node_states(session: Session, case: Case, d: Diagram, rows: list[HumanTask]) -> dict[str, str]:
    """Element id → done / current / cancelled; an element open now wins over one done before."""
    rank = {CANCELLED: 1, DONE: 2, CURRENT: 3}
    found: dict[str, str] = {}

    def mark(element_id: str, state: str) -> None:
        if rank[state] > rank.get(found.get(element_id, ""), 0):
            found[element_id] = state

    state = session.get(CaseState, case.id)
    if state is not None:
        workflow = runtime.load_workflow(session, case, d)
        for element_id, name in spiff.trail(workflow):
            mark(element_id, {"COMPLETED": DONE, "CANCELLED": CANCELLED}.get(name, CURRENT))
    for row in rows:
        mark(row.step_id, {"COMPLETED": DONE, "CANCELLED": CANCELLED}.get(row.status, CURRENT))
    return found


def _taken_flows(graph: bpmngraph.Graph, states: dict[str, str], events: list[AuditEvent]) -> set[str]:
    """Flows the case went along: a deciding gateway's by its recorded decisions, any other
    element's when it was done and its target was reached."""
    decided = {f["id"] for e in events if e.kind == "gateway_decided" for f in e.data.get("flows", [])}
    deciders = {e.step_id for e in events if e.kind == "gateway_decided"}
    taken = set(decided)
    for flow in graph.flows.values():
        if flow.source in deciders or states.get(flow.source) != DONE:
            continue
        if states.get(flow.target) in (DONE, CURRENT):
            taken.add(flow.id)
    return taken


def _labels(d: Diagram, step_id: str) -> dict[str, str]:
    if step_id in d.steps:
        return {f.id: f.label for f in d.steps[step_id].form}
    if step_id == d.start_id:
        return {f.id: f.label for f in d.start_form}
    return {}


def _timeline(events: list[AuditEvent], rows: list[HumanTask], d: Diagram,
              names: dict[str, str], hidden: frozenset[str] = frozenset()) -> Iterator[TimelineEntry]:
    """Each audit event as a timeline entry: who did it (by display name), what was entered, and for a
    completed step how long it waited and whether it met its deadline."""
    done = _completed_rows(rows)
    for e in events:
        data = dict(e.data or {})
        if e.kind == "case_linked" and data.get("linked") in hidden:
            data["linked"] = casepages.OTHER_UNIT_CASE
        waited, due, on_time = _timing(e, data, done)
        actor_name = names.get(e.actor, "系统" if e.actor == "system" else e.actor)
        yield TimelineEntry(e.seq, e.at, e.kind, e.actor, actor_name, e.step_id, e.step_name, e.lane,
                            _entered(e, data, d), waited, due, on_time,
                            tuple(data.get("flows") or ()), str(data.get("text") or ""), data,
                            details.describe(data, names))


def _completed_rows(rows: list[HumanTask]) -> dict[str, list[HumanTask]]:
    """Step id → its completed index rows, oldest first: the n-th completion event of a step is its n-th row."""
    done: dict[str, list[HumanTask]] = defaultdict(list)
    for row in rows:
        if row.status == "COMPLETED":
            done[row.step_id].append(row)
    return done


def _entered(e: AuditEvent, data: dict, d: Diagram) -> tuple[FieldValue, ...]:
    """The non-empty values entered at a step or the start, labelled from the form, each with its previous
    value when the entry changed it."""
    if e.kind not in ("task_completed", "case_started"):
        return ()
    labels, changes = _labels(d, e.step_id), data.get("changes") or {}
    return tuple(FieldValue(k, labels.get(k, k), v, (changes.get(k) or [None])[0], k in changes)
                 for k, v in (data.get("values") or {}).items() if v not in (None, ""))


def _timing(e: AuditEvent, data: dict,
            done: dict[str, list[HumanTask]]) -> tuple[timedelta | None, datetime | None, bool | None]:
    """(waited, due, on time) of an event: a completion takes its step's next completed row (so
    `done` is consumed in event order); a step becoming ready shows the deadline it was given."""
    if e.kind == "task_completed" and done.get(e.step_id):
        row = done[e.step_id].pop(0)
        waited = row.completed_at - row.created_at if row.completed_at else None
        on_time = (row.completed_at <= row.due_at) if (row.due_at and row.completed_at) else None
        return waited, row.due_at, on_time
    if e.kind == "task_ready" and data.get("due_at"):
        return None, datetime.fromisoformat(data["due_at"]), None
    return None, None, None
