"""Limits on what a diagram can make the engine library do inside a case's write transaction (issue #16).

SpiffWorkflow evaluates some expressions without a task (message correlations) through its script
engine's environment, runs automatic steps until people are needed, creates every instance of a
multi-instance step at once and computes timers on the calendar: each of these is bounded, refused
with a 422 naming what to fix, and leaves nothing saved.
"""
from __future__ import annotations

import inspect
import sys
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram, spiff
from engine.store.models import Case
from engine.work import casepages, cases, runtime, timers
from tests.conftest import DATA, TEST_DAY
from tests.tiny_diagrams import human_loop, looped_subprocess, message_throw, one_lane_process, timer_loop


def test_a_message_correlation_never_runs_python_even_unvalidated(tmp_path):
    """The library evaluates correlations without a task, through its script engine's environment:
    ours evaluates them as designer expressions too."""
    marker = tmp_path / "pwned"
    xml = one_lane_process(*message_throw(f"__import__('os').system('touch {marker}')"))
    runnable = spiff.build(etree.ElementTree(etree.fromstring(xml)), "x.bpmn", "p", {}, diagram._Checker("x.bpmn"))
    workflow = spiff.new_workflow(runnable, {"n": 1})
    with pytest.raises(spiff.StepFailed, match="不允许访问属性"):
        spiff.advance(workflow)
    assert not marker.exists()


def _case_count(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(Case.id)))


def test_a_loop_without_a_way_out_is_stopped_and_nothing_is_saved(db, staff, monkeypatch):
    """A looped subprocess of automatic steps whose condition always holds ran for ever inside the
    write transaction; one advance now stops after `MAX_AUTOMATIC_STEPS` (lowered here to stay fast)."""
    monkeypatch.setattr(spiff, "MAX_AUTOMATIC_STEPS", 60)
    xml = one_lane_process(looped_subprocess(
        "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>n &gt; 0</bpmn:loopCondition>"
        "</bpmn:standardLoopCharacteristics>"))
    deployments.deploy(db, xml, "loop.bpmn", SYSTEM)
    with pytest.raises(spiff.StepFailed) as err:
        cases.start_case(db, staff["clerk"], "p", {"n": "1"})
    assert err.value.status == 422 and "没有出口的循环" in err.value.message and "“T”" in err.value.message
    assert _case_count(db) == 0


def test_a_multi_instance_count_is_bounded(db, staff):
    """`loopCardinality` from case data creates that many instances at once: at most `MAX_INSTANCES`."""
    xml = one_lane_process("""<bpmn:subProcess id="T" name="逐项">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>n</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:startEvent id="SS"><bpmn:outgoing>G1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:endEvent id="SE"><bpmn:incoming>G1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="G1" sourceRef="SS" targetRef="SE"/></bpmn:subProcess>""")
    deployments.deploy(db, xml, "many.bpmn", SYSTEM)
    with pytest.raises(spiff.StepFailed, match=f"循环次数.*0–{spiff.MAX_INSTANCES}"):
        cases.start_case(db, staff["clerk"], "p", {"n": str(10**6)})
    assert _case_count(db) == 0
    assert cases.start_case(db, staff["clerk"], "p", {"n": "3"}).case_status == "running"


@pytest.mark.parametrize("duration", ["P99999999D", "${'P' + str(10**9) + 'D'}"])
def test_a_timer_beyond_the_calendar_refuses_the_step_instead_of_failing_with_a_500(db, staff, duration):
    xml = (DATA / "timer_fails.bpmn").read_bytes().replace(b">PT1H<", f">{duration}<".encode())
    deployments.deploy(db, xml, "timer.bpmn", SYSTEM)
    with pytest.raises(spiff.StepFailed) as err:
        cases.start_case(db, staff["clerk"], "timer_fails", {"title": "t"})
    assert err.value.status == 422 and "超出日历范围" in err.value.message
    assert _case_count(db) == 0


def _open_step(db, staff, number: str):
    runtime.forget_all()  # as a new request: the case is read back from the database
    view = casepages.get_case(db, staff["auditor"], number)
    return view.status, [(s.step_id, s.task_id) for s in view.open_steps]


def test_a_step_done_too_many_times_round_a_loop_is_refused_and_the_case_stays_where_it_was(db, staff, monkeypatch):
    """Each round of a loop leaves the library's tree of steps a few levels deeper; past about 1,000 it no longer
    sees the steps below, and a case looped 333 times was marked finished with its step still to do. Before that
    depth (`MAX_TREE_DEPTH`, lowered here to stay fast) the step is refused with a message and nothing changes."""
    monkeypatch.setattr(spiff, "MAX_TREE_DEPTH", 40)
    deployments.deploy(db, human_loop(), "loop.bpmn", SYSTEM)
    number = cases.start_case(db, staff["clerk"], "p", {}).case_number
    rounds = 0
    with pytest.raises(spiff.StepFailed) as err:
        while rounds < 40:
            rounds += 1
            [(_, task_id)] = _open_step(db, staff, number)[1]
            cases.complete_task(db, staff["clerk"], task_id, {"again": "true"})
    assert err.value.status == 422 and "反复办理的次数太多" in err.value.message and "未保存" in err.value.message
    assert 10 <= rounds < 14  # three levels a round, from a start of a few levels
    assert _open_step(db, staff, number) == ("running", [("L", task_id)])
    history = casepages.get_case(db, staff["auditor"], number).history
    assert sum(e.kind == "task_completed" for e in history) == rounds - 1



def test_the_depth_limit_is_below_where_the_library_stops_seeing_steps_and_where_python_stops_recursing():
    assert spiff.MAX_TREE_DEPTH < inspect.signature(TaskIterator.__init__).parameters["max_depth"].default
    assert spiff.MAX_TREE_DEPTH < sys.getrecursionlimit()


def test_a_recursion_error_in_the_library_refuses_the_step_instead_of_failing_with_a_500(db, staff, monkeypatch):
    """The library's joins look for a step's ancestors one recursive call a level: on a deep tree under a web
    request they ran out of stack (RecursionError, a 500) before the depth limit; the step is refused instead."""
    deployments.deploy(db, human_loop(), "loop.bpmn", SYSTEM)
    number = cases.start_case(db, staff["clerk"], "p", {}).case_number
    [(_, task_id)] = _open_step(db, staff, number)[1]

    def too_deep(self, *args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(Task, "run", too_deep)
    with pytest.raises(spiff.StepFailed) as err:
        cases.complete_task(db, staff["clerk"], task_id, {"again": "true"})
    assert err.value.status == 422 and "反复办理的次数太多" in err.value.message
    monkeypatch.undo()
    assert _open_step(db, staff, number) == ("running", [("L", task_id)])


def test_a_loop_of_timers_alone_is_stopped_at_the_same_depth_and_the_worker_records_why(
        db, staff, monkeypatch, frozen_clock):
    """No one completes a step here: the worker fires an hourly timer that goes round again. The automatic steps
    it runs are held to the same depth; the timer is refused, the trace says why, and the case keeps waiting."""
    monkeypatch.setattr(spiff, "MAX_TREE_DEPTH", 40)
    deployments.deploy(db, timer_loop(), "ticks.bpmn", SYSTEM)
    number = cases.start_case(db, staff["clerk"], "p", {"n": "1"}).case_number
    for fire in range(1, 21):  # the timer is due an hour after it starts waiting: every round is due here
        frozen_clock.set(TEST_DAY + timedelta(hours=2 * fire))
        timers.fire_due(db)
    runtime.forget_all()
    view = casepages.get_case(db, staff["auditor"], number)
    failed = [e.data["message"] for e in view.history if e.kind == "timer_failed"]
    assert failed and "反复办理的次数太多" in failed[0]
    assert view.status == "running"
    assert sum(e.kind == "timer_fired" for e in view.history) == 12  # three levels a round, then refused


def test_a_recursion_error_while_automatic_steps_run_refuses_the_start_instead_of_failing_with_a_500(
        db, staff, monkeypatch):
    deployments.deploy(db, human_loop(), "loop.bpmn", SYSTEM)

    def too_deep(self, *args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(BpmnWorkflow, "do_engine_steps", too_deep)
    with pytest.raises(spiff.StepFailed) as err:
        cases.start_case(db, staff["clerk"], "p", {})
    assert err.value.status == 422 and "反复办理的次数太多" in err.value.message
    assert _case_count(db) == 0
