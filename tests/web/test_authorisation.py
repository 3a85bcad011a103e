"""Who may see and do what: the lane of a step decides; the engine enforces, the web shows 403.

The approval diagram's 审核 step belongs to 社区负责人. Staff of other lanes may
neither see nor work it, through the pages or the API, and it never shows in
their lists or their search.
"""
from __future__ import annotations

import pytest

from engine.people import users
from engine.work import casepages
from tests.web.conftest import login
from tests.web.test_tasklist import rows

OUTSIDERS = ["handler", "superior", "supervisor"]  # no role on any step of the case
NOT_LEADERS = OUTSIDERS + ["clerk"]  # the clerk started the case: may read it, not work the leader's step

TASK_VIEWS = [
    ("GET", "/tasks/{task}", {}),
    ("POST", "/tasks/{task}/complete", {"decision": "同意"}),
    ("POST", "/tasks/{task}/claim", {}),
    ("POST", "/tasks/{task}/unclaim", {}),
    ("POST", "/tasks/{task}/assign", {"username": "leader"}),
]
CASE_VIEWS = [
    ("GET", "/cases/{number}", {}),
    ("POST", "/cases/{number}/comments", {"text": "看看"}),
    ("POST", "/cases/{number}/links", {"other": "{number}"}),
]
CASE_REFUSALS = {  # what the 403 page says, per case view
    "/cases/{number}": "您无权查看该事项",
    "/cases/{number}/comments": "您无权查看该事项",
    "/cases/{number}/links": "只有受理员或社区负责人可以关联事项",
}


def _call(client, method: str, path: str, data: dict, task: int, number: str):
    path = path.format(task=task, number=number)
    data = {k: v.format(number=number) for k, v in data.items()}
    return client.get(path) if method == "GET" else client.post(path, data=data)


@pytest.mark.parametrize("username", NOT_LEADERS)
@pytest.mark.parametrize(("method", "path", "data"), TASK_VIEWS)
def test_another_lane_cannot_see_or_work_a_leader_step(client, start_approval, username, method, path, data):
    result = start_approval()
    login(client, username)
    response = _call(client, method, path, data, result.new_tasks[0].id, result.case_number)
    assert response.status_code == 403
    assert "无权" in response.get_data(as_text=True) or "只有社区负责人" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", OUTSIDERS)
@pytest.mark.parametrize(("method", "path", "data"), CASE_VIEWS)
def test_staff_outside_the_case_cannot_see_it(client, minyi_db, staff_actors, start_approval, username, method, path,
                                              data):
    """Refused with the reason, nothing of the case shown, nothing written to it."""
    result = start_approval("路灯不亮")
    before = casepages.get_case(minyi_db, staff_actors["auditor"], result.case_number)
    login(client, username)
    response = _call(client, method, path, data, result.new_tasks[0].id, result.case_number)
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and CASE_REFUSALS[path] in html
    assert "路灯不亮" not in html and result.case_number not in html
    after = casepages.get_case(minyi_db, staff_actors["auditor"], result.case_number)
    assert (after.comments, after.linked, len(after.history)) == ((), (), len(before.history))


@pytest.mark.parametrize("username", ["clerk", "leader", "auditor"])
def test_starter_lane_and_auditor_may_read_the_case(client, start_approval, username):
    result = start_approval()
    login(client, username)
    assert client.get(f"/cases/{result.case_number}").status_code == 200


@pytest.mark.parametrize("username", NOT_LEADERS)
def test_leader_step_is_in_no_list_or_search_of_another_lane(client, start_approval, username):
    result = start_approval("路灯不亮")
    login(client, username)
    for which in ("inbox", "queue", "archive"):
        for query in ("", f"?q={result.case_number}", "?q=路灯"):
            html = client.get(f"/tasks/{which}{query}").get_data(as_text=True)
            assert rows(html) == [] and "共 0 项" in html
            assert "路灯不亮" not in html


@pytest.mark.parametrize("username", NOT_LEADERS)
@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/tasks/{task}", None),
    ("POST", "/api/tasks/{task}/complete", {"decision": "同意"}),
])
def test_api_applies_the_same_rules(client, minyi_db, start_approval, username, method, path, body):
    result = start_approval()
    token = users.create_token(minyi_db, username)
    headers = {"Authorization": f"Bearer {token}"}
    url = path.format(task=result.new_tasks[0].id)
    response = client.get(url, headers=headers) if method == "GET" else client.post(url, json=body, headers=headers)
    assert response.status_code == 403 and response.json["error"] == "Forbidden"
    listed = client.get("/api/tasks?list=queue", headers=headers).json
    assert listed["total"] == 0


@pytest.mark.parametrize("username", ["clerk", "handler", "superior"])
def test_only_a_leader_can_assign(client, start_approval, username, minyi_db, staff_actors):
    from engine.work import cases

    result = start_approval()
    cases.claim(minyi_db, staff_actors["leader"], result.new_tasks[0].id)
    login(client, username)
    response = client.post(f"/tasks/{result.new_tasks[0].id}/assign", data={"username": username})
    assert response.status_code == 403


def test_handler_may_not_start_a_procedure_of_the_clerk(client):
    login(client, "handler")
    assert "简单审批" not in client.get("/cases/new").get_data(as_text=True)
    assert client.get("/cases/new/approval").status_code == 403
    assert client.post("/cases/new/approval", data={"title": "x"}).status_code == 403
