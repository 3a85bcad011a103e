"""What a diagram means, apart from how it is drawn and spelled: the yardstick of the modeler round trip.

Every BPMN element with an id is one entry: its type, where it sits (the nearest ancestor with an id
and the path below it), its attributes and everything inside it that has no id of its own — conditions,
timers, multi-instance definitions, lane members, incoming and outgoing flows, documentation and the
Camunda/Spiff extension elements with their properties, kept in order within each kind of child.
Layout (BPMNDI), namespace prefixes, comments, whitespace around text, the exporting tool's name and an
attribute written at its schema default (`cancelActivity="true"`, which a modeler leaves out) do not count.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from engine.bpmn.diagram import BPMN, REFERENCE_ATTRIBUTES, REFERENCE_ELEMENTS
from engine.bpmn.spiff import SCHEMA_PATH
from engine.bpmn.xmlsafe import parse as parse_xml

XSI = "http://www.w3.org/2001/XMLSchema-instance"
LAYOUT = frozenset({"http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DI",
                    "http://www.omg.org/spec/DD/20100524/DC"})
# readable, file-independent names for the namespaces a diagram of this app uses
PREFIXES = {BPMN: "bpmn", "http://camunda.org/schema/1.0/bpmn": "camunda", XSI: "xsi",
            "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow"}
TOOL_ATTRIBUTES = frozenset({"exporter", "exporterVersion"})


@dataclass(frozen=True)
class Entry:
    """One element with an id, as far as its meaning goes."""

    kind: str
    parent: str
    attributes: tuple[tuple[str, str], ...]
    content: tuple


def meaning(xml: bytes) -> dict[str, Entry]:
    """Every element with an id, by id."""
    root = parse_xml(xml, "diagram.bpmn").getroot()
    found: dict[str, Entry] = {}
    _collect(root, "", found)
    return found


def differences(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """The ids whose meaning differs, each with what it was and what it became (empty when equal)."""
    return [f"{key}: {before.get(key)} → {after.get(key)}"
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


def _name(tag: str) -> str:
    q = etree.QName(tag)
    return f"{PREFIXES.get(q.namespace, q.namespace or '')}:{q.localname}"


def _is_entry(el: etree._Element) -> bool:
    return etree.QName(el).namespace == BPMN and bool(el.get("id"))


def _collect(el: etree._Element, parent: str, found: dict[str, Entry]) -> None:
    if _is_entry(el):
        found[el.get("id")] = Entry(_name(el.tag), parent, _attributes(el), _content(el, el.get("id"), found))
    else:
        _content(el, parent, found)


def _content(el: etree._Element, path: str, found: dict[str, Entry]) -> tuple:
    """What an element holds besides its children with ids (which become entries of their own)."""
    held = []
    for child in el:
        if not isinstance(child.tag, str) or etree.QName(child).namespace in LAYOUT:
            continue  # comments, processing instructions and layout
        if _is_entry(child):
            _collect(child, path, found)
            continue
        inner = _content(child, f"{path}/{etree.QName(child).localname}", found)
        held.append((_name(child.tag), _attributes(child), _text(child), inner))
    return tuple(sorted(held, key=lambda item: item[0]))  # stable: order kept within each kind of child


def _attributes(el: etree._Element) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key, value in el.attrib.items():
        q = etree.QName(key)
        tool = q.localname in TOOL_ATTRIBUTES and etree.QName(el).localname == "definitions"
        if q.namespace is None and (q.localname == "id" or tool):
            continue
        if q.namespace is None and _defaults().get(q.localname) == value.strip():
            continue
        if q.namespace is None and q.localname in REFERENCE_ATTRIBUTES:
            value = value.strip().rpartition(":")[2]
        elif q.namespace == XSI and q.localname == "type":
            value = _qname(el, value)
        name = q.localname if q.namespace is None else _name(key)
        pairs.append((name, value))
    return tuple(sorted(pairs))


def _qname(el: etree._Element, value: str) -> str:
    prefix, _, local = value.strip().rpartition(":")
    namespace = el.nsmap.get(prefix or None)
    return f"{PREFIXES.get(namespace, namespace)}:{local}"


def _text(el: etree._Element) -> str:
    text = (el.text or "").strip()
    if etree.QName(el).namespace == BPMN and etree.QName(el).localname in REFERENCE_ELEMENTS:
        text = text.rpartition(":")[2]
    return text


@cache
def _defaults() -> dict[str, str]:
    """The BPMN schema's attribute defaults, where a name has one default whatever element carries it."""
    found: dict[str, set[str]] = {}
    for xsd in SCHEMA_PATH.parent.glob("*.xsd"):
        for attribute in etree.parse(str(xsd)).iter("{http://www.w3.org/2001/XMLSchema}attribute"):
            if attribute.get("default") is not None:
                found.setdefault(attribute.get("name"), set()).add(attribute.get("default"))
    return {name: values.pop() for name, values in found.items() if len(values) == 1}
