"""Residents without an account: submit online (channel 1), follow with a code, supplement, rate.

Each resident action is an engine call on the same 民情流水线 case a clerk would register,
run on SQLite and PostgreSQL.
"""
from __future__ import annotations

import hashlib
from typing import Any

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import Conflict, InvalidInput, NotFound
from engine.public import followup, residents
from engine.public.attachments import Upload
from engine.work import casepages, cases, tasklist
from tests.conftest import PROCESSES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
MATTER = {"topic": "水电气暖", "title": "5号楼停水", "description": "5号楼从昨天起停水。",
          "reporter_name": "周阿姨", "reporter_contact": "13911112222", "address": "幸福小区5号楼"}
FEEDBACK = {"feedback_method": "分散式答复", "answer": "水管已修复,今日起恢复供水。", "answered_at": "2026-11-23"}


@pytest.fixture
def line(db, staff, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def stored_files(db) -> list[bytes]:
    """The bytes of every attachment kept in the database."""
    from sqlalchemy import select

    from engine.store.models import AttachmentContent

    with db.read() as session:
        return [bytes(data) for data in session.scalars(select(AttachmentContent.data))]


def do(db, staff, number: str, step_id: str, who: str, **values: Any) -> None:
    view = casepages.get_case(db, staff["auditor"], number)
    task = next(s for s in view.open_steps if s.step_id == step_id)
    cases.complete_task(db, staff[who], task.task_id, values)


def accepted(db, staff, number: str) -> None:
    """网上受理核实: the clerk accepts the online submission, which goes on to 分类交办."""
    do(db, staff, number, "UserTask_verify_online", "clerk", verified="受理")


def answered(db, staff, number: str, kind: str = "即办件") -> None:
    do(db, staff, number, "UserTask_classify", "leader", kind=kind, assign_note="内部:请张承办尽快处理")
    do(db, staff, number, "UserTask_handle_immediate", "handler", handling_result="更换了阀门")
    do(db, staff, number, "UserTask_feedback", "handler", **FEEDBACK)


def test_online_submission_starts_the_same_case_a_clerk_would(line, staff):
    receipt = residents.submit(line, MATTER, [Upload("现场.png", PNG)])
    view = casepages.get_case(line, staff["auditor"], receipt.number)
    assert receipt.number.startswith("MQ-20261123-")
    assert view.process_id == "minqing_liushuixian" and view.started_by == "resident"
    assert view.data["channel"] == "构筑平台及时受理" and view.data["channel_way"] == "电子信箱/网站"
    assert view.data["received_at"] == "2026-11-23" and view.data["reporter_name"] == "周阿姨"
    assert [r.case_number for r in tasklist.tasks(line, staff["clerk"], "queue").items] == [receipt.number]
    assert stored_files(line) == [PNG]


def test_the_resident_cannot_choose_the_channel(line, staff):
    receipt = residents.submit(line, {**MATTER, "channel": "政务大厅集中受理", "channel_way": "投诉室",
                                            "received_at": "2020-01-01"}, [])
    data = casepages.get_case(line, staff["auditor"], receipt.number).data
    assert (data["channel"], data["channel_way"], data["received_at"]) == (
        "构筑平台及时受理", "电子信箱/网站", "2026-11-23")


def test_an_anonymous_submission_is_accepted(line, staff):
    receipt = residents.submit(line, {"topic": "其他", "title": "路灯坏了", "description": "东门路灯不亮"}, [])
    assert residents.follow(line, receipt.number, receipt.code).title == "路灯坏了"


def test_only_a_hash_of_the_short_code_and_its_case_number_is_kept(line, staff):
    """The code is 10 characters without look-alikes; the case keeps SHA-256 of number and code, never the code."""
    first = residents.submit(line, MATTER, [])
    second = residents.submit(line, MATTER, [])
    assert len(first.code) == 10 and set(first.code) <= set(followup.ALPHABET) and first.code != second.code
    assert not set(first.code) & set("01OILU")
    from sqlalchemy import select

    from engine.store.models import Case

    with line.read() as session:
        stored = session.scalar(select(Case.followup_code_hash).where(Case.number == first.number))
    assert stored == hashlib.sha256(f"{first.number}\n{first.code}".encode()).hexdigest()
    assert first.code not in stored


def test_a_submission_with_missing_fields_names_them_and_saves_nothing(line, staff):
    with pytest.raises(InvalidInput) as err:
        residents.submit(line, {"topic": "火星", "description": ""}, [Upload("a.png", PNG)])
    assert set(err.value.fields) == {"topic", "title", "description"}
    assert tasklist.tasks(line, staff["leader"], "queue").total == 0
    assert stored_files(line) == []


def test_a_wrong_code_and_an_unknown_number_get_the_same_message(line, staff):
    receipt = residents.submit(line, MATTER, [])
    wrong = receipt.code[:-1] + ("Y" if receipt.code.upper().endswith("X") else "X")  # never the code itself
    messages = set()
    for number, code in ((receipt.number, wrong), ("MQ-20261123-999999", receipt.code),
                         (receipt.number, ""), ("", receipt.code)):
        with pytest.raises(NotFound) as err:
            residents.follow(line, number, code)
        messages.add(err.value.message)
    assert messages == {residents.WRONG_CODE}


def test_a_case_registered_by_a_clerk_cannot_be_followed_without_a_code(line, staff):
    started = cases.start_case(line, staff["clerk"], "minqing_liushuixian",
                               {**MATTER, "channel": "政务大厅集中受理"})
    with pytest.raises(NotFound):
        residents.follow(line, started.case_number, "")


def test_follow_shows_stage_kind_and_promised_date_but_no_staff_or_internal_text(line, staff):
    receipt = residents.submit(line, MATTER, [])
    accepted(line, staff, receipt.number)
    do(line, staff, receipt.number, "UserTask_classify", "leader", kind="承诺件", promised_date="2026-12-03",
       assign_note="内部:请张承办尽快处理")
    view = residents.follow(line, receipt.number, receipt.code)
    assert (view.stage, view.kind, view.promised_date, view.completed) == ("办理", "承诺件", "2026-12-03", False)
    assert view.stages == (("受理", "done"), ("办理", "current"), ("反馈", "todo"), ("评价", "todo"))
    assert not view.can_rate and not view.can_supplement and view.answers == ()
    do(line, staff, receipt.number, "UserTask_handle_promised", "handler", handling_result="内部:已联系自来水公司")
    do(line, staff, receipt.number, "UserTask_feedback", "handler", **FEEDBACK)
    view = residents.follow(line, receipt.number, receipt.code)
    assert view.stage == "评价" and view.can_rate
    assert [c.id for c in view.rating_choices] == ["满意", "基本满意", "不满意"]
    assert [(a.text, a.answered_at) for a in view.answers] == [(FEEDBACK["answer"], "2026-11-23")]
    shown = repr(view)
    for secret in ("内部", "张承办", "李主任", "handler", "leader", "周阿姨", "13911112222", "幸福小区5号楼"):
        assert secret not in shown


def test_rating_is_allowed_once_per_answer_and_不满意_goes_to_the_supervisor(line, staff):
    receipt = residents.submit(line, MATTER, [])
    with pytest.raises(Conflict, match="答复后才能评价"):
        residents.rate(line, receipt.number, receipt.code, "满意", "")
    accepted(line, staff, receipt.number)
    answered(line, staff, receipt.number)
    with pytest.raises(InvalidInput) as err:
        residents.rate(line, receipt.number, receipt.code, "还行", "")
    assert set(err.value.fields) == {"rating"}
    residents.rate(line, receipt.number, receipt.code, "不满意", "水压还是很低")
    with pytest.raises(Conflict, match="每次答复只能评价一次"):
        residents.rate(line, receipt.number, receipt.code, "满意", "")
    assert [r.case_number for r in tasklist.tasks(line, staff["supervisor"], "queue").items] == [receipt.number]
    view = residents.follow(line, receipt.number, receipt.code)
    assert [(r.rating, r.comment) for r in view.ratings] == [("不满意", "水压还是很低")]
    assert view.stage == "评价" and not view.can_rate


def test_after_a_reopen_and_a_new_answer_the_resident_rates_again(line, staff):
    receipt = residents.submit(line, MATTER, [])
    accepted(line, staff, receipt.number)
    answered(line, staff, receipt.number)
    residents.rate(line, receipt.number, receipt.code, "不满意", "没解决")
    do(line, staff, receipt.number, "UserTask_review", "supervisor", review_decision="重新办理", review_note="重办")
    assert residents.follow(line, receipt.number, receipt.code).stage == "办理"
    with pytest.raises(Conflict):
        residents.rate(line, receipt.number, receipt.code, "满意", "")
    answered(line, staff, receipt.number)
    residents.rate(line, receipt.number, receipt.code, "满意", "这次好了")
    view = residents.follow(line, receipt.number, receipt.code)
    assert view.completed and [r.rating for r in view.ratings] == ["不满意", "满意"] and len(view.answers) == 2
    assert casepages.get_case(line, staff["auditor"], receipt.number).status == "completed"


def test_补办件_resident_supplements_documents_and_the_waiting_step_completes(line, staff):
    receipt = residents.submit(line, MATTER, [])
    accepted(line, staff, receipt.number)
    do(line, staff, receipt.number, "UserTask_classify", "leader", kind="补办件")
    do(line, staff, receipt.number, "UserTask_notify_missing", "handler", missing_documents="房产证复印件")
    view = residents.follow(line, receipt.number, receipt.code)
    assert view.can_supplement and view.missing_documents == "房产证复印件"
    residents.supplement(line, receipt.number, receipt.code, "已上传房产证复印件",
                         [Upload("房产证.pdf", PDF), Upload("照片.jpg", JPEG)])
    case = casepages.get_case(line, staff["auditor"], receipt.number)
    assert [s.step_id for s in case.open_steps] == ["UserTask_handle_supplemented"]
    assert case.data["supplied"] is True and case.data["supplied_documents"] == "已上传房产证复印件"
    view = residents.follow(line, receipt.number, receipt.code)
    assert not view.can_supplement
    assert [(a.filename, a.content_type) for a in view.attachments] == [
        ("房产证.pdf", "application/pdf"), ("照片.jpg", "image/jpeg")]
    assert residents.read_file(line, receipt.number, receipt.code, view.attachments[0].id).data == PDF
    with pytest.raises(Conflict, match="不需要补充材料"):
        residents.supplement(line, receipt.number, receipt.code, "再补一份", [])


def test_a_supplement_that_fails_in_the_engine_leaves_no_file_behind(line, staff):
    receipt = residents.submit(line, MATTER, [])
    accepted(line, staff, receipt.number)
    do(line, staff, receipt.number, "UserTask_classify", "leader", kind="补办件")
    do(line, staff, receipt.number, "UserTask_notify_missing", "handler", missing_documents="身份证")
    step = next(s for s in casepages.get_case(line, staff["auditor"], receipt.number).open_steps)
    cases.claim(line, staff["clerk"], step.task_id)
    with pytest.raises(Conflict) as err:
        residents.supplement(line, receipt.number, receipt.code, "身份证", [Upload("id.png", PNG)])
    assert "王受理" not in err.value.message
    assert stored_files(line) == [] and residents.follow(line, receipt.number, receipt.code).attachments == ()


def test_a_supplement_needs_a_note(line, staff):
    receipt = residents.submit(line, MATTER, [])
    with pytest.raises(InvalidInput) as err:
        residents.supplement(line, receipt.number, receipt.code, "  ", [Upload("id.png", PNG)])
    assert set(err.value.fields) == {"note"} and stored_files(line) == []


def test_another_cases_file_cannot_be_read_with_ones_own_code(line, staff):
    mine = residents.submit(line, MATTER, [])
    other = residents.submit(line, MATTER, [Upload("别人的.png", PNG)])
    file_id = residents.follow(line, other.number, other.code).attachments[0].id
    with pytest.raises(NotFound):
        residents.read_file(line, mine.number, mine.code, file_id)
