"""Registering a case (受理) and its page: history, comments, links; titles are escaped."""
from __future__ import annotations

import re

import pytest

from engine.work import cases
from tests.web.conftest import login
from tests.web.test_tasklist import rows

XSS = '<script>alert("x")</script>'


def test_clerk_sees_the_procedures_they_may_start(client):
    login(client, "clerk")
    html = client.get("/cases/new").get_data(as_text=True)
    assert 'href="/cases/new/approval"' in html and "简单审批" in html


def test_start_form_registers_and_shows_the_case_number(client):
    login(client, "clerk")
    form = client.get("/cases/new/approval").get_data(as_text=True)
    assert re.search(r'<input type="text" id="f-title" name="title" value=""\s+maxlength="20" required', form)
    assert re.search(r'<input type="number" id="f-amount" name="amount" value=""\s+step="1"', form)
    response = client.post("/cases/new/approval", data={"title": "路灯不亮", "amount": "3"})
    number = response.headers["Location"].rsplit("/", 1)[-1]
    assert response.status_code == 302 and number.startswith("SP-")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已受理,受理编号:{number}" in page
    assert "审核" in page and "社区负责人" in page and "未认领" in page


def test_start_form_errors_keep_the_input(client):
    login(client, "clerk")
    response = client.post("/cases/new/approval", data={"title": "路灯不亮", "amount": "很多"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="路灯不亮"' in html and 'value="很多"' in html
    assert '<p class="error" id="err-amount">请输入整数</p>' in html
    assert 'aria-describedby="err-amount" aria-invalid="true"' in html


def test_case_page_shows_status_steps_history_and_version(client, minyi_db, staff_actors, start_approval):
    result = start_approval("路灯不亮", "3")
    cases.complete_task(minyi_db, staff_actors["leader"], result.new_tasks[0].id, {"decision": "同意"})
    login(client, "clerk")
    html = client.get(f"/cases/{result.case_number}").get_data(as_text=True)
    assert "已办结" in html and "没有待办步骤" in html
    assert "<dt>结论</dt><dd>同意</dd>" in html and "<dt>标题</dt><dd>路灯不亮</dd>" in html
    assert re.search(r'<dt>流程图版本</dt><dd><code title="[0-9a-f]{64}">[0-9a-f]{12}</code>', html)


def test_comment_is_added_and_an_empty_one_refused(client, start_approval):
    number = start_approval().case_number
    login(client, "leader")
    empty = client.post(f"/cases/{number}/comments", data={"text": "  "})
    assert empty.status_code == 422 and '<p class="error" id="err-text">请填写内容</p>' in empty.get_data(as_text=True)
    client.post(f"/cases/{number}/comments", data={"text": "请尽快处理"})
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert '<p class="comment-text">请尽快处理</p>' in html


def test_two_cases_are_linked_both_ways(client, start_approval):
    first = start_approval("路灯不亮").case_number
    second = start_approval("路灯又不亮").case_number
    login(client, "clerk")
    assert client.post(f"/cases/{first}/links", data={"other": second}).status_code == 302
    assert f'href="/cases/{first}"' in client.get(f"/cases/{second}").get_data(as_text=True)
    itself = client.post(f"/cases/{first}/links", data={"other": first})
    assert itself.status_code == 422 and "请填写另一个受理编号" in itself.get_data(as_text=True)


def test_script_in_a_title_is_escaped_on_list_case_and_task_pages(client, start_approval):
    result = start_approval(XSS[:20])
    login(client, "leader")
    for path in ("/tasks/queue", f"/cases/{result.case_number}", f"/tasks/{result.new_tasks[0].id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    assert rows(client.get("/tasks/queue").get_data(as_text=True)) == [result.case_number]


def test_script_in_a_comment_is_escaped(client, start_approval):
    number = start_approval().case_number
    login(client, "leader")
    client.post(f"/cases/{number}/comments", data={"text": XSS})
    html = client.get(f"/cases/{number}").get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_unknown_case_is_404(client):
    login(client, "auditor")
    response = client.get("/cases/SP-00000000-999999")
    assert response.status_code == 404 and "不存在" in response.get_data(as_text=True)


@pytest.mark.parametrize(("username", "path", "status"), [
    ("clerk", "/cases/new/no_such_procedure", 404),  # unknown or never deployed
    ("handler", "/cases/new/approval", 403),  # 承办人 is not among the starter roles
])
def test_start_form_is_refused_alike_when_shown_and_when_posted(client, username, path, status):
    login(client, username)
    assert client.get(path).status_code == status
    assert client.post(path, data={"title": "路灯不亮", "amount": "1"}).status_code == status


def test_history_comments_and_summary_name_people_not_usernames(client, minyi_db, staff_actors, start_approval):
    result = start_approval()
    cases.add_comment(minyi_db, staff_actors["leader"], result.case_number, "请尽快处理")
    login(client, "leader")
    for path in (f"/cases/{result.case_number}", f"/tasks/{result.new_tasks[0].id}"):
        html = client.get(path).get_data(as_text=True)
        assert '<span class="event-who">王受理</span>' in html  # 受理 in the history
        assert '<span class="event-who">李主任</span> <time' in html  # the comment
        assert ">clerk<" not in html and ">leader<" not in html and "(clerk)" not in html
    assert "(王受理)" in client.get(f"/cases/{result.case_number}").get_data(as_text=True)


def test_a_leader_assigns_another_lanes_step_from_the_case_page(client, minyi_db, staff_actors):
    """指派 where the leader sees the case: the 承办人's step is not in the leader's own queue."""
    from tests.conftest import PROCESSES, deploy_file
    from tests.minqing import Matter

    deploy_file(minyi_db, PROCESSES / "minqing_liushuixian.bpmn")
    matter = Matter(minyi_db, staff_actors)
    matter.do("UserTask_classify", "leader", kind="即办件")
    step = matter.task_id("UserTask_handle_immediate")
    login(client, "clerk")  # not a leader: no assigning
    assert "指派给" not in client.get(f"/cases/{matter.number}").get_data(as_text=True)
    client.post("/logout")
    login(client, "leader")
    page = client.get(f"/cases/{matter.number}").get_data(as_text=True)
    assert f'id="assign-{step}"' in page
    assert '<option value="handler">张承办</option>' in page and '<option value="handler2">赵承办</option>' in page
    assert '<option value="clerk">' not in page  # only colleagues holding the step's role
    response = client.post(f"/tasks/{step}/assign", data={"username": "handler2",
                                                          "next": f"/cases/{matter.number}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{matter.number}"
    assert "赵承办" in client.get(f"/cases/{matter.number}").get_data(as_text=True)
    assert [s.assignee for s in matter.view().open_steps] == ["赵承办"]
