"""A diagram expression that failed on a case shows, in Chinese, on the case page and in the auditor's trace."""
from __future__ import annotations

from engine.work import cases
from tests.conftest import DATA, deploy_file


def test_a_failed_deadline_expression_is_a_visible_note_for_staff_and_auditors(minyi_db, staff_actors, login_as):
    deploy_file(minyi_db, DATA / "expression_sites.bpmn")
    number = cases.start_case(minyi_db, staff_actors["clerk"], "expression_sites", {"title": "路灯"}).case_number
    note = "办理期限(dueDate)\n  <code>add_days(reply_date, 3)</code> 无法计算:表达式引用了不存在的字段 “reply_date”"
    client = login_as("clerk")
    page = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "流程图表达式无法计算" in page and note in page
    assert "本步骤没有办理期限;请流程设计人员修改流程图" in page
    client.post("/logout")
    trace = login_as("auditor").get(f"/audit/cases/{number}").get_data(as_text=True)
    assert "流程图表达式无法计算" in trace and note in trace
