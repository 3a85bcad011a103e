"""Auditing what the engine decided by itself: which way each gateway went, and why.

`AutoSteps` is handed to `spiff.advance`/`spiff.complete` as the callback; after the run the
caller writes the decisions in the same transaction (`record`), as `gateway_decided` events
carrying the taken flow and the condition that was true (or that it was the default branch).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import bpmngraph, spiff
from engine.bpmn.diagram import Diagram
from engine.store import audit_chain

DECIDING = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway"}


class AutoSteps:
    """Collects the automatic steps of one engine run."""

    def __init__(self) -> None:
        self.steps: list[spiff.AutoStep] = []

    def __call__(self, task: Any) -> None:
        step = spiff.auto_step(task)
        if step is not None:
            self.steps.append(step)

    def record(self, session: Session, case_id: int, d: Diagram) -> None:
        """Write one `gateway_decided` event per branching gateway that ran."""
        graph = bpmngraph.graph_of(d)
        for step in self.steps:
            node = graph.nodes.get(step.element_id)
            if node is None or node.type not in DECIDING or len(graph.outgoing(node.id)) < 2:
                continue
            taken = [graph.flow_between(node.id, target) for target in step.taken]
            flows = [{"id": f.id, "name": f.name, "target": f.target,
                      "target_name": d.element_names.get(f.target, ""),
                      "condition": f.condition, "default": f.is_default} for f in taken if f is not None]
            audit_chain.append(session, case_id, "system", "gateway_decided", step_id=node.id,
                         step_name=node.name, lane=node.lane, data={"flows": flows})
        self.steps.clear()

