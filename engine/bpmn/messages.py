"""The one place where the libraries' English becomes what a designer reads.

SpiffWorkflow (parsing and running a diagram), libxml2 (XML syntax), the BPMN 2.0 schema
check (XSD) and Python computing a designer's expression all speak English. Every message of
theirs that can reach a user passes through here and comes out in Chinese; the caller adds the
element id and line. A message this table does not know still comes out in Chinese (a general
sentence) and its original text is logged for whoever keeps this table, so nothing English reaches
the page.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)

_PREFIXES = {
    "http://www.omg.org/spec/BPMN/20100524/MODEL": "bpmn",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}
_QNAME = re.compile(r"\{([^}]*)\}([\w.-]+)")


def short(name: str) -> str:
    """`{http://www.omg.org/spec/BPMN/20100524/MODEL}task` → `bpmn:task` (other namespaces kept whole)."""
    def one(m: re.Match) -> str:
        prefix = _PREFIXES.get(m.group(1))
        return f"{prefix}:{m.group(2)}" if prefix else m.group(0)
    return _QNAME.sub(one, name)


def _expected(text: str) -> str:
    names = [short(n.strip()) for n in text.split(",") if n.strip()]
    return "、".join(names[:8]) + (" 等" if len(names) > 8 else "")


_TYPES = {
    "xs:ID": "标识符(ID:以字母或下划线开头,不含空格和冒号,且在文件中唯一)",
    "xs:IDREF": "对本文件中某个元素 id 的引用",
    "xs:QName": "限定名(可带已声明的命名空间前缀)",
    "xs:boolean": "布尔值(true 或 false)",
    "xs:integer": "整数",
    "xs:int": "整数",
    "xs:double": "数字",
    "xs:anyURI": "URI 地址",
}


def _type(name: str) -> str:
    return _TYPES.get(name, name)


Rule = tuple[re.Pattern, Callable[[re.Match], str]]


def _rules(*pairs: tuple[str, Callable[[re.Match], str]]) -> list[Rule]:
    return [(re.compile(pattern, re.S), make) for pattern, make in pairs]


# --- SpiffWorkflow: parsing (ValidationException) and running (WorkflowException) ---------

_SPIFF = _rules(
    (r"^Process (?P<id>\S+) is not executable\.?",
     lambda m: f"流程 “{m['id']}” 标记为不可执行(isExecutable=\"false\"):要在本系统运行,请在流程属性中勾选“可执行”"
               "(isExecutable=\"true\")"),
    (r"^Exactly one start event is required in a SubWorkflow Task; found (?P<n>\d+)",
     lambda m: f"子流程必须有且只有一个开始事件(startEvent),这里有 {m['n']} 个"),
    (r"^A SubWorkflow Must contain an End event",
     lambda m: "子流程必须至少有一个结束事件(endEvent)"),
    (r"^No start event found", lambda m: "流程没有开始事件(startEvent)"),
    (r"^There is no support implemented for this task type",
     lambda m: "流程引擎不支持这种元素,请改用用户任务、网关或事件"),
    (r"^A multiinstance task must specify a cardinality or a (?:loop input data reference|collection)",
     lambda m: "多实例任务须填写循环次数(loopCardinality)或要逐项处理的列表(loopDataInputRef)"),
    (r"^A multiinstance task must specify exactly one of cardinality or loop input data reference",
     lambda m: "多实例任务只能填写循环次数(loopCardinality)和列表(loopDataInputRef)之一,不能两个都填"),
    (r"^The loop (?P<what>input|output) data reference is missing from the IO specification",
     lambda m: f"多实例任务的{'输入' if m['what'] == 'input' else '输出'}列表"
               "没有在该任务的数据输入输出(ioSpecification)中声明"),
    (r"^A loopMaximum or loopCondition must be specified for Loop Tasks",
     lambda m: "循环任务须填写最大次数(loopMaximum)或循环条件(loopCondition)"),
    (r"^Multiple outgoing flows are not supported for tasks of type",
     lambda m: "这种元素只能有一条流出的顺序流"),
    (r"^When looking for a task spec, we found two items.*\((?P<id>[^)]*)\)",
     lambda m: f"id “{m['id']}” 被多个元素使用:每个元素的 id 必须唯一"),
    (r"^Cancel Events may only be used with transactions",
     lambda m: "取消事件只能用在事务子流程中,而事务子流程暂不支持"),
    (r"^Non-default exclusive outgoing sequence flow without condition",
     lambda m: "网关的分支没有条件,也不是默认分支"),
    (r"^Conditional event definition with missing condition", lambda m: "条件事件没有填写条件"),
    (r"^Expected an? (?:e|E)rror node", lambda m: "错误事件引用的错误(bpmn:error)不存在"),
    (r"^Expected an Escalation node", lambda m: "升级事件引用的升级(bpmn:escalation)不存在"),
    (r"^Expected a Message node", lambda m: "消息事件引用的消息(bpmn:message)不存在"),
    (r"^Expected a Signal node", lambda m: "信号事件引用的信号(bpmn:signal)不存在"),
    (r"^(?:Message|Signal|Error|Escalation|Correlation|Data Store) identifier is missing from bpmn xml",
     lambda m: "消息、信号、错误、升级或数据存储定义缺少 id"),
    (r"^Could not find messageRef from message event definition: (?P<id>\S*)",
     lambda m: f"消息事件引用的消息 “{m['id']}” 不存在"),
    (r"^Cannot resolve data(?P<what>Input|Output)Association (?P<id>\S*)",
     lambda m: f"数据{'输入' if m['what'] == 'Input' else '输出'}关联引用的数据 “{m['id']}” 不存在"),
    (r"^(?:Unknown Time Specification|Time Specification Error)",
     lambda m: "定时器须填写日期(timeDate)、时长(timeDuration)或周期(timeCycle)之一,且格式正确"),
    (r"^Duplicate process ID: (?P<id>\S+)", lambda m: f"流程 id “{m['id']}” 重复"),
    (r"^The process '(?P<id>[^']*)' was not found",
     lambda m: f"调用活动(callActivity)引用的流程 “{m['id']}” 不在本文件中"),
    (r"^Sequential ordering for ad hoc subprocesses not supported|^Ad hoc subprocesses",
     lambda m: "自由子流程(adHocSubProcess)暂不支持"),
    (r"^A Service Task must have an operator", lambda m: "服务任务(serviceTask)暂不支持:本系统不调用外部服务"),
    (r"^Invalid Script Task", lambda m: "脚本任务(scriptTask)不允许:流程图中不能运行代码"),
    # while running
    (r"^No conditions satisfied (?:for|on) (?:gateway )?(?P<id>\S*)",
     lambda m: f"网关 “{m['id'].rstrip('.')}” 的所有分支条件都不成立,也没有默认分支" if m["id"]
     else "网关的所有分支条件都不成立,也没有默认分支"),
    (r"^Missing data input for multiinstance task|^Missing data input",
     lambda m: "多实例步骤要逐项处理的列表没有值:请检查 loopDataInputRef 所指的表单字段是否已填写"),
    (r"^Multiinstance data input must be iterable",
     lambda m: "多实例步骤要逐项处理的值不是列表:loopDataInputRef 应指向一个列表字段(例如 list=lines 的文本字段)"),
    (r"^Multiinstance (?P<what>input|output) item (?P<id>\S+) already exists",
     lambda m: f"多实例步骤的{'输入' if m['what'] == 'input' else '输出'}项名称 “{m['id']}” 与已有的表单字段重名"),
    (r"^Expected an output item", lambda m: "多实例步骤的一个实例没有给出输出项(outputDataItem)"),
    (r"^(?:If loop cardinality|If the input is not|Only a mutable map)",
     lambda m: "多实例步骤的输出列表(loopDataOutputRef)不能用于收集结果:请改用一个新的字段名"),
    (r"^Missing data ouput|^The Data Output was not available", lambda m: "子流程没有给出声明的输出数据"),
    (r"^You are missing a required Data Input for a call activity", lambda m: "调用活动缺少必需的输入数据"),
)


def library(text: str) -> str:
    """A SpiffWorkflow message (parsing or running) in Chinese."""
    return _translate(text.strip(), _SPIFF, "流程引擎无法处理这一元素(原因未能翻译,已记入系统日志)")


# --- libxml2: the file is not well-formed XML ------------------------------------------

_XML = _rules(
    (r"^Opening and ending tag mismatch: (?P<a>\S+) line (?P<l>\d+) and (?P<b>\S+)",
     lambda m: f"开始标签 <{m['a']}>(第 {m['l']} 行)与结束标签 </{m['b']}> 不匹配"),
    (r"^Premature end of data in tag (?P<a>\S+) line (?P<l>\d+)",
     lambda m: f"文件在标签 <{m['a']}>(第 {m['l']} 行)结束之前就结束了:文件不完整"),
    (r"^EndTag: '</' not found|^Premature end of data", lambda m: "文件不完整:缺少结束标签"),
    (r"^Start tag expected, '<' not found|^Document is empty", lambda m: "文件为空,或不是 XML 文件"),
    (r"^Extra content at the end of the document", lambda m: "根元素结束后还有多余的内容"),
    (r"^(?:Invalid bytes in character encoding|Input is not proper UTF-8)",
     lambda m: "文件中有不符合其声明编码的字节:请以 UTF-8 编码重新保存"),
    (r"^Unsupported encoding (?P<e>\S+)", lambda m: f"不支持文件声明的编码 “{m['e']}”:请以 UTF-8 编码保存"),
    (r"^xmlns:?(?P<p>\S*): '(?P<uri>[^']*)' is not a valid URI",
     lambda m: f"命名空间声明 xmlns{':' + m['p'] if m['p'] else ''} 的值 “{m['uri']}” 不是合法的 URI"),
    (r"^Namespace prefix (?P<p>\S+) (?:for (?P<a>\S+) )?on (?P<el>\S+) is not defined",
     lambda m: f"元素 <{m['el']}> 使用的命名空间前缀 “{m['p']}” 没有声明(缺少 xmlns:{m['p']}=…)"),
    (r"^Couldn't find end of Start Tag (?P<a>\S+)", lambda m: f"标签 <{m['a']}> 没有正确结束(缺少 “>” 或属性写法有误)"),
    (r"^Attribute (?P<a>\S+) redefined", lambda m: f"同一元素上属性 {m['a']} 出现了两次"),
    (r"^attributes construct error|^AttValue: \" or ' expected|^Specification mandates value for attribute",
     lambda m: "属性写法错误:属性值须写在引号中,例如 name=\"值\""),
    (r"^(?:EntityRef: expecting ';'|xmlParseEntityRef: no name)",
     lambda m: "“&” 后应是实体名和 “;”:文字中的 & 请写成 &amp;"),
    (r"^Entity '(?P<e>[^']*)' not defined", lambda m: f"未定义的实体 “&{m['e']};”"),
    (r"^(?:PCDATA invalid Char value|Char 0x[0-9A-Fa-f]+ out of allowed range|invalid character in attribute value)",
     lambda m: "文件中有 XML 不允许的控制字符"),
    (r"^(?:StartTag: invalid element name|error parsing attribute name)", lambda m: "标签名或属性名无效"),
    (r"^Comment not terminated", lambda m: "注释没有结束(缺少 “-->”)"),
    (r"^(?:CData section not finished|Sequence '\]\]>' not allowed in content)", lambda m: "CDATA 段写法错误"),
    (r"^(?:Excessive depth|Huge input lookup|internal error: Huge input)", lambda m: "文件嵌套过深或单个文本过大"),
    (r"^XML declaration allowed only at the start", lambda m: "XML 声明(<?xml …?>)只能写在文件最开头"),
)


def xml_syntax(text: str) -> str:
    """A libxml2 well-formedness error in Chinese (the caller prefixes "XML 格式错误")."""
    text = re.sub(r", line \d+, column \d+$", "", text.strip())
    return _translate(text, _XML, "文件不是格式正确的 XML")


# --- the BPMN 2.0 schema (XSD) ------------------------------------------------------------

_E = r"^Element '(?P<el>[^']+)'"
_A = r", attribute '(?P<attr>[^']+)'"
_XSD = _rules(
    (_E + r": Missing child element\(s\)\. Expected is (?:one of )?\( (?P<exp>.+) \)",
     lambda m: f"元素 {short(m['el'])} 缺少必需的子元素,应有 {_expected(m['exp'])}"),
    (_E + r": This element is not expected\. Expected is (?:one of )?\( (?P<exp>.+) \)",
     lambda m: f"此处不应出现元素 {short(m['el'])}(这里应为 {_expected(m['exp'])};检查子元素的顺序和位置)"),
    (_E + r": This element is not expected",
     lambda m: f"此处不应出现元素 {short(m['el'])}(检查子元素的顺序和位置)"),
    (_E + _A + r": The attribute '[^']+' is not allowed",
     lambda m: f"元素 {short(m['el'])} 不允许有属性 {short(m['attr'])}"),
    (_E + r": The attribute '(?P<attr>[^']+)' is required but missing",
     lambda m: f"元素 {short(m['el'])} 缺少必需的属性 {short(m['attr'])}"),
    (_E + _A + r": The QName value '(?P<v>[^']*)' has no corresponding namespace declaration in scope",
     lambda m: f"元素 {short(m['el'])} 的属性 {short(m['attr'])} 的值 “{m['v']}” 使用了未声明的命名空间前缀"),
    (_E + _A + r": \[facet '\w+'\] The value '(?P<v>[^']*)' is not an element of the set \{(?P<set>[^}]*)\}",
     lambda m: f"元素 {short(m['el'])} 的属性 {short(m['attr'])} 的值 “{m['v']}” 不在允许的取值({m['set']})中"),
    (_E + _A + r": '(?P<v>[^']*)' is not a valid value of the (?:atomic|local atomic|list|union) type "
     r"'?(?P<t>[^'.]*)'?",
     lambda m: f"元素 {short(m['el'])} 的属性 {short(m['attr'])} 的值 “{m['v']}” 不是合法的{_type(m['t'])}"),
    (_E + r": '(?P<v>[^']*)' is not a valid value of the (?:atomic|local atomic|list|union) type '?(?P<t>[^'.]*)'?",
     lambda m: f"元素 {short(m['el'])} 的内容 “{m['v']}” 不是合法的{_type(m['t'])}"),
    (_E + r": No matching global element declaration available, but demanded by the strict wildcard",
     lambda m: f"元素 {short(m['el'])} 不是 BPMN 2.0 元素,不能放在这里(其他工具的扩展内容应放在 extensionElements 中)"),
    (_E + r": Character content other than whitespace is not allowed",
     lambda m: f"元素 {short(m['el'])} 中不能有文字内容"),
    (_E + r": (?:Duplicate key-sequence|ID '(?P<id>[^']*)' already defined)",
     lambda m: f"元素 {short(m['el'])} 的 id 与其他元素重复"),
    (_E + r": No match found for key-sequence \['(?P<v>[^']*)'\]",
     lambda m: f"元素 {short(m['el'])} 引用的 “{m['v']}” 在文件中不存在"),
    (_E + r": The value '(?P<v>[^']*)' does not match the fixed value constraint",
     lambda m: f"元素 {short(m['el'])} 的值 “{m['v']}” 与规范要求的固定值不符"),
    (_E + r": No matching global declaration available for the validation root",
     lambda m: f"根元素 {short(m['el'])} 不是 BPMN 2.0 的 definitions"),
)


def schema(text: str) -> str:
    """A BPMN 2.0 schema (XSD) violation in Chinese (the caller prefixes "不符合 BPMN 2.0 规范")."""
    return _translate(text.strip(), _XSD, "此处内容不符合 BPMN 2.0 规范(XSD)")


# --- a designer's expression failing on real data (Python and simpleeval exceptions) -----------

_EVALUATION = {
    "ZeroDivisionError": "除数为零",
    "TypeError": "数据类型不匹配,例如把文字和数字相加或比较,或某个字段没有值",
    "ValueError": "取值无效,例如把不是数字的文字转换为数字,或日期格式不对",
    "OverflowError": "数值过大",
    "NumberTooHigh": "数值过大",
    "IterableTooLong": "结果过长:文字或列表超过允许的长度",
    "KeyError": "引用的项目不存在",
    "IndexError": "列表中没有这一项",
    "FunctionNotDefined": "使用了未知的函数",
    "AttributeDoesNotExist": "不能访问属性",
    "FeatureNotAvailable": "用了表达式不支持的写法",
    "OperatorNotDefined": "用了表达式不支持的运算符",
}


def evaluation(exc: Exception) -> str:
    """Why a designer's expression could not be computed, in Chinese: the engine's own reason as it is
    (e.g. 乘方过大), a known exception by its kind, anything else in general words (its text is logged)."""
    if re.match(r"[\u4e00-\u9fff]", str(exc)):  # the engine's own reasons begin in Chinese
        return str(exc)
    for kind in type(exc).__mro__:
        if kind.__name__ in _EVALUATION:
            return _EVALUATION[kind.__name__]
    log.warning("untranslated evaluation error: %r", exc)
    return "无法计算"


def _translate(text: str, rules: list[Rule], fallback: str) -> str:
    for pattern, make in rules:
        m = pattern.search(text)
        if m:
            return make(m)
    log.warning("untranslated library message: %s", text)
    return fallback
