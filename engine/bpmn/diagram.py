"""Loading and validating a BPMN diagram: everything `minyi validate` and deploy check.

A `Diagram` is immutable and cached by the content hash of its XML, so a running
case is always executed by the exact version it started on.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree

from engine.errors import DiagramInvalid, ExpressionError, Problem

from . import budget, durations, expressions, foreign, forms, messages, sitecheck, sites, spiff
from .xmlsafe import parse as parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = forms.CAMUNDA
NS = {"bpmn": BPMN, "camunda": CAMUNDA}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# Elements the engine refuses, with the reason a designer reads.
REFUSED = {
    "scriptTask": "脚本任务(scriptTask)不允许:流程图中不能运行代码,请改用用户任务和条件",
    "serviceTask": "服务任务(serviceTask)暂不支持:本系统不调用外部服务",
    "businessRuleTask": "业务规则任务(businessRuleTask/DMN)暂不支持",
    "sendTask": "发送任务(sendTask)暂不支持",
    "receiveTask": "接收任务(receiveTask)暂不支持",
    "complexGateway": "复杂网关(complexGateway)暂不支持",
    "transaction": "事务子流程(transaction)暂不支持",
    "adHocSubProcess": "自由子流程(adHocSubProcess)暂不支持",
    "script": "脚本(script)不允许:流程图中不能运行代码",
    "dataStoreReference": "数据存储(dataStoreReference)暂不支持:事项数据都保存在表单字段中",
}
# Extension elements that would run code or call out in the engine that reads them; refused by
# namespace and name, so another tool's element of the same name (ADONIS writes `adonis:connector`
# metadata on every flow) is left alone. Camunda 7 also reads its old Activiti namespace.
ACTIVITI = "http://activiti.org/bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_CAMUNDA_EXTENSIONS = {
    "executionListener": "执行监听器(camunda:executionListener)不允许:流程图中不能运行代码",
    "taskListener": "任务监听器(camunda:taskListener)不允许:流程图中不能运行代码",
    "script": "脚本(camunda:script)不允许:流程图中不能运行代码",
    "connector": "连接器(camunda:connector)暂不支持",
    "inputOutput": "输入输出映射(camunda:inputOutput)暂不支持,请直接使用表单字段名",
}
REFUSED_EXTENSIONS = {
    **{f"{{{ns}}}{local}": why for ns in (CAMUNDA, ACTIVITI) for local, why in _CAMUNDA_EXTENSIONS.items()},
    f"{{{SPIFF}}}preScript": "前置脚本(spiffworkflow:preScript)不允许:流程图中不能运行代码",
    f"{{{SPIFF}}}postScript": "后置脚本(spiffworkflow:postScript)不允许:流程图中不能运行代码",
}
# Steps people do: SpiffWorkflow waits for a person at a plain task too (one drawn without a type,
# as most other tools' exports are), so it needs a role like a user task.
HUMAN_TAGS = {"userTask": "用户任务", "manualTask": "手工任务", "task": "任务"}
_XSD_PATH = spiff.SCHEMA_PATH
_xsd_lock = threading.Lock()
_xsd: etree.XMLSchema | None = None


@dataclass(frozen=True)
class HumanStep:
    """A user task as the task list sees it (人工步骤)."""

    id: str
    name: str
    lane: str
    roles: tuple[str, ...]
    form: tuple[forms.FormField, ...]
    due: str | None
    properties: dict[str, str]
    line: int | None
    assignee: str | None = None

    @property
    def same_assignee_as(self) -> tuple[str, ...]:
        """`sameAssigneeAs`: steps whose last completer does this step too (反馈答复 by who did 办理)."""
        return _split(self.properties.get("sameAssigneeAs"))

    @property
    def stage(self) -> str:
        return self.properties.get("stage", "")


@dataclass(frozen=True)
class Diagram:
    """One deployed (or deployable) version of a procedure."""

    process_id: str
    name: str
    hash: str
    xml: bytes
    filename: str
    properties: dict[str, str]
    start_roles: tuple[str, ...]
    start_id: str
    start_form: tuple[forms.FormField, ...]
    steps: dict[str, HumanStep]
    element_names: dict[str, str]
    lanes: tuple[str, ...]
    engine: Any = field(repr=False, compare=False)

    @property
    def roles(self) -> set[str]:
        found = set(self.start_roles)
        for step in self.steps.values():
            found.update(step.roles)
        return found


def content_hash(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def _schema() -> etree.XMLSchema:
    global _xsd
    with _xsd_lock:
        if _xsd is None:
            _xsd = etree.XMLSchema(etree.parse(str(_XSD_PATH)))
        return _xsd


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").replace(",", ",").split(",") if v.strip())


def _properties(element: etree._Element) -> dict[str, str]:
    return {
        (p.get("name") or p.get("id") or ""): p.get("value") or ""
        for p in element.iterfind("./bpmn:extensionElements/camunda:properties/camunda:property", NS)
    }


class _Checker:
    """Collects every problem of one file instead of stopping at the first."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, element: etree._Element | None, message: str, line: int | None = None) -> None:
        el_id = element.get("id", "") if element is not None else ""
        name = element.get("name", "") if element is not None else ""
        line = line or (element.sourceline if element is not None else None)
        self.problems.append(Problem(self.filename, el_id, name, line, message))

    def expression(self, element: etree._Element, text: str | None, what: str, line: int | None = None) -> None:
        if text is None:
            return
        try:
            expressions.check(text)
        except ExpressionError as exc:
            self.add(element, f"{what}无效: {exc.message}", line)


def _owner(node: etree._Element) -> etree._Element:
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node


def _check_schema(tree: etree._ElementTree, c: _Checker) -> None:
    schema = _schema()
    if schema.validate(tree):
        return
    by_line: dict[int, etree._Element] = {}
    for el in tree.iter():
        if isinstance(el.tag, str) and el.sourceline not in by_line:
            by_line[el.sourceline] = el
    for err in list(schema.error_log)[:20]:
        el = by_line.get(err.line)
        c.add(_owner(el) if el is not None else None, f"不符合 BPMN 2.0 规范(XSD): {messages.schema(err.message)}",
              err.line)


def _executable_process(root: etree._Element, c: _Checker) -> etree._Element | None:
    processes = root.findall("bpmn:process", NS)
    called = {a.get("calledElement") for a in root.iter(f"{{{BPMN}}}callActivity")}
    executable = [p for p in processes if p.get("isExecutable", "false").lower() == "true"]
    if not executable and len(processes) == 1:
        executable = processes
        if processes[0].get("isExecutable", "").strip().lower() == "false":
            _marked_not_executable(processes[0], c)
    if len(executable) > 1:
        executable = [p for p in executable if p.get("id") not in called] or executable
    if not executable:
        _no_executable_process(root, processes, c)
        return None
    if len(executable) > 1:
        ids = "、".join(p.get("id", "?") for p in executable)
        c.add(executable[1], f"文件中有多个可执行流程({ids});每个文件只能有一个主流程")
        return None
    return executable[0]


def _marked_not_executable(process: etree._Element, c: _Checker) -> None:
    """Said here, with the diagram's other problems, rather than by SpiffWorkflow once they are fixed."""
    c.add(process, messages.library(f"Process {process.get('id')} is not executable."))


def _no_executable_process(root: etree._Element, processes: list[etree._Element], c: _Checker) -> None:
    """Say which processes the file has, at the first of them (or at the root when it has none)."""
    if not processes:
        c.add(root, "文件中没有流程(bpmn:process):只有协作图或其他内容的文件不能运行")
        return
    ids = "、".join(p.get("id", "?") for p in processes)
    c.add(processes[0], f"文件中有 {len(processes)} 个流程({ids}),但没有一个标记为可执行:请把要运行的那个流程"
                        "标记为可执行(isExecutable=\"true\")")


def _lanes(process: etree._Element) -> dict[str, str]:
    lanes: dict[str, str] = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if ref.text:
                lanes[ref.text.strip()] = (lane.get("name") or lane.get("id") or "").strip()
    return lanes


def _check_elements(root: etree._Element, c: _Checker) -> None:
    for el in root.iter():
        local = _local(el.tag)
        ns = etree.QName(el.tag).namespace if isinstance(el.tag, str) else None
        if ns == BPMN and local in REFUSED:
            c.add(_owner(el), REFUSED[local])
        elif el.tag in REFUSED_EXTENSIONS:
            c.add(_owner(el), REFUSED_EXTENSIONS[el.tag])
    for flow in sitecheck.expression_elements(root):
        if flow.get("language") and flow.get("language").lower() not in ("", "python", "simple"):
            c.add(_owner(flow), f"表达式语言 “{flow.get('language')}” 不受支持")
            continue
        what = sites.ELEMENTS[sitecheck.site(flow)]
        if (flow.text or "").strip():
            c.expression(_owner(flow), flow.text, what, flow.sourceline)
        else:
            c.add(_owner(flow), f"{what}表达式为空")


# References by id (IDREF and QName in the BPMN schema), as attributes and as element text. A modeler
# (bpmn-moddle) drops a reference that names nothing in the file when it saves, so the meaning changes.
REFERENCE_ATTRIBUTES = frozenset({
    "sourceRef", "targetRef", "default", "attachedToRef", "processRef", "messageRef", "signalRef",
    "errorRef", "escalationRef", "activityRef", "dataObjectRef", "dataStoreRef", "itemSubjectRef",
    "itemRef",
})  # the drawing's references (bpmnElement, sourceElement, targetElement) are checked by `_check_drawing`
REFERENCE_ELEMENTS = frozenset({
    "flowNodeRef", "incoming", "outgoing", "sourceRef", "targetRef", "loopDataInputRef",
    "loopDataOutputRef", "dataInputRefs", "dataOutputRefs", "optionalInputRefs", "optionalOutputRefs",
    "whileExecutingInputRefs", "whileExecutingOutputRefs", "inputSetRefs", "outputSetRefs",
    "eventDefinitionRef", "correlationPropertyRef", "categoryValueRef", "supportedInterfaceRef",
    "interfaceRef", "messageFlowRef", "participantRef", "source", "target",
})
_MODEL_NAMESPACES = frozenset({
    BPMN, "http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
})
_DECLARE = "请在流程中声明同名的数据属性 <bpmn:property id=\"{ref}\" name=\"{ref}\" />"
_MULTI_INSTANCE_HINT = {
    "loopDataInputRef": "若要按事项数据逐项进行," + _DECLARE,
    "loopDataOutputRef": "若要把各项结果收集到事项数据中," + _DECLARE,
}


def _check_references(root: etree._Element, c: _Checker) -> None:
    """Every reference by id must name an element of the file: a modeler drops one that does not
    when it saves (bpmn-moddle: "unresolved reference"), and the saved diagram means something else."""
    ids = {el.get("id") for el in root.iter()
           if isinstance(el.tag, str) and etree.QName(el).namespace in _MODEL_NAMESPACES and el.get("id")}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).namespace not in _MODEL_NAMESPACES:
            continue
        for attribute in REFERENCE_ATTRIBUTES.intersection(el.attrib):
            _check_reference(el, attribute, el.get(attribute), ids, c, el)
        if etree.QName(el).namespace == BPMN and _local(el.tag) in REFERENCE_ELEMENTS and len(el) == 0:
            _check_reference(el, _local(el.tag), el.text, ids, c, _owner(el.getparent()))


def _check_reference(el: etree._Element, what: str, value: str | None, ids: set[str], c: _Checker,
                     owner: etree._Element) -> None:
    ref = (value or "").strip().rpartition(":")[2]  # a QName's prefix says nothing about the id
    if ref in ids:
        return
    if not ref:
        c.add(owner, f"引用({what})为空:应填写文件中某个元素的 id", el.sourceline)
        return
    hint = _MULTI_INSTANCE_HINT.get(what, "请改为文件中已有元素的 id,或删除这个引用").format(ref=ref)
    c.add(owner, f"引用 “{ref}”({what})无法解析:文件中没有 id 为 “{ref}” 的元素,"
                 f"建模器保存时会丢掉这个引用。{hint}", el.sourceline)


def _check_quoted_durations(root: etree._Element, c: _Checker) -> None:
    """A deadline or timer written as a quoted duration ("P1W2D") is a string to the expression checker;
    the engine would read it with `durations.parse` and refuse it only when the step runs."""
    texts = [(_owner(t), t.text, "定时器", t.sourceline)  # a dueDate's constant value: `sitecheck`
             for t in root.iter(f"{{{BPMN}}}timeDuration", f"{{{BPMN}}}timeCycle") if t.text]
    for el, text, what, line in texts:
        inner = expressions.unwrap(text).strip("'\"")
        if inner != expressions.unwrap(text) and durations.meant(inner) and not expressions.is_iso_literal(inner):
            c.add(el, f"{what}无效: {durations.problem(inner)}", line)


def _check_drawing(root: etree._Element, c: _Checker) -> None:
    for element, message in foreign.drawing_problems(root):
        c.add(_owner(element), message, element.sourceline)


def _check_reserved_ids(process: etree._Element, c: _Checker) -> None:
    reserved = {"Start", "End", f"{process.get('id')}.EndJoin"}
    for el in process.iter(f"{{{BPMN}}}*"):
        if el.get("id") in reserved:
            c.add(el, f"元素 id “{el.get('id')}” 是引擎保留名称,请改用其他 id(例如 {el.get('id')}Event_1)")


def _check_gateways(process: etree._Element, c: _Checker) -> None:
    flows = {f.get("id"): f for f in process.iter(f"{{{BPMN}}}sequenceFlow")}
    for gw in process.iter(f"{{{BPMN}}}exclusiveGateway", f"{{{BPMN}}}inclusiveGateway"):
        outgoing = [f for f in flows.values() if f.get("sourceRef") == gw.get("id")]
        if len(outgoing) < 2:
            continue
        for f in outgoing:
            if f.get("id") != gw.get("default") and f.find("bpmn:conditionExpression", NS) is None:
                c.add(f, f"网关 “{gw.get('name') or gw.get('id')}” 的分支没有条件,也不是默认分支")


def _human_steps(process: etree._Element, lanes: dict[str, str], c: _Checker) -> dict[str, HumanStep]:
    steps: dict[str, HumanStep] = {}
    for el in process.iter(*(f"{{{BPMN}}}{t}" for t in HUMAN_TAGS)):
        el_id = el.get("id", "")
        groups = _split(el.get(f"{{{CAMUNDA}}}candidateGroups"))
        lane = lanes.get(el_id, "")
        roles = groups or ((lane,) if lane else ())
        if not roles:
            c.add(el, f"{HUMAN_TAGS[_local(el.tag)]}没有负责角色:请把它放进一个泳道,或填写 candidateGroups")
        form, problems = forms.parse_form(el)
        for _field, line, msg in problems:
            c.add(el, msg, line)
        due = el.get(f"{{{CAMUNDA}}}dueDate")
        properties = _properties(el)
        sitecheck.step_expressions(el, properties, c)
        _check_deadline_properties(el, properties, c)
        assignee = el.get(f"{{{CAMUNDA}}}assignee")
        steps[el_id] = HumanStep(el_id, el.get("name") or el_id, lane, roles, form, due, properties, el.sourceline,
                                 assignee)
    _check_same_assignee(process, steps, c)
    _check_unit_field(process, steps, c)
    return steps


def _check_unit_field(process: etree._Element, steps: dict[str, HumanStep], c: _Checker) -> None:
    """`unitField` names a form field of this diagram or a multi-instance item (the department of one 报到)."""
    known = {f.get("id") for f in process.iter(f"{{{CAMUNDA}}}formField")} | \
            {i.get("name") or i.get("id") for i in process.iter(f"{{{BPMN}}}inputDataItem")}
    for step in steps.values():
        field = step.properties.get("unitField")
        if field is not None and field.strip() not in known:
            element = next(el for el in process.iter() if el.get("id") == step.id)
            c.add(element, f"属性 unitField 引用了流程图中没有的字段 “{field}”:请写一个单位字段或多实例元素变量的编号")


def _check_same_assignee(process: etree._Element, steps: dict[str, HumanStep], c: _Checker) -> None:
    """`sameAssigneeAs` names human steps of this diagram that share a role with the step."""
    for step in steps.values():
        for other in step.same_assignee_as:
            element = next((el for el in process.iter() if el.get("id") == step.id), None)
            if other not in steps:
                c.add(element, f"属性 sameAssigneeAs 引用的 “{other}” 不是本流程中由人办理的步骤")
            elif not set(steps[other].roles) & set(step.roles):
                c.add(element, f"属性 sameAssigneeAs 引用的步骤 “{other}” 与本步骤没有共同的办理角色,"
                               "其办理人不能办理本步骤")


def _check_deadline_properties(el: etree._Element, properties: dict[str, str], c: _Checker) -> None:
    days = properties.get("dueWorkingDays")
    if days is not None and not (days.strip().isdigit() and 0 < int(days) <= 365):
        c.add(el, f"办理期限工作日数(dueWorkingDays)应为 1–365 的整数,而不是 “{days}”")
    lead = properties.get("remindBefore")
    if lead is not None and durations.lead_time(lead) is None:
        c.add(el, f"提前提醒时间(remindBefore)应为 ISO 时长,例如 P1D 或 PT4H,而不是 “{lead}”")


def _date_limits(process: etree._Element, steps: dict[str, HumanStep], start_id: str,
                 start_form: tuple[forms.FormField, ...], c: _Checker
                 ) -> tuple[dict[str, HumanStep], tuple[forms.FormField, ...]]:
    """A date field's min/max naming another field must name a date field of this diagram; the forms
    then carry that field's label, so a message says “不能早于“受理日期”” rather than an id."""
    forms_by_owner = {start_id: start_form, **{sid: s.form for sid, s in steps.items()}}
    dates = {f.id: f.label for form in forms_by_owner.values() for f in form if f.type == "date"}
    every = {f.id for form in forms_by_owner.values() for f in form}
    for owner, form in forms_by_owner.items():
        element = next((el for el in process.iter() if el.get("id") == owner), None) if owner else None
        for f in form:
            for ref in forms.limit_fields(f):
                if ref not in every:
                    c.add(element, f"日期字段 “{f.id}” 的 min/max 引用了流程图中没有的字段 “{ref}”", f.line)
                elif ref not in dates:
                    c.add(element, f"日期字段 “{f.id}” 的 min/max 引用的字段 “{ref}” 不是日期字段", f.line)
    labelled = {sid: replace(s, form=forms.with_limit_labels(s.form, dates)) for sid, s in steps.items()}
    return labelled, forms.with_limit_labels(start_form, dates)


def _start_form(process: etree._Element, c: _Checker) -> tuple[str, tuple[forms.FormField, ...]]:
    starts = [s for s in process.findall("bpmn:startEvent", NS)
              if not any(_local(ch.tag).endswith("EventDefinition") for ch in s.iterchildren(f"{{{BPMN}}}*"))]
    starts = starts or process.findall("bpmn:startEvent", NS)
    if not starts:
        c.add(process, "流程没有开始事件(startEvent)")
        return "", ()
    form, problems = forms.parse_form(starts[0])
    for _field, line, msg in problems:
        c.add(starts[0], msg, line)
    return starts[0].get("id", ""), form


def inspect(xml: bytes, filename: str) -> Diagram:
    """Validate and build a diagram; raise DiagramInvalid listing every problem."""
    with budget.validating():
        return _inspect(xml, filename)


def _inspect(xml: bytes, filename: str) -> Diagram:
    tree = parse_xml(xml, filename)
    root = tree.getroot()
    c = _Checker(filename)
    if root.tag != f"{{{BPMN}}}definitions":
        c.add(None, "不是 BPMN 2.0 文件(根元素应为 bpmn:definitions)", root.sourceline)
        raise DiagramInvalid(c.problems)
    _check_schema(tree, c)
    _check_elements(root, c)
    _check_references(root, c)
    _check_quoted_durations(root, c)
    _check_drawing(root, c)
    process = _executable_process(root, c)
    if process is None:
        raise DiagramInvalid(c.problems)
    lanes = _lanes(process)
    _check_reserved_ids(process, c)
    _check_gateways(process, c)
    steps = _human_steps(process, lanes, c)
    start_id, start_form = _start_form(process, c)
    steps, start_form = _date_limits(process, steps, start_id, start_form, c)
    sitecheck.unknown_names(root, process, _properties(process), steps.values(), start_id, start_form, c)
    if c.problems:
        raise DiagramInvalid(c.problems)
    properties = _properties(process)
    _check_deadline_properties(process, properties, c)
    engine = spiff.build(tree, filename, process.get("id"), properties, c)
    if c.problems:
        raise DiagramInvalid(c.problems)
    names = {el.get("id"): el.get("name") or "" for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    start_roles = _split(process.get(f"{{{CAMUNDA}}}candidateStarterGroups"))
    return Diagram(
        process_id=process.get("id"), name=process.get("name") or process.get("id"),
        hash=content_hash(xml), xml=xml, filename=filename, properties=properties,
        start_roles=start_roles, start_id=start_id, start_form=start_form, steps=steps, element_names=names,
        lanes=tuple(dict.fromkeys(lanes.values())), engine=engine,
    )


def problems_of(xml: bytes, filename: str) -> list[Problem]:
    """Every problem of a diagram, or [] when it is deployable. Never raises."""
    try:
        inspect(xml, filename)
    except DiagramInvalid as exc:
        return exc.problems
    return []


_cache: dict[str, Diagram] = {}
_cache_lock = threading.Lock()


def cached(digest: str) -> Diagram | None:
    """The diagram with this content hash, if this process has parsed it already."""
    return _cache.get(digest)


def load(xml: bytes, filename: str = "diagram.bpmn") -> Diagram:
    """A diagram by content, parsed once per process lifetime."""
    key = content_hash(xml)
    found = _cache.get(key)
    if found is None:
        found = inspect(xml, filename)
        with _cache_lock:
            _cache[key] = found
    return found
