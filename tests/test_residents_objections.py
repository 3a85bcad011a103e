"""异议 during a 决议公开's publicity period (一征三议两公开, seeds 004/000): the board entry says to whom and
until when; a resident objects online, which fills the open 登记异议 step for the 社区“两委” to review;
a valid objection sends the matter back to 审议 as the diagram draws.

Run on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Conflict, InvalidInput, NotFound
from engine.people import notifications
from engine.public import objections, publications
from engine.work import tasklist
from tests.conftest import PROCESSES
from tests.yizheng import PUBLISH, Matter


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
    assert values["objection_content"] == "2026-11-23 赵先生(13800001111)(网上提交):车位分配方案没有公示细则。"
    assert values["objection_by"] == "赵先生(13800001111)(网上提交)" and str(values["objection_date"]) == "2026-11-23"
    assert [e.data["content"] for e in y.events("objection_received")] == ["车位分配方案没有公示细则。"]
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
    assert values["objection_content"].splitlines() == ["2026-11-23 匿名居民(网上提交):第一条异议。",
                                                        "2026-11-23 钱女士(网上提交):第二条异议。"]
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
