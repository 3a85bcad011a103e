"""民情流水线, path by path: 民情受理 → 限期办理 → 公示反馈 → 跟踪监督.

Each test is one path through processes/minqing_liushuixian.bpmn. Every step is
saved and reloaded from the database (SQLite and PostgreSQL).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.clock import CHINA_TZ
from engine.errors import Forbidden, InvalidInput
from engine.work import cases, tasklist, timers
from tests.conftest import PROCESSES
from tests.minqing import PROCESS, Matter

FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已处理完毕,请查看。"}  # 答复日期: today, its default


@pytest.fixture
def line(db, staff, frozen_clock):
    """The deployed 民情流水线 with the demo staff."""
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


def finish_with_rating(m: Matter, rating: str = "满意") -> None:
    m.do("UserTask_feedback", "handler", **FEEDBACK)
    m.do("UserTask_rate", "clerk", rating=rating, rating_comment="回访记录")


def test_intake_issues_a_case_number_at_once_and_goes_to_the_leader(line, staff):
    m = Matter(line, staff)
    assert m.number.startswith("MQ-20261123-")
    assert m.waiting == ["UserTask_classify"]
    data = m.data()
    assert data["channel"] == "构筑平台及时受理" and data["received_at"] == "2026-11-23"
    assert [r.case_number for r in tasklist.tasks(line, staff["leader"], "queue").items] == [m.number]


def test_intake_refuses_an_unknown_channel_and_saves_nothing(line, staff):
    with pytest.raises(InvalidInput) as err:
        Matter(line, staff, channel="微博", title="")
    assert set(err.value.fields) == {"channel", "title"}
    assert tasklist.tasks(line, staff["leader"], "queue").total == 0


def _title_max_length(db) -> int:
    """The 事项标题 field's maxlength as the deployed diagram says (a designer may change it)."""
    with db.read() as session:
        d = deployments.diagram_of(session, deployments.latest_version_id(session, PROCESS))
    [title] = [f for f in d.start_form if f.id == "title"]
    assert title.max_length, "the intake form's title has a maxlength"
    return title.max_length


def test_a_title_of_exactly_maxlength_is_accepted_and_one_more_is_refused(line, staff):
    """maxlength is inclusive: a title of exactly that many characters is kept whole; one character
    more is refused, naming the field and the limit, and nothing is saved."""
    limit = _title_max_length(line)
    exact = ("暖" * limit)
    m = Matter(line, staff, title=exact)
    assert m.data()["title"] == exact and m.view().title == exact
    with pytest.raises(InvalidInput) as err:
        Matter(line, staff, title=exact + "气")
    assert err.value.fields == {"title": f"不能超过 {limit} 个字(现有 {limit + 1} 个)"}
    assert [r.case_number for r in tasklist.tasks(line, staff["leader"], "queue").items] == [m.number]


def test_即办件_is_handled_at_once_and_closed(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    assert m.waiting == ["UserTask_handle_immediate"]
    m.do("UserTask_handle_immediate", "handler", handling_result="当场联系热力公司排气,已恢复。")
    finish_with_rating(m)
    view = m.view()
    assert view.status == "completed" and view.kind == "即办件"
    assert m.history_steps() == ["UserTask_classify", "UserTask_handle_immediate", "UserTask_feedback",
                                 "UserTask_rate"]


def test_承诺件_promised_date_becomes_the_due_date(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-12-03")
    step = m.view().open_steps[0]
    assert step.step_id == "UserTask_handle_promised"
    assert step.due_at.astimezone(CHINA_TZ).date() == date(2026, 12, 3)
    m.do("UserTask_handle_promised", "handler", handling_result="已更换阀门")
    finish_with_rating(m, "基本满意")
    assert m.view().status == "completed"


def test_承诺件_needs_a_promised_date(line, staff):
    m = Matter(line, staff)
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_classify", "leader", kind="承诺件")
    assert err.value.fields == {"promised_date": "此项为必填项"}
    assert m.waiting == ["UserTask_classify"]


def test_承诺件_overdue_escalates_to_the_supervisor(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-25")
    frozen_clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc))
    assert timers.fire_due(line) == 1
    assert sorted(m.waiting) == ["UserTask_handle_promised", "UserTask_supervise_overdue"]
    m.do("UserTask_supervise_overdue", "supervisor", supervision_note="请于明日办结")
    m.do("UserTask_handle_promised", "handler", handling_result="已办结")
    assert m.waiting == ["UserTask_feedback"]


def test_补办件_documents_supplied_then_handled(line, staff):
    m = Matter(line, staff, topic="贫困救助", title="申请临时救助")
    m.do("UserTask_classify", "leader", kind="补办件")
    m.do("UserTask_notify_missing", "handler", missing_documents="户口簿复印件;医院诊断证明")
    assert m.waiting == ["UserTask_supplement"]
    m.do("UserTask_supplement", "clerk", supplied="true", supplied_documents="户口簿复印件、诊断证明")
    m.do("UserTask_handle_supplemented", "handler", handling_result="已上报民政,发放临时救助")
    finish_with_rating(m)
    assert m.view().status == "completed"


def test_补办件_not_supplied_is_closed_with_the_reason(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="补办件")
    m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_supplement", "clerk", supplied="false")
    assert "not_supplied_reason" in err.value.fields
    m.do("UserTask_supplement", "clerk", supplied="false", not_supplied_reason="居民表示无法提供产权证明")
    assert m.waiting == ["UserTask_feedback"]
    assert m.data()["not_supplied_reason"] == "居民表示无法提供产权证明"


def test_补办件_waiting_period_expires_and_the_case_is_closed(line, staff, frozen_clock):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="补办件")
    m.do("UserTask_notify_missing", "handler", missing_documents="产权证明")
    frozen_clock.set(frozen_clock.value + timedelta(days=16))
    assert timers.fire_due(line) == 1
    assert m.waiting == ["UserTask_close_unsupplied"]
    m.do("UserTask_close_unsupplied", "handler", not_supplied_reason="逾期未补齐")
    assert m.waiting == ["UserTask_feedback"]
    assert "timer_fired" in [e.kind for e in m.view().history]


def test_上报件_approved_answer_due_three_working_days_after_the_reply(line, staff, frozen_clock):
    frozen_clock.set(datetime(2026, 9, 29, 2, 0, tzinfo=timezone.utc))  # answered before the deadline
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="区住建局", report_content="需更换主管道")
    assert m.waiting == ["UserTask_superior_reply"]
    frozen_clock.set(datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc))  # the superior replies the next day
    with pytest.raises(Forbidden):
        m.do("UserTask_superior_reply", "handler", superior_decision="批准", reply="同意", reply_date="2026-09-30")
    m.do("UserTask_superior_reply", "superior", superior_decision="批准", reply="同意更换", reply_date="2026-09-30")
    feedback = m.view().open_steps[0]
    assert feedback.step_id == "UserTask_feedback"
    # 9-30 reply; 10-1…10-7 National Day holidays; working days 10-8, 10-9, 10-10 (调休 Saturday)
    assert feedback.due_at.astimezone(CHINA_TZ).date() == date(2026, 10, 10)
    finish_with_rating(m)
    assert m.view().status == "completed"


def test_上报件_rejected_by_the_superior_is_still_answered(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="上报件")
    m.do("UserTask_report_up", "handler", report_department="街道城管科", report_content="申请增设垃圾桶")
    m.do("UserTask_superior_reply", "superior", superior_decision="不批准", reply="不符合规划", reply_date="2026-11-23")
    assert m.waiting == ["UserTask_feedback"]
    assert m.data()["superior_decision"] == "不批准"
    finish_with_rating(m, "不满意")
    assert m.waiting == ["UserTask_review"]


def test_建议件_explains_and_refers_to_the_competent_department(line, staff):
    m = Matter(line, staff, topic="政策咨询", title="咨询社保转移")
    m.do("UserTask_classify", "leader", kind="建议件")
    m.do("UserTask_advise", "handler", explanation="社保转移由区社保局办理", referral_department="区社保局")
    finish_with_rating(m)
    assert m.data()["referral_department"] == "区社保局"


def test_handler_returns_a_wrongly_dispatched_task_and_it_is_classified_again(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_handle_immediate", "handler", return_to_leader="true")
    assert "return_reason" in err.value.fields
    m.do("UserTask_handle_immediate", "handler", return_to_leader="true", return_reason="需上级审批,非即办")
    assert m.waiting == ["UserTask_classify"]
    m.do("UserTask_classify", "leader", kind="上报件")
    assert m.waiting == ["UserTask_report_up"]


def test_unsatisfied_rating_goes_to_the_supervisor_who_reopens_then_closes(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已联系")
    finish_with_rating(m, "不满意")
    assert m.waiting == ["UserTask_review"]
    m.do("UserTask_review", "supervisor", review_decision="重新办理", review_note="问题未解决,重办")
    assert m.waiting == ["UserTask_classify"]
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-11-30")
    m.do("UserTask_handle_promised", "handler", handling_result="已彻底修复")
    finish_with_rating(m, "不满意")
    m.do("UserTask_review", "supervisor", review_decision="结案", review_note="已按规定办理,予以结案")
    view = m.view()
    assert view.status == "completed"
    ratings = [e.data["values"]["rating"] for e in view.history
               if e.step_id == "UserTask_rate" and e.kind == "task_completed"]
    assert ratings == ["不满意", "不满意"]


def test_feedback_may_be_marked_for_the_public_board(line, staff):
    m = Matter(line, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已修复")
    with pytest.raises(InvalidInput) as err:
        m.do("UserTask_feedback", "handler", **FEEDBACK, publish="true")
    assert "public_summary" in err.value.fields
    m.do("UserTask_feedback", "handler", **FEEDBACK, publish="true", public_summary="3号楼暖气已恢复正常")
    assert m.data()["publish"] is True


def test_one_专项反馈_answers_every_linked_case(line, staff):
    first, second = Matter(line, staff), Matter(line, staff, reporter_name="另一位居民")
    for m in (first, second):
        m.do("UserTask_classify", "leader", kind="即办件")
        m.do("UserTask_handle_immediate", "handler", handling_result="统一处理")
    cases.link_cases(line, staff["clerk"], first.number, second.number)
    first.do("UserTask_feedback", "handler", **{**FEEDBACK, "feedback_method": "专项反馈"})
    assert first.waiting == ["UserTask_rate"] and second.waiting == ["UserTask_rate"]
    answered = [e for e in second.view().history if e.step_id == "UserTask_feedback" and e.kind == "task_completed"]
    assert answered[0].data["via"] == first.number


def test_单项式反馈_does_not_answer_linked_cases(line, staff):
    first, second = Matter(line, staff), Matter(line, staff)
    for m in (first, second):
        m.do("UserTask_classify", "leader", kind="即办件")
        m.do("UserTask_handle_immediate", "handler", handling_result="处理")
    cases.link_cases(line, staff["clerk"], first.number, second.number)
    first.do("UserTask_feedback", "handler", **FEEDBACK)
    assert second.waiting == ["UserTask_feedback"]


def test_running_cases_keep_their_diagram_version(line, staff, tmp_path):
    m = Matter(line, staff)
    changed = (PROCESSES / "minqing_liushuixian.bpmn").read_text().replace('name="分类交办"', 'name="分类派单"')
    path = tmp_path / "minqing_liushuixian.bpmn"
    path.write_text(changed)
    version, created = deployments.deploy(line, path.read_bytes(), path.name, SYSTEM)
    assert created
    newer = Matter(line, staff)
    assert m.view().open_steps[0].step_name == "分类交办"
    assert newer.view().open_steps[0].step_name == "分类派单"
    assert m.view().version_id != newer.view().version_id
    m.do("UserTask_classify", "leader", kind="即办件")
    assert m.waiting == ["UserTask_handle_immediate"]
    assert tasklist.get_task(line, staff["leader"], newer.task_id("UserTask_classify")).step_name == "分类派单"
    del version


def test_who_may_do_what(line, staff):
    m = Matter(line, staff)
    with pytest.raises(Forbidden):
        m.do("UserTask_classify", "handler", kind="即办件")
    with pytest.raises(Forbidden):
        cases.start_case(line, staff["handler"], PROCESS, {})
