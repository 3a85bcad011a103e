"""What the office hands a resident on paper for a window or phone case: a 受理回执 with a new 查询码,
and for a 补办件 the 书面告知书 listing the missing documents (seed 002: told in writing).

Run on SQLite and PostgreSQL.
"""
from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from the module that defines them, then used as arguments)

import pytest

from engine.errors import Conflict, Forbidden, NotFound
from engine.public import notices, residents
from engine.work import casepages, cases
from tests.test_residents import MATTER, do, line  # noqa: F401

WINDOW = {**MATTER, "channel": "政务大厅集中受理", "channel_way": "政务大厅窗口"}


def registered_at_the_window(db, staff) -> str:
    return cases.start_case(db, staff["clerk"], "minqing_liushuixian", WINDOW).case_number


def test_the_clerks_receipt_gives_a_window_case_a_code_the_resident_follows_with(line, staff):
    number = registered_at_the_window(line, staff)
    receipt = notices.issue_receipt(line, staff["clerk"], number)
    assert receipt.number == number and len(receipt.code) == 10
    assert residents.follow(line, number, receipt.code).state == "办理中"  # 分类交办 waits for the leader
    assert dict(receipt.submitted)["事项标题"] == "5号楼停水" and "周阿姨" not in repr(receipt)
    assert [s.name for s in receipt.next_steps] == ["分类交办"]


def test_printing_again_issues_a_new_code_and_the_earlier_one_stops_working(line, staff):
    """补发查询码: a resident who lost the receipt gets a new one; the lost code opens nothing any more."""
    number = registered_at_the_window(line, staff)
    first = notices.issue_receipt(line, staff["clerk"], number)
    second = notices.issue_receipt(line, staff["leader"], number)
    assert residents.follow(line, number, second.code).number == number
    with pytest.raises(NotFound):
        residents.follow(line, number, first.code)
    history = casepages.get_case(line, staff["auditor"], number).history
    issued = [e for e in history if e.kind == "followup_code_issued"]
    assert len(issued) == 2 and all(first.code not in repr(e) and second.code not in repr(e) for e in issued)


def test_only_the_registering_roles_print_a_receipt(line, staff):
    number = registered_at_the_window(line, staff)
    do(line, staff, number, "UserTask_classify", "leader", kind="即办件")
    with pytest.raises(Forbidden, match="受理员"):
        notices.issue_receipt(line, staff["handler"], number)  # involved in the case, but not a registering role
    with pytest.raises(Forbidden):
        notices.issue_receipt(line, staff["auditor"], number)  # reads every case, acts on none
    with pytest.raises(NotFound):
        notices.issue_receipt(line, staff["clerk"], "MQ-20261123-999999")


def test_the_written_notice_lists_the_missing_documents_and_the_period_to_hand_them_in(line, staff):
    number = registered_at_the_window(line, staff)
    with pytest.raises(Conflict, match="书面告知补办"):
        notices.written_notice(line, staff["clerk"], number)
    do(line, staff, number, "UserTask_classify", "leader", kind="补办件")
    do(line, staff, number, "UserTask_notify_missing", "handler", missing_documents="户口本复印件;房产证复印件",
       notice_date="2026-11-23")
    notice = notices.written_notice(line, staff["handler"], number)
    assert (notice.number, notice.title, notice.reporter_name) == (number, "5号楼停水", "周阿姨")
    assert (notice.missing_documents, notice.notice_date, notice.period) == ("户口本复印件;房产证复印件", "2026-11-23",
                                                                             "15 天")
    assert notice.deadline == "2026-12-08 10:00"  # 15 days from the notice step, on the engine's clock (Beijing time)
