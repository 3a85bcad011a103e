"""Moving a running case onto another version of its diagram, with SpiffWorkflow's diff helpers:
what each open task becomes under the new spec, and the move itself, proved by a save and restore.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import TaskState

from . import messages
from .spiff import advance
from .spiffbuild import Runnable
from .spiffscript import StepFailed
from .spiffstate import _registry, dump, restore

log = logging.getLogger(__name__)

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
