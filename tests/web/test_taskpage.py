"""The task page: the case so far, the step's form from the diagram, and completing it."""
from __future__ import annotations

import re

from engine.work import cases
from tests.web.conftest import login


def test_task_page_renders_the_diagram_form(client, start_approval):
    result = start_approval("路灯不亮", "3")
    login(client, "leader")
    html = client.get(f"/tasks/{result.new_tasks[0].id}").get_data(as_text=True)
    assert '<label for="f-decision">结论<span class="req" aria-hidden="true">*</span></label>' in html
    assert re.search(r'<select id="f-decision" name="decision" required', html)
    assert '<option value="同意">同意</option>' in html
    assert '<label for="f-reason">理由</label>' in html and 'aria-describedby="hint-reason"' in html
    # what the clerk entered, under the start form's labels
    assert "<dt>标题</dt><dd>路灯不亮</dd>" in html and "<dt>数量</dt><dd>3</dd>" in html
    assert result.case_number in html and "王受理" in html  # the clerk by display name


def test_invalid_input_keeps_the_values_and_names_each_field(client, start_approval):
    task_id = start_approval().new_tasks[0].id
    login(client, "leader")
    response = client.post(f"/tasks/{task_id}/complete", data={"decision": "不同意", "reason": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<option value="不同意" selected>' in html
    assert re.search(r'<textarea id="f-reason"|<input type="text" id="f-reason"', html)
    assert 'aria-describedby="err-reason hint-reason" aria-invalid="true"' in html
    assert '<p class="error" id="err-reason">此项为必填项</p>' in html
    assert 'href="#f-reason"' in html


def test_success_flashes_the_next_steps_and_goes_to_the_inbox(client, start_approval):
    result = start_approval()
    login(client, "leader")
    response = client.post(f"/tasks/{result.new_tasks[0].id}/complete", data={"decision": "同意"})
    assert response.headers["Location"] == "/tasks/inbox"
    html = client.get("/tasks/inbox").get_data(as_text=True)
    assert f"已完成:受理编号 {result.case_number}。事项已办结。" in html


def test_completing_twice_is_a_409_page(client, start_approval):
    task_id = start_approval().new_tasks[0].id
    login(client, "leader")
    client.post(f"/tasks/{task_id}/complete", data={"decision": "同意"})
    response = client.post(f"/tasks/{task_id}/complete", data={"decision": "同意"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "状态已变化" in html and "已由 李主任" in html and "不能重复办理" in html
    assert "Traceback" not in html


def test_completed_task_is_shown_read_only(client, start_approval):
    task_id = start_approval().new_tasks[0].id
    login(client, "leader")
    client.post(f"/tasks/{task_id}/complete", data={"decision": "同意"})
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "只能查看" in html and "提交办理" not in html
    assert "<dt>结论</dt><dd>同意</dd>" in html


def test_task_claimed_by_a_colleague_is_read_only(client, minyi_db, staff_actors, start_approval):
    from engine.people import users
    from tests.conftest import PASSWORD

    users.create_user(minyi_db, "leader2", PASSWORD, "钱主任", ["社区负责人"])
    task_id = start_approval().new_tasks[0].id
    cases.claim(minyi_db, staff_actors["leader"], task_id)
    login(client, "leader2")
    html = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "已由 李主任 认领" in html and "提交办理" not in html
    response = client.post(f"/tasks/{task_id}/complete", data={"decision": "同意"})
    assert response.status_code == 409


def test_unknown_task_is_404(client):
    login(client, "leader")
    response = client.get("/tasks/99999")
    assert response.status_code == 404 and "任务 99999 不存在" in response.get_data(as_text=True)
