"""Comparing two versions of a procedure (版本对比): what was added, removed or changed.

The workspace also draws the difference on the diagram with bpmn-js-differ in the browser;
this is the engine's own list, element by element, in the terms a designer edits:
names, lanes, forms, conditions, deadlines, timers and properties.

It compares meaning, not XML: namespace prefixes, attribute order, indentation and line breaks
inside a name (what a modeler rewrites when it saves) do not count; a changed form field names
what changed in it (标签, 类型, 必填, an option …).
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from engine.actor import Actor
from engine.bpmn.diagram import BPMN, CAMUNDA, NS
from engine.bpmn.xmlsafe import parse as parse_xml
from engine.errors import InvalidInput
from engine.store.db import Database

from .workspace import DiagramFile, version_file

KINDS = {"userTask": "用户任务", "manualTask": "人工任务", "task": "任务", "startEvent": "开始事件",
         "endEvent": "结束事件", "exclusiveGateway": "排他网关", "parallelGateway": "并行网关",
         "inclusiveGateway": "包容网关", "eventBasedGateway": "事件网关", "sequenceFlow": "连线",
         "intermediateCatchEvent": "中间事件", "boundaryEvent": "边界事件", "subProcess": "子流程",
         "callActivity": "调用活动", "lane": "泳道", "process": "流程"}
SKIP = {"laneSet", "flowNodeRef", "incoming", "outgoing", "extensionElements", "definitions"}


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    name: str
    kind: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    old: DiagramFile
    new: DiagramFile
    added: tuple[ElementChange, ...]
    removed: tuple[ElementChange, ...]
    changed: tuple[ElementChange, ...]


def _text(el: etree._Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def _plain(text: str | None) -> str:
    return " ".join((text or "").split())


CONSTRAINTS = {"required": "必填", "readonly": "只读", "minlength": "最少字数", "maxlength": "最多字数",
               "min": "最小值", "max": "最大值", "requiredIf": "条件必填", "validIf": "校验条件"}
FIELD_ATTRIBUTES = {"label": "标签", "type": "类型", "defaultValue": "默认值", "datePattern": "日期格式"}


def field_facts(field: etree._Element) -> dict[str, str]:
    """What a form field means — its label, type, default, each constraint, each property and its
    options in order — keyed by the names a designer knows; not how the XML spells it."""
    facts = {}
    for key, value in field.attrib.items():
        local = etree.QName(key).localname
        if local != "id":
            facts[FIELD_ATTRIBUTES.get(local, local)] = _plain(value)
    for c in field.iterfind("./camunda:validation/camunda:constraint", NS):
        name = c.get("name") or ""
        facts[f"约束 {CONSTRAINTS.get(name, name)}"] = _plain(c.get("config")) or "是"
    for p in field.iterfind("./camunda:properties/camunda:property", NS):
        facts[f"属性 {p.get('id') or p.get('name')}"] = _plain(p.get("value"))
    options = [f"{v.get('name') or v.get('id')}" for v in field.iterfind("./camunda:value", NS)]
    if options:
        facts["选项"] = "、".join(options)
    return facts


def _describe(el: etree._Element) -> dict[str, object]:
    """The facts of one element a designer can change, keyed by their Chinese names."""
    facts: dict[str, object] = {"名称": _plain(el.get("name"))}
    for attr in ("candidateGroups", "dueDate", "candidateStarterGroups"):
        facts[attr] = _plain(el.get(f"{{{CAMUNDA}}}{attr}"))
    facts["默认分支"] = el.get("default") or ""
    facts["条件"] = _text(el.find("bpmn:conditionExpression", NS))
    for timer in ("timeDate", "timeDuration", "timeCycle"):
        facts["定时器"] = facts.get("定时器") or _text(el.find(f".//bpmn:{timer}", NS))
    for f in el.iterfind("./bpmn:extensionElements/camunda:formData/camunda:formField", NS):
        facts[f"表单字段 {f.get('id')}"] = field_facts(f)
    for p in el.iterfind("./bpmn:extensionElements/camunda:properties/camunda:property", NS):
        facts[f"属性 {p.get('name')}"] = _plain(p.get("value"))
    return {k: v for k, v in facts.items() if v}


def _elements(xml: bytes) -> dict[str, tuple[str, str, dict[str, str]]]:
    root = parse_xml(xml, "diagram.bpmn").getroot()
    found = {}
    for el in root.iter(f"{{{BPMN}}}*"):
        local = etree.QName(el.tag).localname
        if el.get("id") and local not in SKIP and not local.endswith("EventDefinition") \
                and el.getparent() is not None \
                and etree.QName(el.getparent().tag).localname in ("process", "subProcess", "laneSet", "definitions"):
            found[el.get("id")] = (KINDS.get(local, local), _plain(el.get("name")), _describe(el))
    return found


def _changes(old: dict[str, object], new: dict[str, object]) -> tuple[str, ...]:
    details = []
    for key in sorted(set(old) | set(new)):
        if key.startswith("表单字段"):
            if key not in old:
                details.append(f"新增{key}(“{new[key].get('标签', '')}”)")
            elif key not in new:
                details.append(f"删除{key}(“{old[key].get('标签', '')}”)")
            elif old[key] != new[key]:
                parts = [_change(fact, old[key].get(fact, ""), new[key].get(fact, ""))
                         for fact in sorted(set(old[key]) | set(new[key])) if old[key].get(fact) != new[key].get(fact)]
                details.append(f"修改{key}:{';'.join(parts)}")
        elif old.get(key, "") != new.get(key, ""):
            details.append(_change(key, old.get(key, ""), new.get(key, "")))
    return tuple(details)


def _change(what: str, before: object, after: object) -> str:
    return f"{what}: “{before}” → “{after}”"


def differences(old_xml: bytes, new_xml: bytes) -> tuple[tuple[ElementChange, ...], tuple[ElementChange, ...],
                                                          tuple[ElementChange, ...]]:
    """Added, removed and changed elements between two diagrams, by meaning."""
    before, after = _elements(old_xml), _elements(new_xml)
    added = tuple(ElementChange(i, after[i][1], after[i][0]) for i in after if i not in before)
    removed = tuple(ElementChange(i, before[i][1], before[i][0]) for i in before if i not in after)
    changed = []
    for i in after:
        if i in before:
            details = _changes(before[i][2], after[i][2])
            if details:
                changed.append(ElementChange(i, after[i][1], after[i][0], details))
    return added, removed, tuple(changed)


def compare(db: Database, actor: Actor, old_id: int, new_id: int) -> VersionDiff:
    old, new = version_file(db, actor, old_id), version_file(db, actor, new_id)
    if old.process_id != new.process_id:
        raise InvalidInput("只能对比同一流程的两个版本", {"b": "不是同一流程"})
    return VersionDiff(old, new, *differences(old.xml, new.xml))
