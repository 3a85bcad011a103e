"""异议 during a 决议公开's publicity period (一征三议两公开, seeds 004/000): the board entry says to whom and
until when; a resident objects online, which fills the open 登记异议 step for the 社区“两委” to review;
a valid objection sends the matter back to 审议 as the diagram draws. An objection is kept in the case's
data: one not yet reviewed when the period ends is not lost with the 登记异议 step — the step after the
period lists it and must answer it — and the resident reads the answer with the objection's code.

Run on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import notifications
from engine.public import objection_answers, objections, publications
from engine.work import tasklist, timers
from tests.conftest import PROCESSES
from tests.yizheng import PUBLISH, SIGNOFF, Matter

PERIOD_OVER = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)  # 公示开始日期 2026-11-23 + 7 days, 24:00 in China


@pytest.fixture
def in_publicity(db, staff, frozen_clock) -> Matter:
    """A resolution published on the board (决议公开), its 7-day publicity period running."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    y = Matter(db, staff)
    y.consult({})
    y.propose_and_review()
    y.vote()
    y.do("UserTask_publish", "gongzuo", **PUBLISH)
    return y


def entry(y: Matter) -> publications.PublicationView:
    return publications.publication(y.db, y.published()[0].id)


def objection_form(y: Matter, staff) -> dict:
    task_id = y.task_ids("UserTask_objection")[0]
    return tasklist.get_task(y.db, staff["liangwei"], task_id).values


def test_the_board_entry_says_to_whom_and_until_when_to_object(in_publicity):
    shown = entry(in_publicity)
    how = shown.how_to_object
    assert how is not None and how.to == "社区“两委”" and how.until == shown.ends_at and how.online


def test_an_online_objection_fills_the_登记异议_step_and_tells_the_两委(in_publicity, staff):
    y = in_publicity
    received = objections.raise_objection(y.db, entry(y).id, "赵先生", "13800001111", "车位分配方案没有公示细则。")
    assert received.case_number == y.number and received.reviewers == "社区“两委”"
    values = objection_form(y, staff)
    assert values["objection_content"] == ("〔网上异议1〕2026-11-23 赵先生(13800001111)(网上提交):"
                                           "车位分配方案没有公示细则。")
    assert values["objection_by"] == "赵先生(13800001111)(网上提交)" and str(values["objection_date"]) == "2026-11-23"
    assert [(e.data["objection"], e.data["text"]) for e in y.events("objection_received")] == [
        (1, "车位分配方案没有公示细则。")]
    assert received.reference == f"{y.number}-异议1" and len(received.code) == 10
    assert any("收到居民网上异议" in n.text for n in notifications.notifications_for(y.db, staff["liangwei"]))
    # the 两委 review it; a valid objection withdraws the publication and goes back to 审议
    y.do("UserTask_objection", "liangwei", **{k: str(v) for k, v in values.items() if k.startswith("objection_")},
         objection_valid="成立", objection_review="需补充车位分配细则后重新审议")
    assert "UserTask_review" in y.waiting and entry_gone(y)


def entry_gone(y: Matter) -> bool:
    return y.published() == [] and len(y.published(include_withdrawn=True)) == 1


def test_several_objections_before_the_review_are_kept_one_after_another(in_publicity, staff):
    y = in_publicity
    objections.raise_objection(y.db, entry(y).id, "", "", "第一条异议。")
    objections.raise_objection(y.db, entry(y).id, "钱女士", "", "第二条异议。")
    values = objection_form(y, staff)
    assert values["objection_content"].splitlines() == ["〔网上异议1〕2026-11-23 匿名居民(网上提交):第一条异议。",
                                                        "〔网上异议2〕2026-11-23 钱女士(网上提交):第二条异议。"]
    assert values["objection_by"] == "匿名居民(网上提交);钱女士(网上提交)"


def test_an_empty_objection_is_refused_next_to_the_field_and_nothing_is_saved(in_publicity, staff):
    y = in_publicity
    with pytest.raises(InvalidInput) as refused:
        objections.raise_objection(y.db, entry(y).id, "赵先生", "", "   ")
    assert set(refused.value.fields) == {"objection_content"} and "异议" in refused.value.message
    assert y.events("objection_received") == [] and not objection_form(y, staff).get("objection_content")


def test_no_objection_after_the_publicity_period_or_on_other_entries(in_publicity, frozen_clock):
    y = in_publicity
    publication_id = entry(y).id
    with pytest.raises(NotFound):
        objections.raise_objection(y.db, 999_999, "", "", "异议")
    frozen_clock.set(entry(y).ends_at + timedelta(minutes=1))
    assert entry(y).how_to_object is None
    with pytest.raises(Conflict, match="公示期内"):
        objections.raise_objection(y.db, publication_id, "", "", "公示期过了才看到。")


# --- the end of the period loses nothing ----------------------------------------------------------------

def late_form(y: Matter, staff) -> dict:
    return tasklist.get_task(y.db, staff["liangwei"], y.task_ids("UserTask_late_objections")[0]).values


def answer(y: Matter, received: objections.ObjectionReceived) -> objection_answers.ObjectionAnswer:
    return objection_answers.objection_answer(y.db, y.number, received.number, received.code)


def period_over(y: Matter, frozen_clock) -> None:
    frozen_clock.set(PERIOD_OVER)
    assert timers.fire_due(y.db) == 1


def test_an_objection_not_reviewed_when_the_period_ends_is_answered_after_it_and_the_resident_reads_it(
        in_publicity, staff, frozen_clock):
    y = in_publicity
    received = objections.raise_objection(y.db, entry(y).id, "赵先生", "", "车位分配方案没有公示细则。\n请补充。")
    assert not answer(y, received).answered
    period_over(y, frozen_clock)
    assert y.waiting == ["UserTask_late_objections"]  # not 决议公开监督: the objection is still to be answered
    line = "〔网上异议1〕2026-11-23 赵先生(网上提交):车位分配方案没有公示细则。 / 请补充。"
    assert late_form(y, staff)["objections_unreviewed"] == line
    with pytest.raises(InvalidInput) as refused:  # one answer per objection, no fewer, no more
        y.do("UserTask_late_objections", "liangwei", objection_answers="已答复。\n多出的一行。",
             objection_valid="不成立")
    assert set(refused.value.fields) == {"objection_answers"}
    y.do("UserTask_late_objections", "liangwei", objection_answers="细则已在公开栏补充张贴,异议不成立。",
         objection_valid="不成立")
    assert y.waiting == ["UserTask_signoff_publish"]
    read = answer(y, received)
    assert read.answered and (read.conclusion, read.answer) == ("不成立", "细则已在公开栏补充张贴,异议不成立。")
    assert read.content == "车位分配方案没有公示细则。\n请补充。" and read.title == "幸福小区环境综合整治"
    assert y.data()["objections"] == [line]


def test_an_objection_reviewed_in_the_period_is_answered_there_and_not_asked_again(in_publicity, staff, frozen_clock):
    y = in_publicity
    first = objections.raise_objection(y.db, entry(y).id, "", "", "施工时间太长。")
    values = objection_form(y, staff)
    y.do("UserTask_objection", "liangwei", **{k: str(v) for k, v in values.items() if k.startswith("objection_")},
         objection_valid="不成立", objection_review="工期已按最短安排。")
    second = objections.raise_objection(y.db, entry(y).id, "钱女士", "", "噪音扰民。")
    period_over(y, frozen_clock)
    assert late_form(y, staff)["objections_unreviewed"] == "〔网上异议2〕2026-11-23 钱女士(网上提交):噪音扰民。"
    assert (answer(y, first).conclusion, answer(y, first).answer) == ("不成立", "工期已按最短安排。")
    assert not answer(y, second).answered
    y.do("UserTask_late_objections", "liangwei", objection_answers="夜间不施工。", objection_valid="不成立")
    assert answer(y, second).answer == "夜间不施工。" and answer(y, first).answer == "工期已按最短安排。"


def test_a_period_whose_objections_were_all_reviewed_goes_straight_to_the_committee(in_publicity, staff, frozen_clock):
    y = in_publicity
    objections.raise_objection(y.db, entry(y).id, "", "", "施工时间太长。")
    values = objection_form(y, staff)
    y.do("UserTask_objection", "liangwei", **{k: str(v) for k, v in values.items() if k.startswith("objection_")},
         objection_valid="不成立", objection_review="工期已按最短安排。")
    period_over(y, frozen_clock)
    assert y.waiting == ["UserTask_signoff_publish"]


def test_a_valid_objection_after_the_period_goes_back_to_审议_and_the_next_period_starts_clean(
        in_publicity, staff, frozen_clock):
    y = in_publicity
    received = objections.raise_objection(y.db, entry(y).id, "", "", "表决人数不足。")
    period_over(y, frozen_clock)
    y.do("UserTask_late_objections", "liangwei", objection_answers="核实属实,重新审议。", objection_valid="成立")
    assert y.waiting == ["UserTask_review"] and answer(y, received).conclusion == "成立"
    y.do("UserTask_review", "yishihui", review_decision="同意提交表决")
    y.vote()
    y.do("UserTask_publish", "gongzuo", **PUBLISH)
    frozen_clock.set(PERIOD_OVER + timedelta(days=8))
    assert timers.fire_due(y.db) == 1
    assert y.waiting == ["UserTask_signoff_publish"]  # the answered objection is not asked again
    y.do("UserTask_signoff_publish", "jianwei", **SIGNOFF)


@pytest.mark.parametrize("number, code", [(1, "2345678923"), (2, None), (1, "")])
def test_an_answer_is_read_only_with_the_objection_s_own_code(in_publicity, number, code):
    y = in_publicity
    received = objections.raise_objection(y.db, entry(y).id, "", "", "异议。")
    with pytest.raises(NotFound, match="查询码"):
        objection_answers.objection_answer(y.db, y.number, number, received.code if code is None else code)
    assert objection_answers.objection_answer(y.db, y.number, 1, received.shown_code.lower()).content == "异议。"
