"""With CSRF protection on (as in production), a POST without the form's token changes nothing."""
from __future__ import annotations

import pytest

from engine.people import users
from engine.work import casepages
from tests.conftest import PASSWORD
from tests.web.conftest import _csrf_token, build_app, login


@pytest.fixture
def csrf_app(sqlite_db):
    app = build_app(sqlite_db, WTF_CSRF_ENABLED=True)
    yield app
    app.extensions["minyi_db"].dispose()


def test_login_without_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/tasks/inbox").status_code == 302


def test_post_without_token_is_a_400_page_and_changes_nothing(csrf_app):
    from engine.work import cases

    database = csrf_app.extensions["minyi_db"]
    clerk = {a.username: a for a in users.list_users(database)}["clerk"]
    result = cases.start_case(database, clerk, "approval", {"title": "路灯不亮"})
    client = csrf_app.test_client()
    login(client, "leader")  # takes the token from the login form
    task = result.new_tasks[0].id
    for path, data in ((f"/tasks/{task}/complete", {"decision": "同意"}), (f"/tasks/{task}/claim", {}),
                       (f"/cases/{result.case_number}/comments", {"text": "x"})):
        response = client.post(path, data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and "没有做任何修改" in html and '<html lang="zh-CN">' in html
    view = casepages.get_case(database, clerk, result.case_number)
    assert view.status == "running" and view.comments == () and view.open_steps[0].assignee is None


def test_post_with_the_form_token_works(csrf_app):
    from engine.work import cases

    database = csrf_app.extensions["minyi_db"]
    clerk = {a.username: a for a in users.list_users(database)}["clerk"]
    result = cases.start_case(database, clerk, "approval", {"title": "路灯不亮"})
    client = csrf_app.test_client()
    login(client, "leader")
    page = client.get(f"/tasks/{result.new_tasks[0].id}").get_data(as_text=True)
    token = _csrf_token(page)
    response = client.post(f"/tasks/{result.new_tasks[0].id}/complete", data={"decision": "同意", "csrf_token": token})
    assert response.status_code == 302


def test_api_needs_no_csrf_token(csrf_app):
    client = csrf_app.test_client()
    token = users.create_token(csrf_app.extensions["minyi_db"], "clerk")
    response = client.post("/api/cases", json={"process_id": "approval", "values": {"title": "t"}},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
