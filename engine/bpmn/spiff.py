"""The adapter to SpiffWorkflow: the only module that knows the engine library.

Everything SpiffWorkflow-specific (parser choice, script engine, serialization,
clock) sits here so that the library, or its Camunda flavour, can be swapped.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import lru_cache
from pathlib import Path
from time import thread_time
from typing import Any
from uuid import UUID

import orjson
import SpiffWorkflow.bpmn.parser as _spiff_parser
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task, TaskState

from engine import clock
from engine.clock import CHINA_TZ
from engine.errors import ExpressionError, MinyiError

from . import expressions, messages

log = logging.getLogger(__name__)
SCHEMA_PATH = Path(_spiff_parser.__file__).parent / "schema" / "BPMN20.xsd"


class _ClockDatetime(datetime):
    """SpiffWorkflow's timers ask `datetime.now`; answer with the engine's clock."""

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001, ANN206
        current = clock.now()
        return current.astimezone(tz) if tz else current.replace(tzinfo=None)


_timer.datetime = _ClockDatetime


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """What SpiffWorkflow evaluates without a task (message correlations, ad hoc completion):
    by `expressions.evaluate` too. The library's default environment would run them with `eval`."""

    def __init__(self, properties: dict[str, str]):
        super().__init__()
        self.properties = properties

    def evaluate(self, expression: str, context: dict, external_context: dict | None = None) -> Any:
        try:
            return expressions.evaluate(expression, {**(external_context or {}), **context, **self.properties})
        except ExpressionError as exc:
            raise StepFailed(None, exc.message) from None

    def execute(self, script: str, context: dict, external_context: dict | None = None) -> bool:
        raise StepFailed(None, "流程图中的脚本不会被执行")


# A multi-instance step's count (loopCardinality) creates that many instances at once.
MAX_INSTANCES = 1000


class SafeScriptEngine(PythonScriptEngine):
    """Evaluates designer expressions with `expressions.evaluate`; never runs scripts."""

    def __init__(self, properties: dict[str, str]):
        super().__init__(environment=SafeEnvironment(dict(properties)))
        self.properties = dict(properties)

    def validate(self, expression: str) -> None:
        expressions.check(expression)

    def evaluate(self, task: Task, expression: str, external_context: dict | None = None) -> Any:
        names = {**task.data, **(external_context or {}), **self.properties}
        try:
            value = expressions.evaluate(expression, names)
        except ExpressionError as exc:
            raise StepFailed(task, exc.message) from None
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            return _timer_value(value)
        if isinstance(task.task_spec, MultiInstanceTask) and expression == task.task_spec.cardinality:
            return _cardinality(task, expression, value)
        return value

    def execute(self, task: Task, script: str, external_context: dict | None = None) -> bool:
        raise StepFailed(task, "流程图中的脚本不会被执行")

    def call_service(self, task: Task, **kwargs: Any) -> Any:
        raise StepFailed(task, "流程图中的服务调用不会被执行")


NEVER = "9999-12-31T23:59:59+08:00"


def _cardinality(task: Task, expression: str, value: Any) -> int:
    """How many instances a multi-instance step gets: a whole number, or the step cannot start."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INSTANCES:
        return value
    shown = "空值" if value in (None, "") else f"“{value}”"
    raise StepFailed(task, f"循环次数(loopCardinality)“{expression}” 应得出 0–{MAX_INSTANCES} 的整数,这里得到的是{shown}")



def _timer_value(value: Any) -> str:
    """A date alone means the end of that day in China; naive times are China time.
    A timer whose expression gives nothing (`… if kind == '上报件' else None`) never fires."""
    if value in (None, ""):
        return NEVER
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(23, 59, 59))
    else:
        text = str(value)
        if len(text) == 10 and text[4] == "-":
            moment = datetime.combine(date.fromisoformat(text), time(23, 59, 59))
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                return text  # a duration or cycle: SpiffWorkflow parses it
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TZ)
    return moment.isoformat()


def _where(task: Task) -> str:
    """The looped element a runaway automatic step belongs to (the subprocess around it, if any)."""
    workflow = task.workflow
    parent_id = getattr(workflow, "parent_task_id", None)
    if parent_id is not None:
        parent = workflow.top_workflow.get_task_from_id(parent_id)
        if parent is not None:
            return getattr(parent.task_spec, "bpmn_id", None) or parent.task_spec.name
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


class StepFailed(MinyiError):
    """A step of the diagram could not run (bad expression on real data…)."""

    status = 422

    def __init__(self, task: Task | None, message: str):
        where = ""
        if task is not None:
            spec = task.task_spec
            where = f"步骤 “{getattr(spec, 'bpmn_name', None) or spec.name}”({spec.name}): "
        super().__init__(where + message)


@dataclass(frozen=True)
class Runnable:
    """The parsed specs of one diagram version plus its script engine."""

    spec: Any
    subprocess_specs: dict
    script_engine: SafeScriptEngine


def build(tree: etree._ElementTree, filename: str, process_id: str, properties: dict[str, str], checker) -> Runnable | None:
    """Parse with SpiffWorkflow; its complaints become problems on `checker`, in Chinese, at their element."""
    parser = BpmnParser(validator=None)
    try:
        parser.add_bpmn_xml(tree, filename)
        spec = parser.get_spec(process_id)
        subprocesses = parser.get_subprocess_specs(process_id)
    except SpiffWorkflowException as exc:
        el_id = getattr(exc, "id", "") or ""
        checker.problems.append(_located(tree, filename, el_id, messages.library(str(exc))))
        return None
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        log.warning("SpiffWorkflow could not parse %s: %r", filename, exc)
        key = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else ""
        checker.problems.append(_located(tree, filename, key, "流程引擎无法解析该文件:"
                                         + (f"找不到 id 为 “{key}” 的元素(引用写错了,或引用了其他文件中的元素)"
                                            if key else "文件中的引用或属性有误(详情已记入系统日志)")))
        return None
    return Runnable(spec, subprocesses, SafeScriptEngine(properties))


def _located(tree: etree._ElementTree, filename: str, el_id: str, message: str):
    """A problem at the element the library named (by id), or at the first element whose id the
    message mentions; SpiffWorkflow itself gives no line."""
    from engine.errors import Problem

    by_id = {el.get("id"): el for el in tree.getroot().iter() if isinstance(el.tag, str) and el.get("id")}
    element = by_id.get(el_id)
    if element is None:
        element = next((by_id[word] for word in re.findall(r"[^\s“”\"'()(),,::]+", message) if word in by_id), None)
    if element is None:
        return Problem(filename, el_id, "", None, message)
    return Problem(filename, element.get("id"), element.get("name") or "", element.sourceline, message)


# --- running -------------------------------------------------------------------

def new_workflow(runnable: Runnable, data: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(runnable.spec, runnable.subprocess_specs, script_engine=runnable.script_engine)
    workflow.data.update(data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    return workflow


# Automatic steps one advance may run, and its CPU time: a loop without a way out (a looped subprocess
# whose condition never ends it) would otherwise run inside the write transaction for ever.
MAX_AUTOMATIC_STEPS = 1000
MAX_ADVANCE_SECONDS = 1.0


def advance(workflow: BpmnWorkflow, did_complete: Callable[[Task], None] | None = None) -> None:
    """Run every automatic step (gateways, events, fired timers) until people are needed;
    `did_complete` hears of each automatic step run, so the caller can audit it."""
    ran, ends = 0, thread_time() + MAX_ADVANCE_SECONDS

    def counted(task: Task) -> None:
        nonlocal ran
        ran += 1
        if ran > MAX_AUTOMATIC_STEPS or thread_time() > ends:
            raise StepFailed(None, f"流程连续自动执行了 {ran} 个步骤仍未停下,可能是没有出口的循环;"
                                   f"请检查 “{_where(task)}” 所在循环的循环条件(loopCondition)和循环次数")
        if did_complete is not None:
            did_complete(task)

    try:
        for _ in range(100):
            workflow.refresh_timers()
            workflow.do_engine_steps(did_complete_task=counted)
            if not any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
                break
    except StepFailed:
        raise
    except SpiffWorkflowException as exc:
        task = getattr(exc, "task", None)
        raise StepFailed(task, f"流程无法继续: {messages.library(str(exc))}") from None
    except OverflowError as exc:  # a timer or deadline beyond the calendar (P99999999D)
        raise StepFailed(None, f"流程无法继续:定时器的时间超出日历范围({exc})") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise _library_failure(workflow, exc) from None


def _library_failure(workflow: BpmnWorkflow, exc: Exception) -> StepFailed:
    """A plain Python error from inside the library: say which step's data it could not use."""
    log.warning("SpiffWorkflow failed on case data: %r", exc)
    for task in workflow.get_tasks(state=TaskState.DEFINITE_MASK & ~TaskState.FINISHED_MASK):
        spec = task.task_spec
        if isinstance(spec, MultiInstanceTask) and spec.data_input is not None:
            items = task.data.get(spec.data_input.bpmn_id)
            if not isinstance(items, (list, tuple, dict)):
                return StepFailed(task, f"要逐项处理的列表 “{spec.data_input.bpmn_id}” 没有值或不是列表:"
                                        "请填写该字段(每行一项),或让流程在列表为空时不经过这一步")
    return StepFailed(None, "流程无法继续:事项数据不符合某个步骤的要求(详情已记入系统日志)")


@dataclass(frozen=True)
class AutoStep:
    """An automatic step the engine ran: its BPMN element, its type, and the elements it led to."""

    element_id: str
    element_type: str
    taken: tuple[str, ...]


def auto_step(task: Task) -> AutoStep | None:
    """Describe a completed automatic task; None for the library's internal bookkeeping tasks."""
    element_id = getattr(task.task_spec, "bpmn_id", None)
    if not element_id:
        return None
    return AutoStep(element_id, type(task.task_spec).__name__, tuple(_next_elements(task)))


def _next_elements(task: Task, depth: int = 0) -> list[str]:
    """The BPMN elements right after a task, looking through the library's hidden tasks
    (e.g. the split it puts before a step with boundary events)."""
    found = []
    for child in task.children:
        bpmn_id = getattr(child.task_spec, "bpmn_id", None)
        if bpmn_id:
            found.append(bpmn_id)
        elif depth < 3:
            found.extend(_next_elements(child, depth + 1))
    return found


def trail(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    """(BPMN element id, state) of every task the case reached — done, open, waiting or cancelled —
    for the auditor's diagram; predicted future tasks are left out."""
    reached = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.CANCELLED
    return [(t.task_spec.bpmn_id, TaskState.get_name(t.state)) for t in workflow.get_tasks(state=reached)
            if getattr(t.task_spec, "bpmn_id", None)]


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def instance_item(task: Task) -> dict[str, Any]:
    """The item a multi-instance step works on ({name: value}), empty for any other step. The step
    may be the instance itself or lie inside it (a multi-instance subprocess)."""
    current = task
    while current is not None:
        parent = current.parent
        if parent is None:  # the start of a subprocess: continue from the subprocess's own task
            workflow = current.workflow
            parent_id = getattr(workflow, "parent_task_id", None)
            current = workflow.top_workflow.get_task_from_id(parent_id) if parent_id else None
            continue
        spec = parent.task_spec
        if isinstance(spec, MultiInstanceTask) and current.task_spec.name == spec.task_spec:
            name = getattr(spec.input_item, "bpmn_id", None)
            return {name: task.data[name]} if name and name in task.data else {}
        current = parent
    return {}


def accumulated_data(task: Task) -> dict[str, Any]:
    """The data a step's completion builds on. An instance of a parallel multi-instance step got its copy
    when all instances started; what its siblings finished since is on the step itself (the library merges
    each finished instance into it), so a list kept by `appendTo` grows instead of losing their records."""
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, MultiInstanceTask) \
            and task.task_spec.name == parent.task_spec.task_spec:
        return {**task.data, **parent.data}
    return task.data


def task_by_id(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, SpiffWorkflowException):
        return None


def complete(workflow: BpmnWorkflow, task: Task, values: dict[str, Any],
             did_complete: Callable[[Task], None] | None = None) -> None:
    task.data.update(values)
    try:
        task.run()
    except StepFailed:
        raise
    except SpiffWorkflowException as exc:
        raise StepFailed(task, f"步骤无法完成: {messages.library(str(exc))}") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise _library_failure(workflow, exc) from None
    advance(workflow, did_complete)


def is_ready(task: Task) -> bool:
    return task.state == TaskState.READY


@dataclass(frozen=True)
class Snapshot:
    """What a save needs of a workflow, gathered in one walk over its tasks (in the library's order)."""

    data: dict[str, Any]
    ready_human: tuple[Task, ...]
    next_timer_at: datetime | None
    completed: bool


def snapshot(workflow: BpmnWorkflow) -> Snapshot:
    last: Task | None = None
    ready: list[Task] = []
    soonest: datetime | None = None
    for task in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY | TaskState.WAITING):
        if task.state == TaskState.COMPLETED:
            if last is None or task.last_state_change > last.last_state_change:
                last = task
        elif task.state == TaskState.READY:
            if task.task_spec.manual:
                ready.append(task)
        else:
            moment = _timer_due(task)
            if moment is not None and (soonest is None or moment < soonest):
                soonest = moment
    completed = workflow.is_completed()
    data = dict(last.data) if last is not None else dict(workflow.data)
    if completed and workflow.data:
        data = dict(workflow.data)
    return Snapshot(data, tuple(ready), soonest, completed)


def _timer_due(task: Task) -> datetime | None:
    event = getattr(task.task_spec, "event_definition", None)
    if not isinstance(event, TimerEventDefinition):
        return None
    value = task.internal_data.get("event_value")
    try:
        moment = TimerEventDefinition.get_datetime(value) if isinstance(value, str) else None
    except (ValueError, TypeError):
        return None
    return moment if moment is not None and moment.year < 9999 else None


def timer_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return [t for t in workflow.get_tasks()
            if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)]


def waiting_timers(workflow: BpmnWorkflow) -> list[Task]:
    return [t for t in timer_tasks(workflow) if t.state == TaskState.WAITING]


def boundary_timers(task: Task) -> list[Task]:
    """The waiting timers drawn on the border of a human step (its deadline, as drawn)."""
    parent = task.parent
    if parent is None or type(parent.task_spec).__name__ != "BoundaryEventSplit":
        return []
    return [t for t in parent.children if t is not task and t.state == TaskState.WAITING
            and isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)]


def timer_moment(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    try:
        return TimerEventDefinition.get_datetime(value) if isinstance(value, str) else None
    except (ValueError, TypeError):
        return None


def move_timer(task: Task, moment: datetime) -> None:
    """A deadline extended (延期) moves the drawn timer with it."""
    task.internal_data["event_value"] = moment.isoformat()


def recomputed_timer(task: Task, expression_part: str) -> str | None:
    """A waiting date timer whose expression contains `expression_part` (e.g. `add_workdays`),
    evaluated again on its data: the value SpiffWorkflow would store now; None for any other
    timer, or when the expression no longer computes."""
    event = getattr(task.task_spec, "event_definition", None)
    if not isinstance(event, TimeDateEventDefinition) or expression_part not in (event.expression or ""):
        return None
    try:
        return task.workflow.script_engine.evaluate(task, event.expression)
    except Exception:  # noqa: BLE001 — StepFailed or a library error: the timer keeps its moment
        return None


def timer_value(task: Task) -> Any:
    return task.internal_data.get("event_value")


def is_waiting(task: Task) -> bool:
    return task.state == TaskState.WAITING


def reached_ends(workflow: BpmnWorkflow) -> list[str]:
    """Ids of the end events the top-level process reached (its outcome)."""
    from SpiffWorkflow.bpmn.specs.defaults import EndEvent

    return [t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent) and t.workflow is workflow]


def spec_name(task: Task) -> str:
    """The BPMN element id of a task's step. An instance of a multi-instance (or loop) step is a task
    of that step: the library names the instance's spec `<id> [child]`, its `bpmn_id` is the step's."""
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


# --- persistence ------------------------------------------------------------------

_runnable: contextvars.ContextVar[Runnable] = contextvars.ContextVar("minyi_runnable")


class _SpeclessConverter(BpmnWorkflowConverter):
    """Stores a workflow without its specs: the spec lives once, in the diagram version.
    Its tasks are converted by `_task_dicts`, which gives what the library's `TaskConverter` gives."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        dct = {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": _task_dicts(workflow, self.registry) if self.registry._encoder_mode and not _library.get()
            else self.mapping_to_dict(workflow.tasks),
            "root": str(workflow.task_tree.id),
        }
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict) -> BpmnWorkflow:
        runnable = _runnable.get()
        workflow = self.target_class(runnable.spec, runnable.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _task_dicts(workflow: BpmnWorkflow, registry: Any) -> dict[str, dict]:
    """The top-level tasks as `TaskConverter.to_dict` (SpiffWorkflow 3.2) converts them for the JSON
    encoder, key for key, without the registry's per-object dispatch and with each id's text kept
    on the workflow. `MINYI_VERIFY_STATE=1` (set by the test suite) compares every dump with the
    library's own conversion, so a library upgrade that changes the format fails the tests."""
    ids: dict[UUID, str] | None = workflow.__dict__.get("_minyi_ids")
    if ids is None:
        ids = workflow.__dict__["_minyi_ids"] = {}
    clean, tasks, found = registry.clean, workflow.tasks, {}
    for uid, task in tasks.items():
        if type(task) is not Task:  # a task class the library may convert differently
            found[ids.get(uid) or str(uid)] = registry.convert(task)
            continue
        own = ids.get(uid)
        if own is None:
            own = ids[uid] = str(uid)
        parent_id = task._parent
        children = []
        for child in task._children:
            text = ids.get(child)
            if text is None:
                text = ids[child] = str(child)
            children.append(text)
        if parent_id is None:
            data, delta, parent_text = task.data, {}, None
        else:
            parent_text = ids.get(parent_id)
            if parent_text is None:
                parent_text = ids[parent_id] = str(parent_id)
            parent = tasks.get(parent_id)
            if parent is None:  # `task.parent is None` for the library too: full data, no delta
                data, delta, parent_text = task.data, {}, None
            else:
                before, after = parent.data, task.data
                data = {}
                delta = {"updates": {k: v for k, v in after.items() if k not in before or v != before[k]},
                         "deletions": [k for k in before if k not in after]}
        found[own] = {"id": own, "parent": parent_text, "children": children,
                      "last_state_change": task.last_state_change, "state": task._state,
                      "task_spec": task.task_spec.name, "triggered": task.triggered,
                      "internal_data": clean(task.internal_data), "data": data, "delta": delta,
                      "typename": _TASK_TYPENAME}
    return found


_library: contextvars.ContextVar[bool] = contextvars.ContextVar("minyi_library_tasks", default=False)
_config = dict(DEFAULT_CONFIG)
_config[BpmnWorkflow] = _SpeclessConverter
_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))
_TASK_TYPENAME = _serializer.registry.typenames[Task]
FORMAT = 1
VERIFY = os.environ.get("MINYI_VERIFY_STATE") == "1"


_registry_lock = threading.Lock()


@contextmanager
def _registry(encoder_mode: bool) -> Iterator[Any]:
    """The serializer's registry, in the mode asked for, to this thread alone while the block runs.

    The mode is one flag on the shared registry (SpiffWorkflow sets it around its own JSON encoding);
    without the lock, a thread converting for JSON could switch another thread's conversion, e.g.
    a migration's spec comparison, into the wrong mode halfway."""
    with _registry_lock:
        registry = _serializer.registry
        registry._encoder_mode = encoder_mode
        try:
            yield registry
        finally:
            registry._encoder_mode = False


def dump(workflow: BpmnWorkflow) -> bytes:
    """Compressed JSON of the workflow's state, without its spec."""
    with _registry(True) as registry:
        dct = registry.convert(workflow)
    try:
        text = orjson.dumps(dct, default=_encode_other, option=_ORJSON)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the standard library writes it
        text = _standard_text(dct).encode("utf-8")
    if VERIFY:
        _verify(workflow, text)
    return zlib.compress(text, 1)  # level 1: a third faster than 6, ~7 % larger


# datetimes, dataclasses and subclasses go to `_encode_other` like any object the registry knows
_ORJSON = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
           | orjson.OPT_PASSTHROUGH_SUBCLASS)


def _encode_other(value: Any) -> Any:
    """What SpiffWorkflow's JSON encoder does with a value JSON has no type for."""
    return _standard_encoder().default(value)


@lru_cache(maxsize=1)
def _standard_encoder() -> json.JSONEncoder:
    return _serializer._encoder_cls(separators=(",", ":"), ensure_ascii=False)


def _standard_text(dct: dict) -> str:
    return _standard_encoder().encode(dct)


def _verify(workflow: BpmnWorkflow, text: bytes) -> None:
    """The stored text reads back as exactly what SpiffWorkflow's own serializer writes (type for type)."""
    token = _library.set(True)
    try:
        with _registry(True) as registry:
            expected = _standard_text(registry.convert(workflow))
    finally:
        _library.reset(token)
    if not _same(json.loads(text), json.loads(expected)):
        raise AssertionError("the engine's conversion of a workflow differs from SpiffWorkflow's own")


def _same(a: Any, b: Any) -> bool:
    """Equal, type for type (in Python `1 == 1.0 == True`; not in stored JSON)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if type(a) is list:
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def restore(runnable: Runnable, blob: bytes) -> BpmnWorkflow:
    token = _runnable.set(runnable)
    try:
        dct = json.loads(zlib.decompress(blob))  # not orjson: it reads integers beyond 64 bits as floats
        workflow = _serializer.registry.restore(dct)
    finally:
        _runnable.reset(token)
    workflow.script_engine = runnable.script_engine
    return workflow


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- moving a running case to another version (SpiffWorkflow's diff helpers) ------

@dataclass(frozen=True)
class OpenTaskChange:
    """One task that is not finished (or is finished but must survive) and how the new spec sees it."""

    element_id: str
    state: str
    new_element_id: str | None
    changed: tuple[str, ...]


def migration_changes(workflow: BpmnWorkflow, new: Runnable) -> tuple[list[OpenTaskChange], bool]:
    """Every task a migration must carry over (done, ready, waiting), aligned with the new spec;
    and whether the case has running subprocesses (whose specs are not carried over)."""
    from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff

    with _registry(False) as registry:
        spec_diff = SpecDiff(registry, workflow.spec, new.spec)
        diff = WorkflowDiff(workflow, spec_diff)
    keep = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
    found = []
    for task in workflow.get_tasks(state=keep, skip_subprocesses=True):
        target = diff.alignment.get(task)
        changed = tuple(spec_diff.changed.get(task.task_spec, ()))
        found.append(OpenTaskChange(getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name,
                                    TaskState.get_name(task.state),
                                    (getattr(target, "bpmn_id", None) or target.name) if target else None, changed))
    return found, bool(workflow.subprocesses)


def migrate(workflow: BpmnWorkflow, new: Runnable) -> BpmnWorkflow:
    """Move the workflow onto the new spec, re-predict its open branches, and prove the result
    survives a save and restore with the new version (else `StepFailed`, nothing kept)."""
    from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow

    with _registry(False) as registry:
        diff = WorkflowDiff(workflow, SpecDiff(registry, workflow.spec, new.spec))
    try:
        migrate_workflow(diff, workflow, new.spec)
        workflow.subprocess_specs = new.subprocess_specs
        workflow.script_engine = new.script_engine
        advance(workflow)
        return restore(new, dump(workflow))
    except StepFailed:
        raise
    except SpiffWorkflowException as exc:
        raise StepFailed(None, f"迁移失败,事项保持原版本: {messages.library(str(exc))}") from None
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        log.warning("migration failed: %r", exc)
        raise StepFailed(None, "迁移失败,事项保持原版本:新版本无法接续该事项的当前状态(详情已记入系统日志)") from None
