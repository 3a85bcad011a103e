"""延期申请, 催办 and the notification list in a browser: a handler asks for more time on a 承诺件,
the leader approves it in 延期审批 and urges the step; the handler reads both in 通知."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from engine import clock
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, open_task, register, sign_in

pytestmark = pytest.mark.browser


def test_an_extension_is_asked_approved_and_the_step_urged(live_server, new_page):
    base = live_server
    clerk, leader, handler = new_page(), new_page(), new_page()
    for page, name in ((clerk, "clerk"), (leader, "leader"), (handler, "handler")):
        sign_in(page, base, name)
    number = register(clerk, topic="环境绿化", title="东门路灯不亮", description="小区东门两盏路灯连续一周不亮。",
                      reporter="王先生", contact="13900000000", address="幸福小区东门", grid="第一网格")
    promised = clock.today() + timedelta(days=7)
    open_task(leader, base, number, "分类交办")
    leader.get_by_label("办理方式").select_option("承诺件")
    leader.get_by_label("承诺办结日期").fill(promised.isoformat())
    leader.get_by_role("button", name="提交办理").click()
    assert "承诺件办理" in flash(leader)

    # 延期申请: a reason is required, and the error stands next to the field with the date kept
    open_task(handler, base, number, "承诺件办理")
    handler.get_by_role("link", name="申请延期").click()
    wanted = promised + timedelta(days=14)
    handler.get_by_label("希望延至").fill(wanted.isoformat())
    handler.get_by_role("button", name="提交延期申请").click()
    expect(handler.get_by_label("延期理由")).to_have_attribute("aria-invalid", "true")  # the answer has come
    assert handler.get_by_label("希望延至").input_value() == wanted.isoformat()
    handler.get_by_label("延期理由").fill("更换灯杆需供电公司配合,排期在两周后。")
    handler.get_by_role("button", name="提交延期申请").click()
    assert "延期申请已提交" in flash(handler)

    # the leader is told, and decides in 延期审批
    leader.goto(f"{base}/notifications")
    assert "延期" in leader.locator(".notifications").inner_text()
    leader.get_by_role("link", name="延期审批").click()
    request = leader.locator("section.extension", has_text=number)
    assert "更换灯杆需供电公司配合" in request.inner_text()
    screenshot(leader, "deadline-01-pending-extension")
    request.get_by_role("button", name="批准", exact=True).click()
    assert "已批准延期" in flash(leader)
    expect(leader.locator("section.extension", has_text=number)).to_have_count(0)

    # 催办 from the task page
    leader.goto(f"{base}/cases/{number}")
    leader.get_by_role("link", name=re.compile("承诺件办理")).first.click()
    leader.get_by_label("催办说明").fill("请本周内联系供电公司")
    leader.get_by_role("button", name="催办").click()
    assert re.search(r"已催办,通知了 [1-9]\d* 人", flash(leader))

    # the handler reads both in 通知: the badge counts them, and marking all read clears it
    handler.goto(f"{base}/tasks/inbox")
    badge = handler.locator("nav .badge")
    assert int(badge.inner_text()) >= 2
    handler.get_by_role("link", name=re.compile("^通知")).click()
    items = handler.locator(".notifications").inner_text()
    assert f"已批准,新期限 {wanted.isoformat()}" in items or wanted.strftime("%Y-%m-%d") in items
    assert "请本周内联系供电公司" in items
    screenshot(handler, "deadline-02-notifications")
    handler.get_by_role("button", name="全部标为已读").click()
    expect(handler.locator("nav .badge")).to_have_count(0)
