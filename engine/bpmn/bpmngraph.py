"""The drawn graph of a diagram version: nodes, sequence flows with their conditions, and the
BPMNDI layout (shapes and edge waypoints). Read by the trace (highlighting) and by the
recording of gateway decisions; parsed once per version hash.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

from .diagram import Diagram
from .xmlsafe import parse as parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI}
DRAWN = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
         "userTask", "manualTask", "task", "subProcess", "callActivity", "exclusiveGateway",
         "inclusiveGateway", "parallelGateway", "eventBasedGateway", "lane", "participant",
         "textAnnotation", "group"}


@dataclass(frozen=True)
class Flow:
    """A sequence flow (顺序流) and the condition that lets a token pass it."""

    id: str
    name: str
    source: str
    target: str
    condition: str
    is_default: bool


@dataclass(frozen=True)
class Node:
    id: str
    type: str  # BPMN element local name: userTask, exclusiveGateway, …
    name: str
    timer: bool = False
    lane: str = ""


@dataclass(frozen=True)
class Shape:
    element_id: str
    type: str
    name: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Edge:
    flow_id: str
    name: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Graph:
    nodes: dict[str, Node]
    flows: dict[str, Flow]
    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]

    def outgoing(self, node_id: str) -> list[Flow]:
        return [f for f in self.flows.values() if f.source == node_id]

    def flow_between(self, source: str, target: str) -> Flow | None:
        for flow in self.flows.values():
            if flow.source == source and flow.target == target:
                return flow
        return None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, width, height) of everything drawn, with a margin."""
        xs = [s.x for s in self.shapes] + [p[0] for e in self.edges for p in e.points]
        ys = [s.y for s in self.shapes] + [p[1] for e in self.edges for p in e.points]
        x2 = [s.x + s.width for s in self.shapes] + xs
        y2 = [s.y + s.height for s in self.shapes] + ys
        if not xs:
            return (0, 0, 100, 100)
        return (min(xs) - 10, min(ys) - 10, max(x2) - min(xs) + 20, max(y2) - min(ys) + 20)


_cache: dict[str, Graph] = {}
_lock = threading.Lock()


def graph_of(d: Diagram) -> Graph:
    """The graph of a diagram version, parsed once per process."""
    found = _cache.get(d.hash)
    if found is None:
        found = parse(d.xml, d.filename)
        with _lock:
            _cache[d.hash] = found
    return found


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _plain(ref: str | None, known: dict) -> str | None:
    """A drawing reference as an id: versions deployed before uploads were normalised (engine/bpmn/foreign.py)
    may still say `bpmn2:Task_1`, and the auditor's diagram should show them all the same."""
    if ref and ref not in known and ":" in ref:
        return ref.split(":", 1)[1]
    return ref


def parse(xml: bytes, filename: str = "diagram.bpmn") -> Graph:
    """The graph of one diagram: its nodes and flows from the process, its shapes and edges from the
    BPMNDI layout (a shape or edge of an element the graph does not hold is left out)."""
    root = parse_xml(xml, filename).getroot()
    nodes, flows = _nodes_and_flows(root)
    shapes = sorted(_shapes(root, nodes), key=lambda s: _LAYER.get(s.type, 2))
    return Graph(nodes, flows, tuple(shapes), tuple(_edges(root, flows)))


# Pools and lanes are drawn first, under everything else.
_LAYER = {"participant": 0, "lane": 1, "group": 2, "textAnnotation": 2}


def _nodes_and_flows(root: etree._Element) -> tuple[dict[str, Node], dict[str, Flow]]:
    """Every drawn BPMN element (`DRAWN`) with an id, with the lane it sits in, and every sequence flow."""
    defaults = {el.get("default") for el in root.iter() if isinstance(el.tag, str) and el.get("default")}
    lanes = _lanes(root)
    nodes: dict[str, Node] = {}
    flows: dict[str, Flow] = {}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el.tag).namespace != BPMN:
            continue
        local, el_id = _local(el.tag), el.get("id")
        if local == "sequenceFlow":
            flows[el_id] = _flow(el, el_id in defaults)
        elif local in DRAWN and el_id:
            timer = el.find("bpmn:timerEventDefinition", NS) is not None
            nodes[el_id] = Node(el_id, local, el.get("name") or "", timer, lanes.get(el_id, ""))
    return nodes, flows


def _lanes(root: etree._Element) -> dict[str, str]:
    """Element id → the name (else the id) of the lane that lists it."""
    return {ref.text.strip(): lane.get("name") or lane.get("id") or ""
            for lane in root.iter(f"{{{BPMN}}}lane") for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}


def _flow(el: etree._Element, is_default: bool) -> Flow:
    cond = el.find("bpmn:conditionExpression", NS)
    condition = (cond.text or "").strip() if cond is not None else ""
    return Flow(el.get("id"), el.get("name") or "", el.get("sourceRef"), el.get("targetRef"), condition, is_default)


def _shapes(root: etree._Element, nodes: dict[str, Node]) -> list[Shape]:
    """The layout's shapes of known nodes that have bounds, in document order."""
    shapes = []
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        ref = _plain(shape.get("bpmnElement"), nodes)
        box = shape.find("dc:Bounds", NS)
        if ref not in nodes or box is None:
            continue
        node = nodes[ref]
        shapes.append(Shape(ref, node.type, node.name, *(float(box.get(k, 0)) for k in ("x", "y", "width", "height"))))
    return shapes


def _edges(root: etree._Element, flows: dict[str, Flow]) -> list[Edge]:
    """The layout's edges of known sequence flows, with their waypoints."""
    edges = []
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        ref = _plain(edge.get("bpmnElement"), flows)
        if ref not in flows:
            continue
        points = tuple((float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.iterfind("di:waypoint", NS))
        edges.append(Edge(ref, flows[ref].name, points))
    return edges
