"""Diagrams from other modelling tools: what they write differently, made readable here.

BPMN 2.0 types some references as QNames, so a tool may write `bpmnElement="bpmn2:Task_1"`
(GenMyModel does, for every shape) where bpmn.io and SpiffWorkflow expect the plain id
`Task_1`. The modeler would open such a file blank and deploying would keep a drawing no
one can see; so a file from outside is normalised before anything reads it, and a drawing
reference that still points nowhere is a problem named at its line (never dropped silently).
"""
from __future__ import annotations

from lxml import etree

from engine.errors import DiagramInvalid

from .xmlsafe import parse as parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
# Attributes the BPMN 2.0 schema types as xsd:QName: references that may carry a prefix.
QNAME_REFERENCES = frozenset({
    "bpmnElement", "sourceElement", "targetElement", "labelStyle",  # BPMNDI
    "attachedToRef", "calledElement", "processRef", "messageRef", "errorRef", "signalRef", "escalationRef",
    "itemSubjectRef", "structureRef", "dataStoreRef", "operationRef", "interfaceRef", "inMessageRef",
    "outMessageRef", "activityRef", "categoryValueRef", "definitionalCollaborationRef", "calledCollaborationRef",
    "partnerRoleRef", "partnerEntityRef", "messageFlowRef", "correlationKeyRef", "correlationPropertyRef",
    "sourceRef", "targetRef",  # QNames on messageFlow and association (IDREFs elsewhere, never prefixed)
})
# What each drawing reference must point at, as a designer reads it.
# (A label style that is missing only loses a font, so `labelStyle` is normalised but not checked.)
DRAWING_REFERENCES = {"bpmnElement": "所画的元素", "sourceElement": "连线起点的图形", "targetElement": "连线终点的图形"}
_DI_TAGS = {f"{{{BPMNDI}}}{t}" for t in ("BPMNPlane", "BPMNShape", "BPMNEdge", "BPMNLabel")}


def normalise(xml: bytes, filename: str = "diagram.bpmn") -> bytes:
    """The file with every prefixed reference to an element of this file written as its plain id
    (`bpmn2:Task_1` → `Task_1`), in UTF-8 (whatever encoding the tool declared). Unchanged bytes when
    there is nothing to rewrite, so the content hash of an ordinary file stays what it was. Malformed XML
    is returned as it came, for the validation that follows to report."""
    try:
        tree = parse_xml(xml, filename)
    except DiagramInvalid:
        return xml
    ids = _ids(tree.getroot())
    changed = False
    for el in tree.getroot().iter():
        if not isinstance(el.tag, str):
            continue
        for attr in QNAME_REFERENCES.intersection(el.attrib):
            plain = _plain(el, el.get(attr), ids)
            if plain is not None:
                el.set(attr, plain)
                changed = True
    if not changed and (tree.docinfo.encoding or "UTF-8").upper().replace("-", "") == "UTF8":
        return xml
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _ids(root: etree._Element) -> set[str]:
    return {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def _plain(el: etree._Element, value: str | None, ids: set[str]) -> str | None:
    """The plain id a prefixed reference means, if the prefix is declared and the id is in this file."""
    if not value or ":" not in value or value in ids:
        return None
    prefix, local = value.split(":", 1)
    if prefix in el.nsmap and local in ids:
        return local
    return None


def drawing_problems(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Drawing (BPMNDI) references that point at nothing in this file: (DI element, message).
    Such a shape would be missing from the modeler and from the auditor's diagram."""
    ids = _ids(root)
    found = []
    for el in root.iter(*_DI_TAGS):
        for attr, what in DRAWING_REFERENCES.items():
            value = el.get(attr)
            if value is None or value in ids:
                continue
            hint = "(写成了带前缀的引用;请直接写元素 id)" if ":" in value else ""
            found.append((el, f"图形引用的{what} “{value}” 在文件中不存在{hint}:这部分图形无法显示"))
    return found
