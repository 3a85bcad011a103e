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


# 审计 reads everything and changes nothing. Every POST route of the app is listed here: either what an
# auditor's request to it sends (and must be refused), or why it is not a write on the community's work.
OWN_SESSION_AND_ACCOUNT = {"auth.login", "auth.logout", "accounts.update_mine", "accounts.change_password",
                           "notifications.mark_read", "notifications.mark_all_read"}
RESIDENTS_WITHOUT_ACCOUNT = {"resident.submit", "resident.follow", "resident.show_follow", "resident.rate",
                             "resident.supplement", "board.object_to", "board.answer"}
AUDITOR_REFUSED = {
    "tasks.claim": ("/tasks/{task}/claim", {}),
    "tasks.unclaim": ("/tasks/{task}/unclaim", {}),
    "tasks.assign": ("/tasks/{task}/assign", {"username": "leader"}),
    "tasks.bulk_action": ("/tasks/queue/bulk", {"action": "claim", "task": "{task}"}),
    "task.complete_task": ("/tasks/{task}/complete", {"decision": "同意"}),
    "cases.start_case": ("/cases/new/approval", {"title": "审计发起"}),
    "cases.add_comment": ("/cases/{number}/comments", {"text": "审计的意见"}),
    "cases.record_finding": ("/cases/{number}/findings", {"finding": "审计的发现"}),
    "cases.link_case": ("/cases/{number}/links", {"other": "{number}"}),
    "cases.move_case": ("/cases/{number}/transfer", {"unit_id": "1", "reason": "审计转办"}),
    "cases.print_receipt": ("/cases/{number}/receipt", {}),  # issues a new 查询码
    "extensions.request_extension": ("/tasks/{task}/extension", {"reason": "来不及", "requested_due": "2030-01-01"}),
    "extensions.decide": ("/extensions/{extension}/decide", {"decision": "approve"}),
    "extensions.urge": ("/tasks/{task}/urge", {"note": "快"}),
    "designer.upload": ("/designer/upload", {}),
    "designer.migrate_case": ("/designer/cases/{number}/migrate", {"from_version": "1", "to_version": "1"}),
    "designer.save_draft": ("/designer/try", {}),
    "designer.trial_begin": ("/designer/try/1", {}),
    "designer.trial_complete": ("/designer/try/cases/{number}/tasks/{task}", {}),
    "designer_api.validate": ("/api/designer/validate", {}),
    "designer_api.deploy": ("/api/designer/deploy", {}),
    "accounts.create": ("/admin/users/new", {"username": "x1", "password": "long-enough-1", "roles": "审计"}),
    "accounts.update": ("/admin/users/1", {"display_name": "改", "roles": "审计"}),
    "accounts.reset_password": ("/admin/users/1/password", {"password": "long-enough-1"}),
    "units.add": ("/admin/units/new", {"name": "审计新建", "level": "社区", "parent_id": "1"}),
    "units.rename": ("/admin/units/1/rename", {"name": "审计改名", "level": "区"}),
    "units.move": ("/admin/units/1/move", {"parent_id": "1"}),
    "units.close": ("/admin/units/1/close", {}),
    "units.reopen": ("/admin/units/1/reopen", {}),
    "units.import_file": ("/admin/units/import", {}),
    "workcalendar.enter_notice": ("/admin/calendar", {"year": "2027", "days_off": "2027-02-05 至 2027-02-12 春节"}),
    "api.complete_task": ("/api/tasks/{task}/complete", {"decision": "同意"}),
    "api.start_case": ("/api/cases", {"process_id": "approval", "values": {"title": "审计发起"}}),
}


def test_every_post_route_is_either_refused_to_auditors_or_not_a_write_on_the_work(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    assert posts == set(AUDITOR_REFUSED) | OWN_SESSION_AND_ACCOUNT | RESIDENTS_WITHOUT_ACCOUNT


@pytest.mark.parametrize("endpoint", sorted(AUDITOR_REFUSED))
def test_an_auditor_changes_nothing_through_any_route(client, minyi_db, start_approval, staff_actors, endpoint):
    from engine.audit import verify
    from engine.work import extensions

    result = start_approval()
    task = result.new_tasks[0].id
    extension = extensions.request_extension(minyi_db, staff_actors["leader"], task, "材料未齐", "2030-01-01")
    events = verify.verify_database(minyi_db).events
    path, data = AUDITOR_REFUSED[endpoint]
    url = path.format(task=task, number=result.case_number, extension=extension)
    data = {k: v.format(number=result.case_number, task=task) if isinstance(v, str) else v for k, v in data.items()}
    if url.startswith("/api/") and not url.startswith("/api/designer/"):
        token = users.create_token(minyi_db, "auditor")
        response = client.post(url, json=data, headers={"Authorization": f"Bearer {token}"})
    else:
        login(client, "auditor")
        response = client.post(url, json=data) if url.startswith("/api/") else client.post(url, data=data)
    assert response.status_code == 403, response.get_data(as_text=True)[:500]
    assert verify.verify_database(minyi_db).events == events


def test_an_auditor_is_told_why_they_may_not_comment(client, start_approval):
    result = start_approval()
    login(client, "auditor")
    response = client.post(f"/cases/{result.case_number}/comments", data={"text": "审计的意见"})
    assert response.status_code == 403
    assert "审计人员只能查看" in response.get_data(as_text=True)
    page = client.get(f"/cases/{result.case_number}").get_data(as_text=True)
    assert "审计的意见" not in page
    assert "添加意见" not in page and "审计人员只能查看,不能发表意见" in page
