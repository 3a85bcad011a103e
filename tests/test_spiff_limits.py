"""Limits on what a diagram can make the engine library do inside a case's write transaction (issue #16).

SpiffWorkflow evaluates some expressions without a task (message correlations) through its script
engine's environment, runs automatic steps until people are needed, creates every instance of a
multi-instance step at once and computes timers on the calendar: each of these is bounded, refused
with a 422 naming what to fix, and leaves nothing saved.
"""
from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.actor import SYSTEM
from engine.bpmn import deployments, diagram, spiff
from engine.store.models import Case
from engine.work import cases
from tests.conftest import DATA
from tests.tiny_diagrams import looped_subprocess, message_throw, one_lane_process


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
