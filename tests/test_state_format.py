"""The stored workflow state reads back as exactly what SpiffWorkflow's own serializer writes.

The engine converts a workflow's tasks itself (`spiffstate._task_dicts`, a third of the library's time)
and encodes with orjson (a quarter of the standard library's); these tests, and `MINYI_VERIFY_STATE=1`
for every save the rest of the suite makes, hold the stored JSON to the library's, value for value
and type for type."""
from __future__ import annotations

import json
import threading
import zlib

import pytest

from engine.bpmn import diagram, forms, spiff, spiffstate
from tests.conftest import PROCESSES

INTAKE = {"channel": "构筑平台及时受理", "topic": "水电气暖", "title": "暖气不热", "description": "3号楼暖气不热",
          "reporter_name": "刘大爷", "reporter_contact": "13800001111", "address": "3号楼"}
# each 民情 kind's steps through to the rating, with a reopened handling for the last two
PATHS = {
    "补办件 not supplied": [("UserTask_classify", {"kind": "补办件"}),
                         ("UserTask_notify_missing", {"missing_documents": "户口簿"}),
                         ("UserTask_supplement", {"supplied": False, "not_supplied_reason": "无法提供"})],
    "上报件 rated 不满意": [("UserTask_classify", {"kind": "上报件"}),
                       ("UserTask_report_up", {"report_department": "区住建局", "report_content": "上报"}),
                       ("UserTask_superior_reply", {"superior_decision": "批准", "reply": "同意",
                                                    "reply_date": "2026-11-23"}),
                       ("UserTask_feedback", {"feedback_method": "单项式反馈", "answer": "已处理",
                                              "answered_at": "2026-11-23"}),
                       ("UserTask_rate", {"rating": "不满意"})],
}


def library_value(workflow) -> dict:
    """The workflow as SpiffWorkflow's own serializer writes it, read back."""
    token = spiffstate._library.set(True)
    try:
        with spiffstate._registry(True) as registry:
            return json.loads(spiffstate._standard_text(registry.convert(workflow)))
    finally:
        spiffstate._library.reset(token)


def start_minqing():
    d = diagram.load((PROCESSES / "minqing_liushuixian.bpmn").read_bytes(), "minqing_liushuixian.bpmn")
    workflow = spiff.new_workflow(d.engine, forms.validate(d.start_form, INTAKE, {}))
    spiff.advance(workflow)
    return d, workflow


def test_the_suite_checks_every_save_against_the_library():
    assert spiff.VERIFY, "tests/conftest.py sets MINYI_VERIFY_STATE=1 before the engine is imported"


@pytest.mark.parametrize("path", PATHS)
def test_each_step_stores_the_librarys_text_and_reads_back(path):
    d, workflow = start_minqing()
    for step, values in PATHS[path]:
        task = next(t for t in spiff.ready_human_tasks(workflow) if spiff.spec_name(t) == step)
        spiff.complete(workflow, task, forms.validate(d.steps[step].form, values, {}))
        stored = spiff.dump(workflow)
        text = zlib.decompress(stored).decode("utf-8")
        assert spiffstate._same(json.loads(text), library_value(workflow))
        restored = spiff.restore(d.engine, stored)
        assert spiff.dump(restored) == stored  # the restored workflow stores the same state again
        workflow = restored  # and the case goes on from what was read back
    assert json.loads(text)["tasks"], "the state holds the task tree"


def test_a_conversion_that_drifts_from_the_library_is_caught(monkeypatch):
    _d, workflow = start_minqing()
    convert = spiffstate._task_dicts

    def drifting(workflow, registry):
        found = convert(workflow, registry)
        next(iter(found.values()))["triggered"] = "drifted"
        return found

    monkeypatch.setattr(spiffstate, "_task_dicts", drifting)
    with pytest.raises(AssertionError, match="differs from SpiffWorkflow's own"):
        spiff.dump(workflow)


def test_numbers_keep_their_type_through_a_save():
    """True, 1 and 1.0 are equal in Python; the check and the stored state keep them apart."""
    assert not spiffstate._same({"n": 1}, {"n": True}) and not spiffstate._same([1.0], [1])
    d, workflow = start_minqing()
    workflow.data.update(flag=True, count=3, share=0.5, big=2**70, nested={"n": [1, 2.5, False]})
    restored = spiff.restore(d.engine, spiff.dump(workflow))
    assert spiffstate._same(restored.data, workflow.data)  # 2**70 is beyond orjson: the standard encoder writes it


def test_a_state_written_by_the_standard_library_reads_back():
    """States stored before orjson, or holding NaN (which orjson writes as null), read back as written."""
    d, workflow = start_minqing()
    workflow.data["ratio"] = float("nan")
    registry = spiffstate._serializer.registry
    registry._encoder_mode = True
    try:
        text = spiffstate._standard_text(registry.convert(workflow))
    finally:
        registry._encoder_mode = False
    assert "NaN" in text
    restored = spiff.restore(d.engine, zlib.compress(text.encode("utf-8")))
    assert restored.data["ratio"] != restored.data["ratio"]  # NaN
    assert [t.task_spec.name for t in spiff.ready_human_tasks(restored)] == ["UserTask_classify"]


def test_a_dump_waits_while_another_thread_has_the_serializer_in_the_other_mode():
    """SpiffWorkflow's registry has one mode flag for every thread; a dump in one thread must not
    switch the mode under another thread's conversion (e.g. a migration's spec comparison)."""
    _d, workflow = start_minqing()
    expected = spiff.dump(workflow)
    done: list[bytes] = []
    with spiffstate._registry(False) as registry:
        other = threading.Thread(target=lambda: done.append(spiff.dump(workflow)))
        other.start()
        other.join(timeout=0.3)
        assert not done, "the dump ran while another thread held the registry"
        assert registry._encoder_mode is False, "the holder's mode was switched under it"
    other.join(timeout=10)
    assert done == [expected]
