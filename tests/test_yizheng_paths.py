"""一征三议两公开: every path through processes/yizheng_sanyi.bpmn, on both databases."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments, spiff
from engine.errors import Forbidden, InvalidInput
from engine.work import findings, tasklist, timers
from tests.conftest import PROCESSES
from tests.yizheng import HEARING, PUBLISH, SIGNOFF, Matter


@pytest.fixture
def procedure(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def publicity_over(frozen_clock, db) -> None:
    frozen_clock.set(datetime(2026, 12, 20, 2, 0, tzinfo=timezone.utc))
    assert timers.fire_due(db) >= 1


def finish(m: Matter, frozen_clock, db) -> None:
    """From 决议公开 to the end: the publicity period runs out without objection."""
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    publicity_over(frozen_clock, db)
    m.do("UserTask_signoff_publish", "jianwei", **SIGNOFF)
    m.do("UserTask_implement", "gongzuo", implementation_note="主路硬化完工,车位划线完成。")
    m.do("UserTask_result_publish", "gongzuo", result_text="整治完成:主路硬化 800 平方米,新增车位 40 个。")
    m.do("UserTask_signoff_result", "jianwei", **SIGNOFF)


def test_a_matter_passes_first_time_and_both_publications_reach_the_board(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    assert m.number.startswith("YZ-20261123-")
    assert m.waiting == ["UserTask_opinion"]
    m.consult({"opinion_stance": "赞成"}, {"opinion_by": "王阿姨", "opinion_stance": "反对"})
    assert [o["opinion_stance"] for o in m.data()["opinions"]] == ["赞成", "反对"]
    m.propose_and_review()
    m.vote()
    assert m.waiting == ["UserTask_publish"]
    finish(m, frozen_clock, procedure)
    view = m.view()
    assert view.status == "completed" and "办结" in [e.data.get("outcome") for e in m.events("case_completed")]
    assert [p.kind for p in m.published()] == ["决议公开", "实施结果公开"]
    assert len(m.events("published")) == 2


def test_opinions_are_recorded_one_by_one_until_the_consultation_period_ends(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.do("UserTask_opinion", "liangwei", opinion_way="意见箱", opinion_stance="建议", opinion_content="增加绿地")
    m.do("UserTask_opinion", "liangwei", opinion_way="入户", opinion_stance="赞成", opinion_content="尽快施工")
    assert m.waiting == ["UserTask_opinion"]
    frozen_clock.set(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))  # after 2026-11-30, the end of the period
    assert timers.fire_due(procedure) == 1
    assert m.waiting == ["UserTask_summary"]
    assert [o["opinion_content"] for o in m.data()["opinions"]] == ["增加绿地", "尽快施工"]


def test_a_consultation_takes_any_number_of_opinions_the_step_repeats_without_deepening_the_case(
        procedure, staff, frozen_clock, monkeypatch):
    """登记意见 is one step done again and again (a loop marker, `loopCondition` “not last_opinion”), not a flow
    that goes round through two gateways: each round of those left the library's tree of steps four levels deeper,
    and at about 210 opinions the step was refused (a 500 before). The depth limit is lowered here to 40 levels:
    60 opinions still go in, the 61st ends the 征集, and every one of them is in the list."""
    monkeypatch.setattr(spiff, "MAX_TREE_DEPTH", 40)
    m = Matter(procedure, staff)
    m.consult(*({"opinion_content": f"第{i}条意见"} for i in range(1, 62)))
    assert m.waiting == ["UserTask_propose"]
    assert [o["opinion_content"] for o in m.data()["opinions"]] == [f"第{i}条意见" for i in range(1, 62)]
    assert [e.data["values"]["opinion_content"] for e in m.events("task_completed")
            if e.step_id == "UserTask_opinion"] == [f"第{i}条意见" for i in range(1, 62)]


def test_the_review_sends_the_proposal_back_with_reasons_then_passes(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.do("UserTask_propose", "liangwei", proposal="初稿", opinions_adopted="—")
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_review", "yishihui", review_decision="退回修改")
    assert set(err.value.fields) == {"review_reasons"}
    m.do("UserTask_review", "yishihui", review_decision="退回修改", review_reasons="未说明资金来源")
    assert m.waiting == ["UserTask_propose"]
    m.propose_and_review(proposal="修改稿:资金由区级整治专项列支")
    m.vote()
    assert m.waiting == ["UserTask_publish"]


def test_a_missed_quorum_reconvenes_the_meeting(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review()
    m.vote(present="15", votes_for="15", votes_against="0", abstain="0")
    assert m.waiting == ["UserTask_vote"]
    m.vote()
    assert m.waiting == ["UserTask_publish"]


def test_a_rejected_vote_goes_back_to_the_proposal_as_the_meeting_recorded(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review()
    m.vote(votes_for="10", votes_against="12", abstain="2")
    assert m.waiting == ["UserTask_propose"]


def test_a_rejected_vote_ends_the_matter_when_the_meeting_so_decides(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review()
    m.vote(votes_for="10", votes_against="12", abstain="2", if_rejected="终止")
    view = m.view()
    assert view.status == "completed" and view.open_steps == ()
    assert m.events("case_completed")[0].data["outcome"] == "决议未通过,终止"
    assert m.published() == []


def test_a_hearing_is_held_before_the_vote_and_does_not_replace_it(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review(hold_hearing="true")
    assert m.waiting == ["UserTask_hearing"]
    m.do("UserTask_hearing", "liangwei", **HEARING)
    assert m.waiting == ["UserTask_vote"]


def test_a_低保_matter_always_has_a_hearing(procedure, staff, frozen_clock):
    m = Matter(procedure, staff, topic="低保审核", title="2026 年度低保复核")
    m.consult({})
    m.propose_and_review()
    assert m.waiting == ["UserTask_hearing"]


def test_a_valid_objection_withdraws_the_resolution_and_returns_to_the_review(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review()
    m.vote()
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    assert m.waiting == ["UserTask_objection"]
    m.do("UserTask_objection", "liangwei", objection_by="赵先生", objection_content="车位分配方案未经业主确认",
         objection_valid="成立", objection_review="异议成立,需重新审议")
    assert m.waiting == ["UserTask_review"]
    assert m.published() == [] and len(m.published(include_withdrawn=True)) == 1
    assert len(m.events("publication_withdrawn")) == 1
    assert timers.fire_due(procedure) == 0  # the publicity timer went with the withdrawn publication


def test_a_dismissed_objection_keeps_the_publicity_period_running(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review()
    m.vote()
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    frozen_clock.set(datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc))
    m.do("UserTask_objection", "liangwei", objection_content="施工时间太长", objection_valid="不成立",
         objection_review="工期已按最短安排")
    assert m.waiting == ["UserTask_objection"]
    # the period runs to the end of its 7th day (公示开始日期 2026-11-23 + 7, 24:00 China time), not 7 days
    # after the objection: the loop back to 登记异议 keeps the period's date
    frozen_clock.set(datetime(2026, 11, 30, 15, 59, tzinfo=timezone.utc))
    assert timers.fire_due(procedure) == 0
    frozen_clock.set(datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc))
    assert timers.fire_due(procedure) == 1
    assert m.waiting == ["UserTask_signoff_publish"]
    assert len(m.published()) == 1


def test_the_supervisory_committee_records_a_finding_at_any_step(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    findings.record_finding(procedure, staff["jianwei"], m.number, "征求意见方式单一,建议增加入户")
    with pytest.raises(Forbidden):
        findings.record_finding(procedure, staff["liangwei"], m.number, "自查")
    [finding] = m.events("finding")
    assert finding.actor == "jianwei" and finding.data["text"] == "征求意见方式单一,建议增加入户"


def test_a_sign_off_that_is_not_complete_needs_a_note(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.propose_and_review()
    m.vote()
    m.do("UserTask_publish", "gongzuo", **PUBLISH)
    publicity_over(frozen_clock, procedure)
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_signoff_publish", "jianwei", signoff_complete="true")
    assert set(err.value.fields) == {"signoff_note"}


def test_each_step_is_worked_only_by_its_lane(procedure, staff, frozen_clock):
    m = Matter(procedure, staff)
    m.consult({})
    m.do("UserTask_propose", "liangwei", proposal="初稿", opinions_adopted="—")
    assert [t.step_id for t in tasklist.tasks(procedure, staff["yishihui"], "queue").items] == ["UserTask_review"]
    with pytest.raises(Forbidden):
        m.do("UserTask_review", "daibiao", review_decision="同意提交表决")
