"""固定式公开: procedures, steps, responsibilities and time limits, read from the deployed diagrams.

Nothing here is written by hand: a designer who changes a diagram (a step, its lane,
its dueDate or timer, the process's `publicDescription`, `basis` or `fees`) changes
this page with the next deployment.

A 社区's page (`procedures(unit_id=…)`) also says in which unit each post (负责岗位) works for that
社区's matters, as the steps are routed (`units.route`): 社区负责人(光明社区), 上级部门(东岗街道).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn import deployments, durations, expressions
from engine.bpmn.diagram import BPMN, NS, Diagram
from engine.bpmn.xmlsafe import parse as parse_xml
from engine.people import units
from engine.store.db import Database
from engine.store.models import DiagramVersion

from . import communities

PUBLIC_PROPERTIES = (("publicDescription", "说明"), ("basis", "办理依据"), ("fees", "收费标准"))
_FUNCTION_DAYS = re.compile(r"\b(add_workdays|add_days)\(\s*(\w+)\s*,\s*(\w+)\s*\)")
_CONDITION = re.compile(r"\bif\s+\w+\s*==\s*['\"]([^'\"]+)['\"]")
_NAME = re.compile(r"^[^\W\d]\w*$")


@dataclass(frozen=True)
class PublicStep:
    name: str
    roles: str
    time_limits: tuple[str, ...]
    step_id: str = ""


@dataclass(frozen=True)
class PublicStage:
    name: str
    steps: tuple[PublicStep, ...]


@dataclass(frozen=True)
class PublicProcedure:
    name: str
    details: tuple[tuple[str, str], ...]
    stages: tuple[PublicStage, ...]
    version: str


@dataclass(frozen=True)
class ProceduresPage:
    """办事指南 of a unit (or of the whole deployment) with the units a resident may choose instead."""

    procedures: tuple[PublicProcedure, ...]
    places: communities.Places


def page(db: Database, unit_id: int | None = None) -> ProceduresPage:
    with db.read() as session:
        places = communities.places(session, unit_id)
        return ProceduresPage(_procedures(session, unit_id), places)


def procedures(db: Database, unit_id: int | None = None) -> tuple[PublicProcedure, ...]:
    """Every procedure as of its newest deployed (non-draft) version; with `unit_id`, each post named
    with the unit it works in for that unit's matters."""
    with db.read() as session:
        return _procedures(session, unit_id)


def _procedures(session: Session, unit_id: int | None) -> tuple[PublicProcedure, ...]:
    newest = (select(func.max(DiagramVersion.id)).where(DiagramVersion.draft.is_(False))
              .group_by(DiagramVersion.process_id))
    rows = session.scalars(select(DiagramVersion).where(DiagramVersion.id.in_(newest))
                           .order_by(DiagramVersion.name)).all()
    found = [deployments.diagram_of(session, row.id) for row in rows]
    if unit_id is None:
        return tuple(describe(d) for d in found)
    return tuple(_in_unit(session, d, describe(d), unit_id) for d in found)


def _in_unit(session: Session, d: Diagram, described: PublicProcedure, unit_id: int) -> PublicProcedure:
    """The description with each step's posts followed by the unit they work in for `unit_id`'s cases."""
    named: dict[int, str] = {}

    def posts(step_id: str) -> str:
        step = d.steps.get(step_id)
        roles = step.roles if step else d.start_roles
        if not roles:
            return "—"
        if step is not None and step.properties.get("unitField"):
            return "、".join(f"{role}(办理时选定的单位)" for role in roles)
        level = step.properties.get("unitLevel") if step else None
        shown = []
        for role in roles:
            unit = units.route(session, unit_id, role, level=level)
            if unit not in named:
                named.update(units.names(session, [unit]))
            shown.append(f"{role}({named[unit]})")
        return "、".join(shown)

    stages = tuple(replace(stage, steps=tuple(replace(s, roles=posts(s.step_id)) for s in stage.steps))
                   for stage in described.stages)
    return replace(described, stages=stages)


def describe(d: Diagram) -> PublicProcedure:
    """The public description of one version, computed once per content hash."""
    found = _cache.get(d.hash)
    if found is None:
        found = _cache[d.hash] = _describe(d)
    return found


_cache: dict[str, PublicProcedure] = {}


def _describe(d: Diagram) -> PublicProcedure:
    labels = {f.id: f.label for f in d.start_form}
    for step in d.steps.values():
        labels.update({f.id: f.label for f in step.form})
    root = parse_xml(d.xml, d.filename).getroot()
    timers = _timers(root, labels, d.properties)
    distance = _distances(root, d.start_id)
    start_name = d.element_names.get(d.start_id) or "受理"
    groups: dict[str, list[tuple[int, PublicStep]]] = {
        start_name: [(0, PublicStep(start_name, "、".join(d.start_roles) or "—", (), d.start_id))]}
    for step in d.steps.values():
        limits = []
        if step.due and readable_limit(step.due, labels):
            limits.append(readable_limit(step.due, labels))
        if step.properties.get("dueWorkingDays"):
            limits.append(f"{step.properties['dueWorkingDays']} 个工作日")
        limits.extend(timers.get(step.id, ()))
        entry = (distance.get(step.id, 10_000), PublicStep(step.name, "、".join(step.roles), tuple(limits), step.id))
        groups.setdefault(step.stage or "其他", []).append(entry)
    # stages in the order a case meets them: by the median distance of their steps from the start
    ordered = sorted(groups.items(), key=lambda item: sorted(n for n, _ in item[1])[len(item[1]) // 2])
    stages = tuple(PublicStage(name, tuple(s for _, s in sorted(steps, key=lambda e: e[0])))
                   for name, steps in ordered)
    details = tuple((label, d.properties[key]) for key, label in PUBLIC_PROPERTIES if d.properties.get(key))
    return PublicProcedure(d.name, details, stages, d.hash[:12])


def readable_limit(text: str, labels: dict[str, str], properties: dict[str, str] | None = None) -> str:
    """A dueDate or timer as a resident reads it: "P15D" → "15 天", add_workdays(x, 3) → "3 个工作日"
    (the number may be a process property, e.g. publicityDays); "" when it promises no limit. Durations
    are read by `durations.parse`, as the engine reads them."""
    inner = expressions.unwrap(text).strip("'\"")
    duration = durations.parse(inner)
    if duration is not None:
        return duration.readable()
    if durations.meant(inner):
        return ""  # not a duration the engine runs (e.g. "P1W2D"): no limit to promise
    when = _CONDITION.search(inner)
    prefix = f"{when.group(1)}:" if when else ""
    found = _FUNCTION_DAYS.search(inner)
    if found:
        function, since, days = found.groups()
        days = days if days.isdigit() else (properties or {}).get(days, "").strip()
        if not days.isdigit():
            return "视具体事项而定"
        unit = "个工作日" if function == "add_workdays" else "天"
        return f"{prefix}自“{labels.get(since, since)}”起 {days} {unit}"
    if _NAME.match(inner):
        return f"{prefix}按“{labels.get(inner, inner)}”"
    return "视具体事项而定"


def _timers(root: etree._Element, labels: dict[str, str], properties: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Timers on a step's border (e.g. 补办期限届满 after P15D), as "name:limit" per step id."""
    found: dict[str, list[str]] = {}
    for event in root.iter(f"{{{BPMN}}}boundaryEvent"):
        timer = event.find("bpmn:timerEventDefinition", NS)
        if timer is None:
            continue
        for kind in ("timeDuration", "timeDate"):
            node = timer.find(f"bpmn:{kind}", NS)
            limit = (readable_limit(node.text, labels, properties) if node is not None and (node.text or "").strip()
                     else "")
            if limit:
                name = event.get("name") or "期限"
                found.setdefault(event.get("attachedToRef", ""), []).append(f"{name}:{limit}")
    return {k: tuple(v) for k, v in found.items()}


def _distances(root: etree._Element, start_id: str) -> dict[str, int]:
    """Steps from the start event along sequence flows (a border event counts as one step on)."""
    edges: dict[str, list[str]] = {}
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        edges.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    for event in root.iter(f"{{{BPMN}}}boundaryEvent"):
        edges.setdefault(event.get("attachedToRef", ""), []).append(event.get("id", ""))
    distance = {start_id: 0}
    queue = [start_id]
    while queue:
        node = queue.pop(0)
        for target in edges.get(node, ()):
            if target not in distance:
                distance[target] = distance[node] + 1
                queue.append(target)
    return distance
