"""民情流水线 in a browser: intake → 分类交办 (承诺件) → 承诺件办理 → 反馈答复 → 一事一评.

Each person works in their own browser session and sees only the steps of their lane.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from engine import clock
from engine.people import users
from engine.store.db import Database
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/tasks/inbox")


def queue_numbers(page, base: str) -> list[str]:
    page.goto(f"{base}/tasks/queue")
    return page.locator('td[data-label="受理编号"] a').all_inner_texts()


def open_task(page, base: str, number: str, step: str, where: str = "queue") -> None:
    page.goto(f"{base}/tasks/{where}")
    page.get_by_role("link", name=f"办理 {number} {step}").click()
    page.get_by_role("heading", level=1).filter(has_text=step).wait_for()


def register(clerk, *, topic: str, title: str, description: str, reporter: str, contact: str, address: str,
             grid: str) -> str:
    """民情受理 on the start form (received by the 民情通呼叫中心); the new case's number."""
    clerk.get_by_role("link", name="登记事项").click()
    clerk.get_by_role("link", name="民情流水线").click()
    clerk.get_by_label("受理渠道").select_option("专门机构快速受理")
    ways = clerk.get_by_label("具体途径")
    offered = ways.locator("option:not([hidden])").all_inner_texts()
    assert offered == ["请选择", "民情通呼叫中心"], "only the 途径 of the chosen 渠道 are offered"
    ways.select_option("民情通呼叫中心")
    clerk.get_by_label("事项类别").select_option(topic)
    clerk.get_by_label("事项标题").fill(title)
    clerk.get_by_label("问题描述").fill(description)
    clerk.get_by_label("反映人姓名").fill(reporter)
    clerk.get_by_label("联系方式").fill(contact)
    clerk.get_by_label("地址").fill(address)
    clerk.get_by_label("所属网格").fill(grid)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", clerk.get_by_label("受理日期").input_value())
    clerk.get_by_role("button", name="登记受理").click()
    return re.search(r"受理编号:(\S+)", flash(clerk)).group(1)


def flash(page) -> str:
    return page.locator(".flash").first.inner_text()


def test_a_promised_matter_goes_down_the_line(live_server, new_page):
    base = live_server
    clerk, leader, handler = new_page(), new_page(), new_page()
    for page, name in ((clerk, "clerk"), (leader, "leader"), (handler, "handler")):
        sign_in(page, base, name)

    # 民情受理: the clerk registers the matter through the start form drawn from the diagram
    number = register(clerk, topic="水电气暖", title="3号楼暖气不热",
                      description="3号楼2单元自11月起暖气不热,室温不足16度。", reporter="刘女士",
                      contact="13800000000", address="幸福小区3号楼2单元", grid="第三网格")
    screenshot(clerk, "01-intake-registered")

    # only the leader's lane sees 分类交办
    assert queue_numbers(clerk, base) == []
    assert queue_numbers(handler, base) == []
    assert queue_numbers(leader, base) == [number]

    # 分类交办: 承诺件 needs a promised date; the error stands next to the field and the input is kept
    open_task(leader, base, number, "分类交办")
    leader.get_by_label("办理方式").select_option("承诺件")
    leader.get_by_role("button", name="提交办理").click()
    date_field = leader.get_by_label("承诺办结日期")
    expect(date_field).to_have_attribute("aria-invalid", "true")  # the answer has come
    assert "此项为必填项" in leader.locator("#err-promised_date").inner_text()
    assert leader.get_by_label("办理方式").input_value() == "承诺件"
    screenshot(leader, "02-classify-error")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", date_field.get_attribute("min")), "no promise in the past"
    date_field.fill((clock.today() + timedelta(days=7)).isoformat())
    # the leader picks the 承办人 by name; the step goes straight to that person
    leader.get_by_label("承办人").select_option(label="张承办")
    leader.get_by_role("button", name="提交办理").click()
    assert "下一步:承诺件办理(承办人)" in flash(leader)

    # 承诺件办理 and 反馈答复 by the handler, in his own inbox; nobody else sees them in a queue
    assert queue_numbers(leader, base) == [] and queue_numbers(clerk, base) == []
    assert queue_numbers(handler, base) == []
    open_task(handler, base, number, "承诺件办理", where="inbox")
    assert handler.get_by_text("3号楼暖气不热").first.is_visible()
    assert handler.locator("dd", has_text="承诺件").first.is_visible()
    handler.get_by_label("办理结果").fill("已联系供热公司排气调压,室温恢复到20度。")
    handler.get_by_role("button", name="提交办理").click()
    assert "反馈答复" in flash(handler)
    open_task(handler, base, number, "反馈答复", where="inbox")  # stays with who did the work
    handler.get_by_label("反馈方式").select_option("分散式答复")
    handler.get_by_label("答复内容").fill("已电话告知刘女士处理结果。")
    handler.get_by_role("button", name="提交办理").click()
    assert "一事一评" in flash(handler)

    # 一事一评 entered by the clerk for the resident
    assert queue_numbers(handler, base) == []
    open_task(clerk, base, number, "一事一评")
    clerk.locator("#f-rating").select_option("满意")
    clerk.get_by_role("button", name="提交办理").click()
    assert "事项已办结" in flash(clerk)

    clerk.goto(f"{base}/cases/{number}")
    assert clerk.locator("dd", has_text="已办结").first.is_visible()
    history = clerk.locator(".history").inner_text()
    for step in ("民情受理", "分类交办", "承诺件办理", "反馈答复", "一事一评"):
        assert step in history
    screenshot(clerk, "03-case-closed")
    archive = handler.goto(f"{base}/tasks/archive") and handler.locator('td[data-label="受理编号"]').all_inner_texts()
    assert archive == [number, number]


def test_phone_width_task_list_and_form(live_server, new_page):
    base = live_server
    clerk = new_page()
    sign_in(clerk, base, "clerk")
    clerk.goto(f"{base}/cases/new/minqing_liushuixian")
    clerk.get_by_label("受理渠道").select_option("政务大厅集中受理")
    clerk.get_by_label("具体途径").select_option("投诉室")
    clerk.get_by_label("事项类别").select_option("环境绿化")
    clerk.get_by_label("事项标题").fill("小区绿地被占用堆放杂物,影响居民通行和环境卫生")
    clerk.get_by_label("问题描述").fill("绿地堆放杂物。")
    clerk.get_by_role("button", name="登记受理").click()
    number = re.search(r"受理编号:(\S+)", flash(clerk)).group(1)

    phone = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(phone, base, "leader")
    phone.goto(f"{base}/tasks/queue")
    row = phone.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"  # rows are cards
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert phone.get_by_role("button", name=f"认领 {number} 分类交办").is_visible()
    # the filters are folded into 筛选和排序, so every tab and the first matter are on the first screen
    assert phone.locator("#filter-panel").evaluate("d => d.open") is False
    assert not phone.get_by_label("只看已逾期").is_visible()
    for tab in ("我的待办", "待认领任务", "已办任务", "本组待办"):
        box = phone.get_by_role("link", name=re.compile(tab)).bounding_box()
        assert box and box["y"] + box["height"] <= 740 and box["x"] + box["width"] <= 375, tab
    first = row.bounding_box()
    assert first and first["y"] < 740  # the first matter's card begins on the first screen
    phone.locator("#filter-panel > summary").click()
    assert phone.get_by_label("只看已逾期").is_visible()
    screenshot(phone, "10-phone-queue")
    phone.get_by_role("link", name=f"办理 {number} 分类交办").click()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.get_by_label("办理方式").focus()
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "f-promised_date"
    screenshot(phone, "11-phone-task")


def test_on_a_phone_a_person_of_several_roles_still_reads_my_account_and_sign_out_on_one_line(
        live_server, new_page, tmp_path):
    """The header names the person and every role they hold; on a phone that list wraps, and 我的账户 and 退出
    stay whole (they wrapped a character a line, 退 over 出, beside the demo's 管理员 of three roles)."""
    database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")  # the live server's database
    users.create_user(database, "duozhi", PASSWORD, "欧阳多职", ["受理员", "社区负责人", "承办人", "管理员"])
    database.dispose()
    phone = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(phone, live_server, "duozhi")
    assert "欧阳多职(受理员、承办人、社区负责人、管理员)" in phone.locator(".who").inner_text()
    lines = "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }"
    assert phone.get_by_role("link", name="我的账户").evaluate(lines) == 1
    assert phone.get_by_role("button", name="退出").evaluate(lines) == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_filters_stay_open_on_a_wide_screen_and_after_filtering_on_a_phone(live_server, new_page):
    """On a desktop the 筛选和排序 panel is open; on a phone it opens by itself when a filter is in use."""
    desktop = new_page(viewport={"width": 1280, "height": 900})
    sign_in(desktop, live_server, "leader")
    desktop.goto(f"{live_server}/tasks/queue")
    assert desktop.get_by_label("只看已逾期").is_visible()
    phone = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    sign_in(phone, live_server, "leader")
    phone.goto(f"{live_server}/tasks/queue?overdue=1")
    assert phone.get_by_label("只看已逾期").is_checked() and phone.get_by_label("只看已逾期").is_visible()
    assert "已按条件筛选" in phone.locator("#filter-panel > summary").inner_text()
