"""The auditor in a browser: find a case, read its path on the diagram, click a step to see its
events, check the chain, and read the statistics — on a desktop and on a 375px phone."""
from __future__ import annotations

import pytest

from engine.people import users
from engine.store.db import Database
from engine.work import runtime
from tests.browser.axe import assert_accessible
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


def svg_box(page) -> list[float]:
    return [float(v) for v in page.locator(".trace-diagram svg").get_attribute("viewBox").split()]


def test_the_trace_diagram_fits_the_screen_and_zooms_and_pans(live_server, new_page, worked_case):
    """The whole path fits the box at first (no 2,000-px image); 放大 / 缩小 / 适合屏幕, dragging and the
    keyboard change only the view, and the steps stay links (without JavaScript the box scrolls)."""
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server, "auditor")
    page.goto(f"{live_server}/audit/cases/{worked_case}")
    box = page.locator(".diagram-scroll")
    assert box.bounding_box()["width"] <= 1280 and "显示比例" in page.locator(".diagram-level").inner_text()
    whole = svg_box(page)
    page.get_by_role("button", name="放大").click()
    zoomed = svg_box(page)
    assert zoomed[2] < whole[2] and zoomed[3] < whole[3]
    box.focus()
    page.keyboard.press("ArrowRight")
    keyed = svg_box(page)
    assert keyed[0] > zoomed[0]
    area = box.bounding_box()
    page.mouse.move(area["x"] + 200, area["y"] + 200)
    page.mouse.down()
    page.mouse.move(area["x"] + 300, area["y"] + 260, steps=5)
    page.mouse.up()
    dragged = svg_box(page)
    assert dragged[0] < keyed[0] and dragged[1] < keyed[1]          # dragged right and down: the view moves left and up
    page.get_by_role("button", name="适合屏幕").click()
    assert svg_box(page) == whole
    assert_accessible(page)
    page.get_by_role("button", name="放大").click()
    page.locator('[data-element="UserTask_classify"]').click()
    page.wait_for_url("**step=UserTask_classify**")
    assert svg_box(page) == zoomed                                  # the step's page keeps the view
    screenshot(page, "audit-trace-zoom")


def test_without_javascript_the_trace_diagram_scrolls_and_its_steps_are_links(live_server, browser, worked_case):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, "auditor")
    page.goto(f"{live_server}/audit/cases/{worked_case}")
    assert page.locator(".diagram-tools").count() == 0
    assert page.locator(".diagram-scroll").evaluate("b => b.scrollWidth > b.clientWidth")
    page.locator('[data-element="UserTask_classify"]').click()
    page.wait_for_url("**step=UserTask_classify**")
    context.close()
