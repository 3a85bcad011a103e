"""A resident without an account, on a phone: submits online, a clerk checks it (网上受理核实) before
it is dispatched, the resident follows the matter, rates 不满意, and rates again after the supervisor
reopened it and a new answer was given.

Staff work their steps in their own browser sessions through the task list.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from engine import clock
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, open_task, queue_numbers, sign_in

pytestmark = pytest.mark.browser
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def stored_uploads(tmp_path):
    """The bytes of the files the live server keeps (in its database, tmp_path/minyi.db)."""
    from sqlalchemy import select

    from engine.store.db import Database
    from engine.store.models import AttachmentContent

    def _read() -> list[bytes]:
        database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
        try:
            with database.read() as session:
                return [bytes(data) for data in session.scalars(select(AttachmentContent.data))]
        finally:
            database.dispose()
    return _read


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def answer_as_handler(handler, base: str, number: str, step: str, result: str, text: str) -> None:
    open_task(handler, base, number, step)
    handler.get_by_label("办理结果").fill(result)
    handler.get_by_role("button", name="提交办理").click()
    open_task(handler, base, number, "反馈答复", where="inbox")  # the answer stays with who did the work
    handler.get_by_label("反馈方式").select_option("分散式答复")
    handler.get_by_label("答复内容").fill(text)
    handler.get_by_role("button", name="提交办理").click()
    assert "一事一评" in flash(handler)


def test_a_resident_submits_follows_rates_and_rates_again_after_a_reopen(stored_uploads, live_server, new_page):
    base = live_server
    resident = new_page(**PHONE)

    # 民情受理 online: no account, the channel is set by the system
    resident.goto(f"{base}/public/submit")
    resident.get_by_label("事项类别").select_option("公共卫生")
    resident.get_by_label("事项标题").fill("楼道堆满杂物")
    resident.get_by_label("问题描述").fill("9号楼1单元楼道堆满纸箱,有火灾隐患。")
    resident.get_by_label("反映人姓名").fill("郑阿姨")
    resident.get_by_label("联系方式").fill("13600006666")
    resident.get_by_label("地址").fill("和谐小区9号楼1单元")
    resident.get_by_label("照片或材料(可选)").set_input_files(
        files=[{"name": "楼道.png", "mimeType": "image/png", "buffer": PHOTO}])
    assert fits_the_phone(resident)
    resident.get_by_role("button", name="提交").click()
    resident.get_by_role("heading", name="已受理").wait_for()
    number = resident.locator(".case-number").inner_text()
    code = resident.locator(".followup-code").inner_text().replace("-", "")
    link = resident.locator(".followup-link").get_attribute("href")
    assert number.startswith("MQ-") and len(code) == 10 and link.endswith(f"?c={code}")
    assert stored_uploads() == [PHOTO]
    screenshot(resident, "20-resident-receipt")

    # an online submission first waits in the clerk's queue (网上受理核实); the leader does not see it yet
    clerk, leader, handler, supervisor = new_page(), new_page(), new_page(), new_page()
    for page, name in ((clerk, "clerk"), (leader, "leader"), (handler, "handler"), (supervisor, "supervisor")):
        sign_in(page, base, name)
    assert number not in queue_numbers(leader, base)
    resident.goto(link)
    assert resident.locator(".case-state").inner_text() == "受理中"
    assert number in queue_numbers(clerk, base)
    open_task(clerk, base, number, "网上受理核实")
    assert clerk.locator("dd", has_text="9号楼1单元楼道堆满纸箱").first.is_visible()
    assert clerk.locator(".event-who", has_text="居民").first.is_visible()  # who submitted it, in the history
    clerk.get_by_label("核实结果").select_option("受理")
    clerk.get_by_label("所属网格").fill("第九网格")
    clerk.get_by_label("核实情况").fill("已电话联系郑阿姨核实。")
    screenshot(clerk, "19-clerk-verifies-online")
    clerk.get_by_role("button", name="提交办理").click()
    assert "分类交办" in flash(clerk)

    # now it is in the leader's queue like any other: 分类交办 belongs to the 社区负责人
    assert number in queue_numbers(leader, base)
    open_task(leader, base, number, "分类交办")
    assert leader.locator("dd", has_text="电子信箱/网站").first.is_visible()
    leader.get_by_label("办理方式").select_option("承诺件")
    promised = clock.today() + timedelta(days=7)
    leader.get_by_label("承诺办结日期").fill(promised.isoformat())
    leader.get_by_role("button", name="提交办理").click()
    assert "承诺件办理" in flash(leader)

    # the resident follows with the link: 办理, 承诺件 with the promised date, no staff names
    resident.goto(link)
    assert resident.locator(".case-state").inner_text() == "办理中"
    assert resident.locator(".case-kind").inner_text() == f"承诺件,承诺 {promised.isoformat()} 前办结"
    assert resident.get_by_role("button", name="提交评价").count() == 0
    body = resident.locator("main").inner_text()
    assert "李主任" not in body and "郑阿姨" not in body and "13600006666" not in body
    assert fits_the_phone(resident)
    screenshot(resident, "21-resident-follow-handling")

    answer_as_handler(handler, base, number, "承诺件办理", "已清理楼道杂物。", "楼道杂物已清理完毕。")

    # 一事一评: 不满意 goes to the supervisor; the page then offers no second rating
    resident.goto(link)
    assert "楼道杂物已清理完毕。" in resident.locator(".answers").inner_text()
    resident.get_by_label("不满意").check()
    resident.get_by_label("评价意见(可选)").fill("只清了一半。")
    screenshot(resident, "22-resident-rating")
    resident.get_by_role("button", name="提交评价").click()
    assert "评价已提交" in resident.locator(".flash").inner_text()
    assert "不满意" in resident.locator(".rating-given").inner_text()
    assert resident.get_by_role("button", name="提交评价").count() == 0

    # the supervisor reviews and reopens the handling
    open_task(supervisor, base, number, "督办复核")
    assert "只清了一半。" in supervisor.locator("main").inner_text()
    supervisor.get_by_label("复核结论").select_option("重新办理")
    supervisor.get_by_label("复核意见").fill("请彻底清理。")
    supervisor.get_by_role("button", name="提交办理").click()
    assert "分类交办" in flash(supervisor)
    resident.reload()
    assert resident.locator(".case-state").inner_text() == "办理中"
    assert resident.get_by_role("button", name="提交评价").count() == 0  # no second rating before a new answer

    open_task(leader, base, number, "分类交办")
    leader.get_by_label("办理方式").select_option("即办件")
    leader.get_by_role("button", name="提交办理").click()
    answer_as_handler(handler, base, number, "即办件办理", "全部清理并张贴告示。",
                      "楼道已全部清理,并张贴了禁止堆放的告示。")

    # after the new answer the resident rates again, and the matter is closed
    resident.goto(link)
    answers = resident.locator(".answers").inner_text()
    assert "楼道已全部清理" in answers and "此前的答复" in answers
    resident.get_by_label("满意", exact=True).check()
    resident.get_by_role("button", name="提交评价").click()
    expect(resident.locator(".case-state")).to_have_text("已办结")
    expect(resident.locator(".rating-given strong")).to_have_count(2)
    given = resident.locator(".rating-given strong").all_inner_texts()
    assert [re.sub(r"\s+", "", t) for t in given] == ["不满意", "满意"]
    assert fits_the_phone(resident)
    screenshot(resident, "23-resident-closed")

    # the photo is downloadable with the code, as a download
    with resident.expect_download() as download:
        resident.get_by_role("link", name="楼道.png").click()
    assert download.value.suggested_filename == "楼道.png"
