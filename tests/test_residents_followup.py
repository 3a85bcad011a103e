"""What a resident holds and reads: a short 查询码 an older person can copy, a receipt of what was submitted
and what happens next, and the true 状态 of the matter (from its open steps or its end).

Run on SQLite and PostgreSQL.
"""
from __future__ import annotations

# ruff: noqa: F811  (fixtures imported from the module that defines them, then used as arguments)

import secrets
from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from engine.clock import CHINA_TZ
from engine.errors import NotFound
from engine.public import followup, residents
from engine.store.models import Case
from engine.work import timers
from tests.test_residents import FEEDBACK, MATTER, accepted, answered, do, line  # noqa: F401


def test_a_code_is_ten_characters_without_look_alikes_shown_in_two_groups():
    codes = {followup.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 10 and not set(c) & set("01OILU") and set(c) <= set(followup.ALPHABET) for c in codes)
    assert len(followup.ALPHABET) == 30 and followup.grouped("7KQMX3WDR9") == "7KQMX-3WDR9"


def test_the_code_is_found_typed_in_lower_case_with_spaces_or_hyphens(line, staff):
    receipt = residents.submit(line, MATTER, [])
    for typed in (receipt.code, receipt.code.lower(), receipt.shown_code, " ".join(receipt.shown_code.split("-"))):
        assert residents.follow(line, receipt.number, typed).number == receipt.number
    with pytest.raises(NotFound):
        residents.follow(line, receipt.number, receipt.code[:-1])


def test_a_long_code_printed_on_an_old_receipt_still_opens_its_case(line, staff):
    """Codes issued before the short format were 32 characters, stored as the SHA-256 of the code alone."""
    receipt = residents.submit(line, MATTER, [])
    old = secrets.token_urlsafe(24)
    with line.write() as session:
        session.execute(update(Case).where(Case.number == receipt.number)
                        .values(followup_code_hash=followup.legacy_hash(old)))
    assert residents.follow(line, receipt.number, old).number == receipt.number
    with pytest.raises(NotFound):
        residents.follow(line, receipt.number, old.upper() if old != old.upper() else old.lower())
    with pytest.raises(NotFound):  # the old code of one case opens no other
        residents.follow(line, residents.submit(line, MATTER, []).number, old)


def test_the_receipt_lists_what_was_submitted_and_when_the_office_will_respond(line, staff):
    """网上受理核实 has 1 个工作日 in the diagram: submitted Monday 2026-11-23, checked by Tuesday."""
    receipt = residents.submit(line, MATTER, [])
    assert receipt.received_at == "2026-11-23 10:00"
    assert receipt.submitted == (("事项类别", "水电气暖"), ("事项标题", "5号楼停水"))
    # a receipt gets left on counters: the rest is named, not shown
    assert receipt.withheld == ("问题描述", "反映人姓名", "联系方式", "地址")
    for private in ("周阿姨", "13911112222", "幸福小区5号楼", "停水。"):
        assert private not in repr(receipt)
    assert [(s.name, s.limit, s.due) for s in receipt.next_steps] == [("网上受理核实", "1 个工作日", "2026-11-24")]


def state(db, receipt) -> tuple[str, str, bool]:
    view = residents.follow(db, receipt.number, receipt.code)
    return view.stage, view.state, view.completed


def test_the_state_follows_the_open_steps_in_residents_words(line, staff):
    receipt = residents.submit(line, MATTER, [])
    assert state(line, receipt) == ("受理", "受理中", False)
    accepted(line, staff, receipt.number)
    do(line, staff, receipt.number, "UserTask_classify", "leader", kind="即办件")
    assert state(line, receipt) == ("办理", "办理中", False)
    do(line, staff, receipt.number, "UserTask_handle_immediate", "handler", handling_result="更换了阀门")
    assert state(line, receipt) == ("反馈", "答复中", False)
    do(line, staff, receipt.number, "UserTask_feedback", "handler", **FEEDBACK)
    assert state(line, receipt) == ("评价", "待您评价", False)
    residents.rate(line, receipt.number, receipt.code, "不满意", "没修好")
    assert state(line, receipt) == ("评价", "监督复核中", False)
    do(line, staff, receipt.number, "UserTask_review", "supervisor", review_decision="结案", review_note="已核实")
    assert state(line, receipt) == ("评价", "已办结", True)


def test_满意_while_a_逾期督办_is_still_open_reads_监督复核中_not_评价中(line, staff, frozen_clock):
    """The promised date passed (逾期督办 opened beside the handling); after the answer the resident rates
    满意, the main line ends, and only the supervisor's step is open: the matter is not 评价中 any more."""
    receipt = residents.submit(line, MATTER, [])
    accepted(line, staff, receipt.number)
    do(line, staff, receipt.number, "UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(datetime(2026, 11, 26, 0, 1, tzinfo=CHINA_TZ).astimezone(timezone.utc))
    assert timers.fire_due(line) == 1
    assert state(line, receipt) == ("办理", "办理中", False)  # the handling is still open beside the 督办
    do(line, staff, receipt.number, "UserTask_handle_promised", "handler", handling_result="已修复")
    do(line, staff, receipt.number, "UserTask_feedback", "handler", **FEEDBACK)
    residents.rate(line, receipt.number, receipt.code, "满意", "")
    assert state(line, receipt) == ("评价", "监督复核中", False)
    do(line, staff, receipt.number, "UserTask_supervise_overdue", "supervisor", supervision_note="已督促")
    assert state(line, receipt) == ("评价", "已办结", True)


def test_a_补办件_waiting_for_documents_reads_待您补充材料(line, staff):
    receipt = residents.submit(line, MATTER, [])
    accepted(line, staff, receipt.number)
    do(line, staff, receipt.number, "UserTask_classify", "leader", kind="补办件")
    do(line, staff, receipt.number, "UserTask_notify_missing", "handler", missing_documents="户口本复印件",
       notice_date="2026-11-23")
    assert state(line, receipt) == ("办理", "待您补充材料", False)

