"""The auditor in a browser: find a case, read its path on the diagram, click a step to see its
events, check the chain, and read the statistics — on a desktop and on a 375px phone."""
from __future__ import annotations

import pytest

from engine.people import users
from engine.store.db import Database
from engine.work import runtime
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import sign_in
from tests.minqing import Matter

pytestmark = pytest.mark.browser
FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已更换阀门"}


@pytest.fixture
def worked_case(live_server, tmp_path) -> str:
    """A 承诺件 handled, answered and rated 基本满意, written through the engine into the server's database."""
    db = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    staff = {a.username: a for a in users.list_users(db)}
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2099-12-01")
    m.do("UserTask_handle_promised", "handler", handling_result="已更换阀门")
    m.do("UserTask_feedback", "handler", **FEEDBACK)
    m.do("UserTask_rate", "clerk", rating="基本满意")
    db.dispose()
    runtime.forget_all()
    return m.number


def test_auditor_reads_the_trace_and_the_statistics(live_server, new_page, worked_case):
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server, "auditor")
    page.get_by_role("link", name="审计").click()
    page.get_by_label("受理编号").fill(worked_case)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("link", name=worked_case).click()
    page.get_by_role("heading", name="办理路径").wait_for()
    assert page.locator('[data-element="UserTask_handle_promised"][data-state="done"]').count() == 1
    assert page.locator('[data-flow="Flow_chengnuo"].flow-done').count() == 1
    assert page.locator('[data-flow="Flow_jiban"].flow-done').count() == 0
    assert "已验证" in page.locator(".chain-ok").first.inner_text()
    decisions = page.locator(".decision").all_inner_texts()  # first 网上受理? (否), then 办理方式
    assert "默认分支" in decisions[0] and any("条件 ${kind == '承诺件'} 成立" in text for text in decisions)
    screenshot(page, "audit-trace")

    page.locator('[data-element="UserTask_classify"]').click()
    page.wait_for_url("**step=UserTask_classify**")
    events = page.locator(".audit-timeline > li")
    assert events.count() == 2 and "办理方式" in events.nth(1).inner_text()
    screenshot(page, "audit-trace-step")

    page.get_by_role("link", name="统计").first.click()
    page.get_by_role("heading", name="按时办结与满意度").wait_for()
    rates = page.locator("table.rates").inner_text()
    assert "100.0%" in rates and "90.0%" in rates  # on time; 基本满意 counted 0.9
    assert page.locator("svg.bars").count() >= 4
    screenshot(page, "audit-statistics")

    page.get_by_role("link", name="校验记录链").click()
    assert "已验证" in page.locator(".chain-ok").inner_text()


def test_the_trace_reads_on_a_phone(live_server, new_page, worked_case):
    page = new_page(viewport={"width": 375, "height": 812}, is_mobile=True)
    sign_in(page, live_server, "auditor")
    page.goto(f"{live_server}/audit/cases/{worked_case}")
    page.get_by_role("heading", name="全部记录").wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide"  # the diagram scrolls inside its own box
    screenshot(page, "audit-trace-phone")
    page.goto(f"{live_server}/audit/statistics")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "audit-statistics-phone")
