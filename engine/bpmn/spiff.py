"""The adapter to SpiffWorkflow: this module and the `spiff…` modules beside it are the only ones
that know the engine library, so that the library, or its Camunda flavour, can be swapped.

Here: running a case's workflow (automatic steps, completing a human step) and reading what the
rest of the engine needs of it (ready steps, timers, the data, the path taken). Beside it, by
concern: `spiffscript` (the safe script engine, timer values, the clock, `StepFailed`),
`spiffbuild` (parsing a diagram into a `Runnable`), `spiffstate` (the stored state: `dump`,
`restore`) and `spiffmigrate` (moving a running case to another version). Other modules import
what they need of the first three through this one.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from time import thread_time
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task, TaskState
from SpiffWorkflow.util.deep_merge import DeepMerge

from . import messages
from .spiffbuild import SCHEMA_PATH, Runnable, build  # noqa: F401 (other modules import these from here)
from .spiffscript import MAX_INSTANCES, SafeScriptEngine, StepFailed  # noqa: F401
from .spiffstate import FORMAT, VERIFY, dump, restore  # noqa: F401

log = logging.getLogger(__name__)


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

# SpiffWorkflow keeps every step a case has run, each the child of the one before, so each time round a loop
# drawn with flows (a step → a gateway → back to the step) the tree of steps grows a few levels deeper; a step
# with a loop marker does not (its rounds are siblings). The library cannot work past about 1,000 levels: its
# task iterator stops there (`TaskIterator`'s `max_depth`), so the steps below are not seen and the case looks
# finished, and its joins recurse once a level (RecursionError well before that, under a web request). So no
# automatic step runs deeper than this (every loop has one: only a gateway or an event may branch back), and the
# step that would is refused with TOO_DEEP, nothing saved: 283 rounds of a three-element loop. 登记意见, drawn
# with two gateways until 2026-11-30, reached it at about 210 opinions.
MAX_TREE_DEPTH = 850
TOO_DEEP = ("这一事项在流程图的循环中反复办理的次数太多,流程引擎已无法可靠地继续(为免出错,本次办理未保存)。"
            "请联系流程设计人员调整该循环,或将后续办理另立事项")


def _depth(task: Task) -> int:
    depth, parent = 0, task.parent
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    return depth


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
        if _depth(task) >= MAX_TREE_DEPTH:
            raise StepFailed(task, TOO_DEEP)
        if did_complete is not None:
            did_complete(task)

    try:
        for _ in range(100):
            workflow.refresh_timers()
            workflow.do_engine_steps(will_complete_task=_keep_finished_rounds, did_complete_task=counted)
            if not any(not t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
                break
    except StepFailed:
        raise
    except SpiffWorkflowException as exc:
        task = getattr(exc, "task", None)
        raise StepFailed(task, f"流程无法继续: {messages.library(str(exc))}") from None
    except OverflowError as exc:  # a timer or deadline beyond the calendar (P99999999D)
        raise StepFailed(None, f"流程无法继续:定时器的时间超出日历范围({exc})") from None
    except RecursionError:
        raise StepFailed(None, TOO_DEEP) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise _library_failure(workflow, exc) from None


def _keep_finished_rounds(task: Task) -> None:
    """An interrupting boundary event (征求意见期满) on a repeated step — a loop or a multi-instance — takes
    on what its finished rounds recorded: the library would continue with the data from before the step, and
    the records an `appendTo` list collected (every 登记意见) would be lost. A round not yet done is dropped."""
    spec = task.task_spec
    if not (isinstance(spec, BoundaryEvent) and spec.cancel_activity) or task.parent is None:
        return
    for sibling in task.parent.children:
        if isinstance(sibling.task_spec, LoopTask):
            task.data = DeepMerge.merge(task.data, sibling.data)


def _where(task: Task) -> str:
    """The looped element a runaway automatic step belongs to (the subprocess around it, if any)."""
    workflow = task.workflow
    parent_id = getattr(workflow, "parent_task_id", None)
    if parent_id is not None:
        parent = workflow.top_workflow.get_task_from_id(parent_id)
        if parent is not None:
            return getattr(parent.task_spec, "bpmn_id", None) or parent.task_spec.name
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


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
    each finished instance into it), so a list kept by `appendTo` grows instead of losing their records. The
    instance's own item stays its own: the siblings merged theirs into the step too."""
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, MultiInstanceTask) \
            and task.task_spec.name == parent.task_spec.task_spec:
        return {**task.data, **parent.data, **instance_item(task)}
    return task.data


def task_by_id(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, SpiffWorkflowException):
        return None


def complete(workflow: BpmnWorkflow, task: Task, values: dict[str, Any],
             did_complete: Callable[[Task], None] | None = None) -> None:
    task.data.update(values)
    _drop_own_item(task)
    try:
        task.run()
    except StepFailed:
        raise
    except SpiffWorkflowException as exc:
        raise StepFailed(task, f"步骤无法完成: {messages.library(str(exc))}") from None
    except RecursionError:
        raise StepFailed(task, TOO_DEEP) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise _library_failure(workflow, exc) from None
    advance(workflow, did_complete)


def _drop_own_item(task: Task) -> None:
    """An instance of a multi-instance step keeps its item (the 职能部门 of one 部门报到) to itself: merged
    into the step, it would stay in the case's data, and the library refuses to start the step again
    (a matter reopened and summoned anew) while a variable of the item's name exists."""
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, MultiInstanceTask) \
            and task.task_spec.name == parent.task_spec.task_spec and parent.task_spec.output_item is None:
        name = getattr(parent.task_spec.input_item, "bpmn_id", None)
        if name:
            task.data.pop(name, None)


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


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
