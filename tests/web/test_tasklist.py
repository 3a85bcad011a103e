"""The task list: 我的待办 / 待认领任务 / 已办任务, filters, paging, claiming and assigning."""
from __future__ import annotations

import re
from datetime import timedelta

from engine.work import cases
from tests.web.conftest import login


def rows(html: str) -> list[str]:
    return re.findall(r'<td data-label="受理编号"><a href="[^"]+">([^<]+)</a>', html)


def test_queue_shows_the_row_with_its_columns_and_counts(client, start_approval):
    number = start_approval("路灯不亮").case_number
    login(client, "leader")
    html = client.get("/tasks/queue").get_data(as_text=True)
    assert rows(html) == [number]
    for text in ("简单审批", "审核", "路灯不亮", "未认领", "办理期限", "受理时间"):
        assert text in html
    assert re.search(r'待认领任务 <span class="count">1</span>', html)
    assert re.search(r'我的待办 <span class="count">0</span>', html)


def test_claim_moves_the_task_to_the_inbox_and_unclaim_puts_it_back(client, start_approval):
    result = start_approval()
    task_id = result.new_tasks[0].id
    login(client, "leader")
    response = client.post(f"/tasks/{task_id}/claim", data={"next": "/tasks/queue?q=SP"})
    assert response.headers["Location"] == "/tasks/queue?q=SP"
    inbox = client.get("/tasks/inbox").get_data(as_text=True)
    assert rows(inbox) == [result.case_number] and "李主任" in inbox and "已认领" in inbox
    assert rows(client.get("/tasks/queue").get_data(as_text=True)) == []
    client.post(f"/tasks/{task_id}/unclaim")
    assert rows(client.get("/tasks/queue").get_data(as_text=True)) == [result.case_number]


def test_claim_ignores_a_foreign_next(client, start_approval):
    task_id = start_approval().new_tasks[0].id
    login(client, "leader")
    response = client.post(f"/tasks/{task_id}/claim", data={"next": "//evil.example/x"})
    assert response.headers["Location"] == "/tasks/inbox"


def test_claimed_by_someone_else_is_a_conflict(client, minyi_db, staff_actors, start_approval):
    from engine.people import users
    from tests.conftest import PASSWORD

    users.create_user(minyi_db, "leader2", PASSWORD, "钱主任", ["社区负责人"])
    task_id = start_approval().new_tasks[0].id
    cases.claim(minyi_db, staff_actors["leader"], task_id)
    login(client, "leader2")
    response = client.post(f"/tasks/{task_id}/claim")
    assert response.status_code == 409 and "李主任" in response.get_data(as_text=True)


def test_only_a_leader_sees_the_assign_control_offering_colleagues_with_the_role(client, app, start_approval):
    start_approval()
    login(client, "leader")
    html = client.get("/tasks/queue").get_data(as_text=True)
    assert "指派</button>" in html and "李主任(社区负责人)" in html
    assert "张承办(承办人)" not in html  # the step is the 社区负责人's: a 承办人 cannot take it
    other = app.test_client()
    login(other, "clerk")
    assert "指派</button>" not in other.get("/tasks/queue").get_data(as_text=True)


def test_leader_assigns_to_a_colleague_with_the_role(client, minyi_db, start_approval):
    from engine.people import users
    from tests.conftest import PASSWORD

    users.create_user(minyi_db, "leader2", PASSWORD, "钱主任", ["社区负责人"])
    result = start_approval()
    login(client, "leader")
    response = client.post(f"/tasks/{result.new_tasks[0].id}/assign", data={"username": "leader2"})
    assert response.status_code == 302
    html = client.get("/tasks/queue").get_data(as_text=True)
    assert rows(html) == []
    bad = client.post(f"/tasks/{result.new_tasks[0].id}/assign", data={"username": "handler"})
    assert bad.status_code == 422 and "没有“社区负责人”角色" in bad.get_data(as_text=True)
    colleague = client.application.test_client()
    login(colleague, "leader2", PASSWORD)
    notices = colleague.get("/notifications").get_data(as_text=True)
    assert "李主任把“审核”" in notices and result.case_number in notices  # the assignee is told


def test_search_by_number_or_text_and_filters(client, start_approval):
    first = start_approval("路灯不亮").case_number
    second = start_approval("井盖丢失").case_number
    login(client, "leader")
    assert rows(client.get("/tasks/queue?q=井盖").get_data(as_text=True)) == [second]
    assert rows(client.get(f"/tasks/queue?q={first}").get_data(as_text=True)) == [first]
    assert rows(client.get("/tasks/queue?procedure=approval&step=审核").get_data(as_text=True)) == [first, second]
    assert rows(client.get("/tasks/queue?kind=承诺件").get_data(as_text=True)) == []
    assert rows(client.get("/tasks/queue?overdue=1").get_data(as_text=True)) == []


def test_overdue_task_is_red_with_text(client, start_approval, frozen_clock):
    number = start_approval().case_number
    frozen_clock.set(frozen_clock.value + timedelta(days=10))
    login(client, "leader")
    html = client.get("/tasks/queue?overdue=1").get_data(as_text=True)
    assert rows(html) == [number]
    assert '<span class="due overdue">' in html and "已逾期" in html


def test_pages_of_twenty_keep_the_filters(client, app, start_approval):
    for i in range(21):
        start_approval(f"事项{i}")
    login(client, "leader")
    first = client.get("/tasks/queue?q=事项").get_data(as_text=True)
    # a filtered list is not counted to the end: it knows only that a next page exists
    assert len(rows(first)) == 20 and "第 1 页" in first and "共 20+ 项" in first
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    assert "q=" in link and "page=2" in link
    second = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert len(rows(second)) == 1 and 'rel="next"' not in second and "共 21 项" in second
    unfiltered = client.get("/tasks/queue").get_data(as_text=True)
    assert "共 21 项" in unfiltered and "第 1 / 2 页" in unfiltered


def test_a_count_past_the_cap_reads_99_plus_and_paging_goes_on_to_the_last_step(client, start_approval, monkeypatch):
    from engine.work import tasklist

    monkeypatch.setattr(tasklist, "COUNT_CAP", 20)  # 99 in service; 21 steps here go past it
    numbers = [start_approval(f"事项{i}").case_number for i in range(21)]
    login(client, "leader")
    first = client.get("/tasks/queue").get_data(as_text=True)
    assert re.search(r'待认领任务 <span class="count">20\+</span>', first)
    assert "共 20+ 项" in first and len(rows(first)) == 20
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    second = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert rows(second) == numbers[20:] and 'rel="next"' not in second and "共 21 项" in second


def test_archive_lists_what_i_completed(client, minyi_db, staff_actors, start_approval):
    result = start_approval()
    cases.complete_task(minyi_db, staff_actors["leader"], result.new_tasks[0].id, {"decision": "同意"})
    login(client, "leader")
    html = client.get("/tasks/archive").get_data(as_text=True)
    assert rows(html) == [result.case_number] and "完成时间" in html


def test_unknown_list_is_not_found(client):
    login(client, "leader")
    response = client.get("/tasks/everything")
    assert response.status_code == 404 and "未找到" in response.get_data(as_text=True)
