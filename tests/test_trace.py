"""The auditor's trace of a 民情 case: the path it took on its diagram, for each of the five kinds,
and the timeline — who, when, what was entered, what changed, deadlines met or missed, and
which gateway condition was true."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.actor import SYSTEM
from engine.audit import trace
from engine.bpmn import deployments
from engine.errors import Forbidden
from engine.work import timers
from tests.conftest import PROCESSES
from tests.minqing import Matter

FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已处理完毕", "answered_at": "2026-11-23"}
INTAKE_PATH = {"Flow_intake", "Flow_registered_by_clerk", "Flow_to_classify", "Flow_classified"}
CLOSING_PATH = {"Flow_to_feedback", "Flow_to_rate", "Flow_rated", "Flow_satisfied"}


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def close(m: Matter, rating: str = "满意") -> None:
    m.do("UserTask_feedback", "handler", **FEEDBACK)
    m.do("UserTask_rate", "clerk", rating=rating, rating_comment="回访")


def drawn(line, staff, m: Matter) -> tuple[dict[str, str], set[str], trace.Trace]:
    t = trace.get_trace(line, staff["auditor"], m.number)
    return {s.element_id: s.state for s in t.shapes if s.state}, {e.flow_id for e in t.edges if e.state}, t


def test_即办件_path_is_highlighted_end_to_end(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="当场处理")
    close(m)
    states, flows, t = drawn(line, staff, m)
    assert flows == INTAKE_PATH | CLOSING_PATH | {"Flow_jiban", "Flow_immediate_done", "Flow_immediate_ok"}
    assert {k for k, v in states.items() if v == "done"} == {
        "StartEvent_intake", "Gateway_online", "Gateway_reclassify", "UserTask_classify", "ExclusiveGateway_kind",
        "UserTask_handle_immediate", "Gateway_return_immediate", "Gateway_handled", "UserTask_feedback",
        "UserTask_rate", "Gateway_rating", "EndEvent_closed"}
    assert "current" not in states.values() and t.chain_ok


def test_承诺件_overdue_shows_the_fired_deadline_and_the_open_steps(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc))
    assert timers.fire_due(line) == 1
    states, flows, t = drawn(line, staff, m)
    assert states["UserTask_handle_promised"] == "current" and states["UserTask_supervise_overdue"] == "current"
    assert states["BoundaryEvent_promised_overdue"] == "done"
    assert {"Flow_chengnuo", "Flow_overdue"} <= flows and "Flow_jiban" not in flows
    m.do("UserTask_handle_promised", "handler", handling_result="已办结")
    late = [e for e in trace.get_trace(line, staff["auditor"], m.number).timeline
            if e.kind == "task_completed" and e.step_id == "UserTask_handle_promised"][0]
    assert late.on_time is False and late.due_at is not None
    assert late.waited == timedelta(days=2, hours=23)  # ready 11-23 10:00, done 11-26 09:00 China time
    assert [e.kind for e in t.timeline].count("timer_fired") == 1


def test_补办件_expired_wait_marks_the_supplement_step_cancelled(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="补办件")
    m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
    frozen_clock.set(frozen_clock.value + timedelta(days=16))
    timers.fire_due(line)
    states, flows, _ = drawn(line, staff, m)
    assert states["UserTask_supplement"] == "cancelled"
    assert states["BoundaryEvent_supplement_timeout"] == "done"
    assert states["UserTask_close_unsupplied"] == "current"
    assert {"Flow_buban", "Flow_missing_notified", "Flow_missing_wait", "Flow_supplement_timeout"} <= flows
    assert "Flow_missing_return" not in flows


def test_上报件_path_goes_through_the_superior(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="区住建局", report_content="更换主管道")
    m.do("UserTask_superior_reply", "superior", superior_decision="批准", reply="同意", reply_date="2026-11-23")
    states, flows, _ = drawn(line, staff, m)
    assert {"Flow_shangbao", "Flow_report_done", "Flow_report_sent", "Flow_superior_replied",
            "Flow_to_feedback"} <= flows
    assert states["UserTask_superior_reply"] == "done" and states["UserTask_feedback"] == "current"


def test_建议件_path_and_the_unsatisfied_branch(line, staff):
    m = Matter(line, staff, topic="政策咨询")
    m.do("UserTask_classify", "leader", kind="建议件")
    m.do("UserTask_advise", "handler", explanation="由区社保局办理", referral_department="区社保局")
    close(m, "不满意")
    states, flows, _ = drawn(line, staff, m)
    assert {"Flow_jianyi", "Flow_advise_done", "Flow_advise_ok", "Flow_unsatisfied"} <= flows
    assert "Flow_satisfied" not in flows and states["UserTask_review"] == "current"


def test_gateway_decisions_name_the_condition_that_was_true(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="处理")
    close(m)
    decisions = {e.step_id: e.flows[0] for e in trace.get_trace(line, staff["auditor"], m.number).timeline
                 if e.kind == "gateway_decided"}
    assert decisions["ExclusiveGateway_kind"]["condition"] == "${kind == '即办件'}"
    assert decisions["ExclusiveGateway_kind"]["target_name"] == "即办件办理"
    rating = decisions["Gateway_rating"]
    assert (rating["id"], rating["name"], rating["condition"], rating["default"]) == (
        "Flow_satisfied", "满意/基本满意", "", True)
    assert decisions["Gateway_return_immediate"]["default"] is True


def test_a_returned_then_reclassified_case_shows_both_branches_and_the_changed_value(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", return_to_leader="true", return_reason="需上报")
    m.do("UserTask_classify", "leader", kind="上报件")
    states, flows, t = drawn(line, staff, m)
    assert {"Flow_jiban", "Flow_immediate_return", "Flow_shangbao"} <= flows
    assert "Flow_immediate_ok" not in flows
    second = [e for e in t.timeline if e.kind == "task_completed" and e.step_id == "UserTask_classify"][1]
    kind = {f.id: f for f in second.fields}["kind"]
    assert (kind.label, kind.value, kind.previous, kind.changed) == ("办理方式", "上报件", "即办件", True)
    assert second.actor_name == "李主任"


def test_only_auditors_read_traces(line, staff):
    m = Matter(line, staff)
    with pytest.raises(Forbidden):
        trace.get_trace(line, staff["handler"], m.number)
