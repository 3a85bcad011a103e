"""Notifications, 催办, 延期申请 and the working-calendar warning on the web."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.work import timers
from tests.web.conftest import login


@pytest.fixture
def review_task(start_approval, frozen_clock) -> int:
    """An approval step (社区负责人, due in 2 days) started on Monday 2026-11-23."""
    return start_approval("路灯不亮", "3").new_tasks[0].id


def test_urging_reaches_the_notification_list_and_the_header_badge(client, review_task):
    login(client, "leader")
    response = client.post(f"/tasks/{review_task}/urge", data={"note": "今天请处理"})
    assert response.status_code == 302
    html = client.get("/notifications").get_data(as_text=True)
    assert "催办" in html and "今天请处理" in html and 'class="badge" aria-label="1 条未读"' in html
    client.post("/notifications/read-all")
    html = client.get("/notifications").get_data(as_text=True)
    assert "0 条未读" in html and 'class="badge"' not in html


def test_only_leaders_and_supervisors_may_urge(client, review_task):
    login(client, "handler")
    assert client.post(f"/tasks/{review_task}/urge").status_code == 403


def test_someone_elses_notification_cannot_be_marked(client, review_task, minyi_db, staff_actors):
    from engine.people import notifications

    login(client, "leader")
    client.post(f"/tasks/{review_task}/urge")
    (note,) = notifications.notifications_for(minyi_db, staff_actors["leader"])
    login(client, "handler")
    assert client.post(f"/notifications/{note.id}/read").status_code == 404
    assert notifications.unread_count(minyi_db, staff_actors["leader"]) == 1


def test_extension_is_requested_on_the_task_page_and_approved_by_the_leader(client, review_task):
    login(client, "leader")
    assert "申请延期" in client.get(f"/tasks/{review_task}").get_data(as_text=True)
    form = client.get(f"/tasks/{review_task}/extension").get_data(as_text=True)
    assert '<label for="requested_due">希望延至</label>' in form and '<label for="reason">延期理由</label>' in form
    response = client.post(f"/tasks/{review_task}/extension",
                           data={"reason": "等待路灯配件", "requested_due": "2026-12-04"})
    assert response.status_code == 302
    pending = client.get("/extensions").get_data(as_text=True)
    assert "等待路灯配件" in pending and "2026-12-04" in pending
    request_id = pending.split("/extensions/")[1].split("/decide")[0]
    assert client.post(f"/extensions/{request_id}/decide", data={"decision": "approve"}).status_code == 302
    page = client.get(f"/tasks/{review_task}").get_data(as_text=True)
    assert "2026-12-04" in page
    assert "已批准" in client.get(f"/tasks/{review_task}/extension").get_data(as_text=True)
    assert "没有待审批的延期申请" in client.get("/extensions").get_data(as_text=True)


def test_a_bad_extension_request_names_the_fields_and_saves_nothing(client, review_task):
    login(client, "leader")
    response = client.post(f"/tasks/{review_task}/extension", data={"reason": "", "requested_due": "明天"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="reason-error">请填写延期理由</p>' in html
    assert 'id="requested_due-error"' in html
    assert "延期申请记录" not in html


def test_refusing_needs_a_reason(client, review_task):
    login(client, "leader")
    client.post(f"/tasks/{review_task}/extension", data={"reason": "人手不足", "requested_due": "2026-12-04"})
    request_id = client.get("/extensions").get_data(as_text=True).split("/extensions/")[1].split("/decide")[0]
    response = client.post(f"/extensions/{request_id}/decide", data={"decision": "refuse", "note": ""})
    assert response.status_code == 422 and "不批准" in response.get_data(as_text=True)
    bad = client.post(f"/extensions/{request_id}/decide", data={"decision": "maybe"})
    assert bad.status_code == 422


def test_the_approval_list_is_for_leaders_only(client, review_task):
    login(client, "handler")
    html = client.get("/tasks/inbox").get_data(as_text=True)
    assert "延期审批" not in html
    assert "没有待审批的延期申请" in client.get("/extensions").get_data(as_text=True)


def test_overdue_is_marked_in_the_list_and_the_leader_is_told(client, review_task, minyi_db, frozen_clock):
    frozen_clock.set(frozen_clock.value + timedelta(days=3))
    assert timers.sweep(minyi_db)["overdue"] == 1
    login(client, "leader")
    assert "已逾期" in client.get("/tasks/queue").get_data(as_text=True)
    assert "已超过办理期限" in client.get("/notifications").get_data(as_text=True)
