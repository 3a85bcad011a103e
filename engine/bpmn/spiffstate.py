"""A workflow's state as stored: SpiffWorkflow's own JSON format without the specs (which live once, in
the diagram version), converted by the engine for speed, written with orjson and compressed; read back
by the library. `MINYI_VERIFY_STATE=1` (set by the test suite) checks every dump against the library's
own conversion.
"""
from __future__ import annotations

import contextvars
import json
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.task import Task

from .spiffbuild import Runnable


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
