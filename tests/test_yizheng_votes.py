"""决议: quorum and majority at their edges (村民委员会组织法 Art. 26), and vote records that cannot be true.

The thresholds are properties of the diagram (quorumRatio 2/3, passRatio 1/2): at least two
thirds of the representatives present (三分之二以上, inclusive), more than half of those present
in favour (过半数, exclusive).
"""
from __future__ import annotations

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import InvalidInput
from engine.public import publications
from tests.conftest import PROCESSES
from tests.yizheng import SIGNOFF, Matter


@pytest.fixture
def at_the_vote(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    m = Matter(db, staff)
    m.consult({})
    m.propose_and_review()
    assert m.waiting == ["UserTask_vote"]
    return m


def test_exactly_two_thirds_present_is_a_quorum(at_the_vote):
    at_the_vote.vote(members="30", present="20", votes_for="15", votes_against="5", abstain="0")
    assert at_the_vote.waiting == ["UserTask_publish"]


def test_one_short_of_two_thirds_present_is_no_quorum(at_the_vote):
    at_the_vote.vote(members="30", present="19", votes_for="19", votes_against="0", abstain="0")
    assert at_the_vote.waiting == ["UserTask_vote"]


def test_exactly_half_in_favour_does_not_pass(at_the_vote):
    at_the_vote.vote(members="30", present="24", votes_for="12", votes_against="12", abstain="0")
    assert at_the_vote.waiting == ["UserTask_propose"]


def test_one_more_than_half_in_favour_passes(at_the_vote):
    at_the_vote.vote(members="30", present="24", votes_for="13", votes_against="10", abstain="1")
    assert at_the_vote.waiting == ["UserTask_publish"]


def test_votes_that_do_not_add_up_to_those_present_are_refused_and_nothing_is_saved(at_the_vote):
    before = len(at_the_vote.view().history)
    with pytest.raises(InvalidInput) as err:
        at_the_vote.vote(present="24", votes_for="20", votes_against="3", abstain="0")
    assert err.value.fields == {"abstain": "赞成、反对、弃权之和必须等于实到人数"}
    assert "弃权:赞成、反对、弃权之和必须等于实到人数" in err.value.message
    assert len(at_the_vote.view().history) == before and at_the_vote.waiting == ["UserTask_vote"]


def test_more_present_than_members_is_refused(at_the_vote):
    with pytest.raises(InvalidInput) as err:
        at_the_vote.vote(members="30", present="31", votes_for="31", votes_against="0", abstain="0")
    assert err.value.fields == {"present": "实到人数不能多于应到人数"}
    assert at_the_vote.waiting == ["UserTask_vote"]


def test_a_designer_changes_the_thresholds_in_the_diagram_without_code(db, staff, frozen_clock):
    xml = (PROCESSES / "yizheng_sanyi.bpmn").read_text(encoding="utf-8")
    stricter = xml.replace('name="passRatio" value="1/2"', 'name="passRatio" value="2/3"')
    deployments.deploy(db, stricter.encode("utf-8"), "yizheng_sanyi.bpmn", SYSTEM)
    m = Matter(db, staff)
    m.consult({})
    m.propose_and_review()
    m.vote(members="30", present="24", votes_for="16", votes_against="8", abstain="0")  # exactly 2/3: not more
    assert m.waiting == ["UserTask_propose"]


def test_简易程序_three_items_reviewed_together_and_voted_one_by_one(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    m = Matter(db, staff, "yizheng_jianyi", title="2026 年度低保复核", topic="低保审核",
               items="复核 A-01\n复核 A-02\n\n复核 A-03\n", opinion_summary="统一征求意见,无重大异议。",
               proposal="三户继续享受低保")
    assert m.number.startswith("YJ-")
    assert m.data()["items"] == ["复核 A-01", "复核 A-02", "复核 A-03"]
    m.do("UserTask_review", "yishihui", review_decision="同意提交表决")
    assert m.waiting == ["UserTask_hearing"]  # 低保 eligibility always gets a hearing
    m.do("UserTask_hearing", "liangwei", hearing_attendees="居民代表 9 人", hearing_statements="无异议",
         hearing_conclusion="同意提交表决", hearing_signed="参加人")
    votes = m.task_ids("UserTask_item_vote")
    assert len(votes) == 3
    # each vote's index row keeps its own item, whatever item the case's data happens to hold now
    assert sorted(_stored_item(m, task_id) for task_id in votes) == ["复核 A-01", "复核 A-02", "复核 A-03"]
    outcomes = {"复核 A-01": "20", "复核 A-02": "10", "复核 A-03": "22"}
    for task_id in votes:
        item = _item_of(m, task_id)
        m.do("UserTask_item_vote", "daibiao", task_id=task_id, meeting_date="2026-11-23", members="30",
             present="24", votes_for=outcomes[item], votes_against=str(24 - int(outcomes[item])), abstain="0",
             signed_by="与会代表")
    assert m.waiting == ["UserTask_signoff"]
    board = {p.title: dict(p.body) for p in m.published()}
    assert board["2026 年度低保复核:复核 A-01"]["表决结果"] == "通过"
    assert board["2026 年度低保复核:复核 A-02"]["表决结果"] == "未通过"
    assert board["2026 年度低保复核:复核 A-03"]["表决结果"] == "通过"
    assert all(p.kind == "决议公开" and p.remaining_days == 7 for p in m.published())
    m.do("UserTask_signoff", "jianwei", **SIGNOFF)
    assert m.view().status == "completed"


def test_简易程序_an_item_without_quorum_is_voted_again_and_published_once(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    m = Matter(db, staff, "yizheng_jianyi", title="慰问品发放", topic="慰问品发放", items="第一批\n第二批",
               opinion_summary="无异议", proposal="按户发放")
    m.do("UserTask_review", "yishihui", review_decision="同意提交表决")
    first = m.task_ids("UserTask_item_vote")[0]
    vote = dict(meeting_date="2026-11-23", members="30", votes_against="0", abstain="0", signed_by="与会代表")
    m.do("UserTask_item_vote", "daibiao", task_id=first, present="10", votes_for="10", **vote)
    assert len(m.task_ids("UserTask_item_vote")) == 2 and m.published() == []
    again = [t for t in m.task_ids("UserTask_item_vote")]
    for task_id in again:
        m.do("UserTask_item_vote", "daibiao", task_id=task_id, present="25", votes_for="25", **vote)
    assert len(publications.of_case(db, m.number)) == 2 and m.waiting == ["UserTask_signoff"]


def _stored_item(m: Matter, task_id: int) -> str | None:
    from engine.store.models import HumanTask

    with m.db.read() as session:
        return (session.get(HumanTask, task_id).data or {}).get("item")


def _item_of(m: Matter, task_id: int) -> str:
    from engine.work import tasklist

    return tasklist.get_task(m.db, m.staff["daibiao"], task_id).values["item"]
