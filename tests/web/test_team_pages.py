"""本组待办 and 批量认领 / 批量指派 in the browser's HTML: the tab only for leaders, checkboxes and one form,
a summary naming what was done and what was refused, bad input refused next to the field, CSRF."""
from __future__ import annotations

import re

from engine.work import cases
from tests.web.conftest import _csrf_token, build_app, login


def _ids(html: str) -> list[str]:
    return re.findall(r'name="task" value="(\d+)"', html)


def test_the_team_tab_is_a_leaders(client, app, start_approval):
    start_approval()
    login(client, "leader")
    html = client.get("/tasks/inbox").get_data(as_text=True)
    assert re.search(r'href="/tasks/team"\s*>\s*本组待办 <span class="count">1</span>', html)
    other = app.test_client()
    login(other, "handler")
    assert "本组待办" not in other.get("/tasks/inbox").get_data(as_text=True)
    refused = other.get("/tasks/team")
    assert refused.status_code == 403 and "只有社区负责人(或管理员)可以查看本组待办" in refused.get_data(as_text=True)


def test_the_team_list_shows_holder_and_deadline_and_sorts_by_deadline(client, minyi_db, staff_actors,
                                                                       start_approval):
    first, second = start_approval("路灯不亮"), start_approval("井盖松动")
    cases.claim(minyi_db, staff_actors["leader"], first.new_tasks[0].id)
    login(client, "leader")
    html = client.get("/tasks/team").get_data(as_text=True)
    assert '<td data-label="办理人">李主任</td>' in html and '<td data-label="办理人">未认领</td>' in html
    numbers = re.findall(r'data-label="受理编号"><a [^>]+>([^<]+)</a>', html)
    assert numbers == [first.case_number, second.case_number]
    latest_first = client.get("/tasks/team?sort=due_desc").get_data(as_text=True)
    assert '<option value="due_desc" selected>' in latest_first


def test_bulk_claim_summarises_what_was_done(client, start_approval):
    numbers = [start_approval(t).case_number for t in ("路灯不亮", "井盖松动")]
    login(client, "leader")
    ids = _ids(client.get("/tasks/queue").get_data(as_text=True))
    response = client.post("/tasks/queue/bulk", data={"action": "claim", "task": ids}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.request.path == "/tasks/queue"
    assert f"已认领 2 项:{numbers[0]} 审核;{numbers[1]} 审核" in html
    assert "没有可认领的任务" in html


def test_bulk_assign_names_each_refusal(client, app, minyi_db, staff_actors, start_approval):
    from engine.people import users
    from tests.conftest import PASSWORD

    users.create_user(minyi_db, "leader2", PASSWORD, "钱主任", ["社区负责人"])
    taken, free = start_approval("路灯不亮"), start_approval("井盖松动")
    login(client, "leader")
    ids = _ids(client.get("/tasks/team").get_data(as_text=True))
    cases.assign(minyi_db, staff_actors["leader"], taken.new_tasks[0].id, "leader")
    cases.claim(minyi_db, staff_actors["leader"], free.new_tasks[0].id)  # still assignable: a leader reassigns
    response = client.post("/tasks/team/bulk?sort=due_desc",
                           data={"action": "assign", "username": "leader2", "task": ids + ["999999"]})
    assert response.headers["Location"] == "/tasks/team?sort=due_desc"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已指派给 钱主任 2 项:" in html
    assert '<p class="flash flash-refused">未能指派给 钱主任 1 项:步骤 999999 不存在' in html


def test_a_bulk_request_without_a_step_or_colleague_is_refused_next_to_the_field(client, start_approval):
    start_approval()
    login(client, "leader")
    nothing = client.post("/tasks/team/bulk", data={"action": "claim"})
    html = nothing.get_data(as_text=True)
    assert nothing.status_code == 422 and '<p class="error" id="err-task">请至少勾选一个步骤</p>' in html
    ids = _ids(client.get("/tasks/team").get_data(as_text=True))
    no_one = client.post("/tasks/team/bulk", data={"action": "assign", "task": ids})
    html = no_one.get_data(as_text=True)
    assert no_one.status_code == 422 and '<p class="error" id="err-username">请选择同事</p>' in html
    assert re.search(rf'value="{ids[0]}" id="pick-{ids[0]}"\s+checked', html)  # the ticks are kept
    assert "未认领" in html


def test_only_overdue_on_the_leaders_own_list_points_to_the_team(client, minyi_db, staff_actors, start_approval,
                                                                 frozen_clock):
    from datetime import timedelta

    step = start_approval().new_tasks[0].id
    cases.assign(minyi_db, staff_actors["leader"], step, "leader")
    frozen_clock.set(frozen_clock.value + timedelta(days=3))  # 审核 is due two days after it became ready
    login(client, "leader")
    html = client.get("/tasks/queue?overdue=1").get_data(as_text=True)
    assert "本组还有 <strong>1</strong> 个步骤已逾期" in html and 'href="/tasks/team?overdue=1"' in html
    team = client.get("/tasks/team?overdue=1").get_data(as_text=True)
    assert "已逾期" in team and "共 1 项" in team


def test_bulk_without_the_csrf_token_changes_nothing(sqlite_db):
    app = build_app(sqlite_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login(client, "leader")
    from engine.people import users

    clerk = {a.username: a for a in users.list_users(sqlite_db)}["clerk"]
    cases.start_case(sqlite_db, clerk, "approval", {"title": "路灯不亮"})
    page = client.get("/tasks/queue").get_data(as_text=True)
    ids = _ids(page)
    assert client.post("/tasks/queue/bulk", data={"action": "claim", "task": ids}).status_code == 400
    assert _ids(client.get("/tasks/queue").get_data(as_text=True)) == ids
    token = _csrf_token(page)
    done = client.post("/tasks/queue/bulk", data={"action": "claim", "task": ids, "csrf_token": token})
    assert done.status_code == 302 and _ids(client.get("/tasks/queue").get_data(as_text=True)) == []
    app.extensions["minyi_db"].dispose()


def test_the_api_lists_the_team_for_leaders_only(client, minyi_db, start_approval):
    from engine.people import users

    number = start_approval().case_number
    token = users.create_token(minyi_db, "leader")
    leader = client.get("/api/tasks?list=team", headers={"Authorization": f"Bearer {token}"})
    assert leader.status_code == 200 and [t["case_number"] for t in leader.json["items"]] == [number]
    handler = client.get("/api/tasks?list=team",
                         headers={"Authorization": f"Bearer {users.create_token(minyi_db, 'handler')}"})
    assert handler.status_code == 403 and "只有社区负责人" in handler.json["message"]
