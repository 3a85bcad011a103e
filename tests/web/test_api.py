"""The JSON API: bearer tokens only, the engine's rules, errors as JSON with field messages."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import web
from engine.people import users


@pytest.fixture
def bearer(minyi_db):
    def _headers(username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {users.create_token(minyi_db, username)}"}
    return _headers


@pytest.mark.parametrize("path", ["/api/tasks", "/api/tasks/1", "/api/cases/SP-1"])
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic Y2xlcms6eA=="])
def test_no_or_bad_token_is_401_json(client, path, header):
    response = client.get(path, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json["error"] == "Unauthorized" and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_does_not_authenticate_the_api(client):
    from tests.web.conftest import login

    login(client, "leader")
    assert client.get("/api/tasks").status_code == 401


def test_a_deactivated_accounts_token_is_401_and_works_again_when_reactivated(client, minyi_db, bearer, staff_actors):
    """A 管理员 停用s an account: its API token is refused at the next request, like its sign-in."""
    from engine.people import accounts

    admin = users.create_user(minyi_db, "admin", "admin-password-1", "管理员甲", ["管理员"])
    leader = bearer("leader")
    assert client.get("/api/tasks", headers=leader).status_code == 200
    who = staff_actors["leader"]
    accounts.update_account(minyi_db, admin, who.id, {"display_name": "李主任", "roles": ["社区负责人"], "active": ""})
    refused = client.get("/api/tasks", headers=leader)
    assert refused.status_code == 401 and refused.json["message"] == "API 令牌无效"
    accounts.update_account(minyi_db, admin, who.id, {"display_name": "李主任", "roles": ["社区负责人"], "active": "1"})
    assert client.get("/api/tasks", headers=leader).status_code == 200


def test_register_list_read_and_complete(client, bearer):
    clerk, leader = bearer("clerk"), bearer("leader")
    started = client.post("/api/cases", json={"process_id": "approval", "values": {"title": "路灯不亮", "amount": 2}},
                          headers=clerk)
    assert started.status_code == 201
    number = started.json["case_number"]
    assert started.headers["Location"] == f"/api/cases/{number}"
    task_id = started.json["new_tasks"][0]["id"]
    assert started.json["new_tasks"][0]["roles"] == ["社区负责人"]

    queue = client.get("/api/tasks?list=queue", headers=leader).json
    assert queue["total"] == 1 and queue["items"][0]["case_number"] == number
    assert re.match(r"\d{4}-\d\d-\d\dT", queue["items"][0]["received_at"])

    task = client.get(f"/api/tasks/{task_id}", headers=leader).json
    assert [f["id"] for f in task["form"]] == ["decision", "reason"]
    assert task["form"][0]["choices"] == [{"id": "同意", "name": "同意"}, {"id": "不同意", "name": "不同意"}]
    assert task["can_complete"] is True and task["case"]["number"] == number

    bad = client.post(f"/api/tasks/{task_id}/complete", json={"decision": "不同意"}, headers=leader)
    assert bad.status_code == 422 and bad.json["fields"] == {"reason": "此项为必填项"}
    done = client.post(f"/api/tasks/{task_id}/complete", json={"decision": "同意"}, headers=leader)
    assert done.status_code == 200 and done.json["case_status"] == "completed"
    again = client.post(f"/api/tasks/{task_id}/complete", json={"decision": "同意"}, headers=leader)
    assert again.status_code == 409 and again.json["error"] == "Conflict"

    case = client.get(f"/api/cases/{number}", headers=clerk).json
    assert case["status"] == "completed"
    assert [e["kind"] for e in case["history"]] == ["case_started", "task_ready", "task_completed", "gateway_decided",
                                                   "case_completed"]
    assert case["history"][0]["labels"]["title"] == "标题"
    assert client.get("/api/tasks?list=archive", headers=leader).json["total"] == 1


def test_bad_bodies_are_422_json(client, bearer):
    clerk = bearer("clerk")
    assert client.post("/api/cases", data="nope", headers=clerk).status_code == 422
    response = client.post("/api/cases", json={"process_id": "approval", "values": {"amount": "x"}}, headers=clerk)
    assert response.status_code == 422 and set(response.json["fields"]) == {"title", "amount"}
    assert client.post("/api/cases", json={"process_id": "nope", "values": {}}, headers=clerk).status_code == 404
    assert client.get("/api/tasks?list=everything", headers=clerk).status_code == 404


@pytest.mark.parametrize("who", [None, "not-a-token", "clerk"])
def test_unknown_api_path_is_json_404(client, bearer, who):
    """No route, no token check: an unknown /api/ path is a 404 in JSON with a Chinese message, whatever the token."""
    headers = bearer(who) if who == "clerk" else {"Authorization": f"Bearer {who}"} if who else {}
    response = client.get("/api/nothing-here", headers=headers)
    assert response.status_code == 404 and response.is_json
    assert response.json == {"error": "NotFound", "message": "您要找的页面不存在,请检查地址。", "status": 404}


def test_openapi_document_lists_every_api_route(client, app):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.json
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method.lower()) in documented, f"{method} {path} is not in openapi.json"
    assert json.loads((Path(web.__file__).parent / "static" / "openapi.json").read_text()) == doc
