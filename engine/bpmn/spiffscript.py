"""How SpiffWorkflow evaluates what a diagram says: every expression by `expressions.evaluate`
(never Python's `eval`), scripts and service calls refused, a timer's value made a moment in China
time, a multi-instance count bounded, and the library's timers told the time by `engine.clock`.
A step that cannot run raises `StepFailed`, naming the step.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import Task

from engine import clock
from engine.clock import CHINA_TZ
from engine.errors import ExpressionError, MinyiError

from . import expressions


class _ClockDatetime(datetime):
    """SpiffWorkflow's timers ask `datetime.now`; answer with the engine's clock."""

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001, ANN206
        current = clock.now()
        return current.astimezone(tz) if tz else current.replace(tzinfo=None)


_timer.datetime = _ClockDatetime


class StepFailed(MinyiError):
    """A step of the diagram could not run (bad expression on real data…)."""

    status = 422

    def __init__(self, task: Task | None, message: str):
        where = ""
        if task is not None:
            spec = task.task_spec
            where = f"步骤 “{getattr(spec, 'bpmn_name', None) or spec.name}”({spec.name}): "
        super().__init__(where + message)


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
    raise StepFailed(task, f"循环次数(loopCardinality)“{expression}” 应得出 0–{MAX_INSTANCES} 的整数,"
                           f"这里得到的是{shown}")


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
