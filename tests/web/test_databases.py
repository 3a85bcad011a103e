"""A smoke path through the pages on both databases (SQLite and PostgreSQL)."""
from __future__ import annotations

import re

from tests.web.conftest import login


def test_register_claim_and_complete_through_the_pages(any_app):
    clerk, leader = any_app.test_client(), any_app.test_client()
    login(clerk, "clerk")
    response = clerk.post("/cases/new/approval", data={"title": "路灯不亮", "amount": "1"})
    number = response.headers["Location"].rsplit("/", 1)[-1]
    login(leader, "leader")
    assert number in leader.get("/tasks/queue").get_data(as_text=True)
    html = leader.get(f"/tasks/queue?q={number}").get_data(as_text=True)
    task = re.search(r"/tasks/(\d+)/claim", html).group(1)
    leader.post(f"/tasks/{task}/claim")
    assert leader.post(f"/tasks/{task}/complete", data={"decision": "不同意"}).status_code == 422
    assert leader.post(f"/tasks/{task}/complete", data={"decision": "同意"}).status_code == 302
    assert leader.post(f"/tasks/{task}/complete", data={"decision": "同意"}).status_code == 409
    assert "已办结" in clerk.get(f"/cases/{number}").get_data(as_text=True)
