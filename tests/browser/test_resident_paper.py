"""What a resident holds and reads, in a browser: the landing page, the 受理回执 with a short code and its
QR code (printable on A4), the clerk's receipt and 书面告知书 for a window case, and objecting to a 决议公开.
Every state a person sees passes axe-core's WCAG 2.1 AA rules and keeps to the Content-Security-Policy."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from engine import clock
from engine.people import users
from engine.store.db import Database
from engine.work import runtime, timers
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, open_task, register, sign_in
from tests.browser.test_resident_browser import PHONE, fits_the_phone
from tests.browser.test_yizheng_browser import yizheng_server  # noqa: F401 (fixture)
from tests.test_residents import do
from tests.yizheng import PUBLISH
from tests.yizheng import Matter as YizhengMatter

pytestmark = pytest.mark.browser
SHORT_CODE = re.compile(r"[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}")


def test_a_resident_on_a_phone_finds_the_way_in_and_keeps_a_printable_receipt(live_server, new_page):
    base = live_server
    resident = new_page(**PHONE)
    resident.goto(f"{base}/")
    resident.get_by_role("heading", name="居民服务").wait_for()
    for entry in ("我要反映", "查询进度", "办事指南", "公示栏"):
        assert resident.locator(".home-entry", has_text=entry).is_visible()
    assert fits_the_phone(resident)
    assert_accessible(resident)
    screenshot(resident, "24-resident-home")

    resident.locator(".home-entry", has_text="我要反映").click()
    resident.get_by_label("事项类别").select_option("社区治安")
    resident.get_by_label("事项标题").fill("小区东门路灯不亮")
    resident.get_by_label("问题描述").fill("东门两盏路灯坏了一周,晚上很黑。")
    resident.get_by_label("联系方式").fill("13500005555")
    resident.get_by_role("button", name="提交").click()
    resident.get_by_role("heading", name="受理回执").wait_for()
    shown = resident.locator(".followup-code").inner_text()
    assert SHORT_CODE.fullmatch(shown)
    assert resident.get_by_role("img", name=re.compile("查询链接二维码")).is_visible()
    assert "1 个工作日内" in resident.locator(".receipt-next").inner_text()
    assert "小区东门路灯不亮" in resident.locator(".receipt-submitted").inner_text()
    assert "13500005555" not in resident.locator("main").inner_text()  # named, not shown
    assert fits_the_phone(resident)
    assert_accessible(resident)
    screenshot(resident, "25-resident-receipt-qr")
    resident.emulate_media(media="print")  # on paper: the receipt alone, no navigation or buttons
    assert not resident.locator(".site-header").is_visible() and not resident.get_by_role("button").first.is_visible()
    assert resident.locator(".receipt").is_visible()
    resident.emulate_media(media="screen")

    # an older person types the code as read off the receipt: lower case, with the hyphen
    number = resident.locator(".case-number").inner_text()
    resident.goto(f"{base}/public/follow")
    resident.get_by_label("受理编号").fill(number)
    resident.get_by_label("查询码").fill(shown.lower())
    resident.get_by_role("button", name="查询").click()
    assert resident.locator(".case-state").inner_text() == "受理中"

    # staff come the other way: the login page leads back to the residents' side
    resident.goto(f"{base}/public")
    resident.locator("main").get_by_role("link", name="工作人员登录").click()
    resident.get_by_role("link", name="返回居民服务").click()
    resident.get_by_role("heading", name="居民服务").wait_for()


def test_a_clerk_prints_the_receipt_and_the_written_notice_of_a_window_case(live_server, new_page, tmp_path):
    base = live_server
    clerk = new_page()
    sign_in(clerk, base, "clerk")
    number = register(clerk, topic="贫困救助", title="申请临时救助", description="家中突发困难,申请临时救助。",
                      reporter="孙大妈", contact="13300003333", address="和谐小区2号楼", grid="第二网格")
    clerk.goto(f"{base}/cases/{number}")
    clerk.get_by_role("button", name=re.compile("打印受理回执")).click()
    clerk.get_by_role("heading", name="受理回执").wait_for()
    code = clerk.locator(".followup-code").inner_text()
    assert SHORT_CODE.fullmatch(code) and clerk.get_by_role("img", name=re.compile("二维码")).is_visible()
    assert "分类交办" in clerk.locator(".receipt-next").inner_text()
    assert_accessible(clerk)
    screenshot(clerk, "26-clerk-receipt")

    # the leader makes it a 补办件 and the handler records the missing documents (through the engine here)
    db = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    staff = {a.username: a for a in users.list_users(db)}
    do(db, staff, number, "UserTask_classify", "leader", kind="补办件")
    do(db, staff, number, "UserTask_notify_missing", "handler", missing_documents="户口本复印件;低保证明",
       notice_date=clock.today().isoformat())  # 告知日期 lies between 受理日期 and today
    db.dispose()
    runtime.forget_all()

    clerk.goto(f"{base}/cases/{number}")
    clerk.get_by_role("link", name="打印补办材料书面告知书").click()
    clerk.get_by_role("heading", name="补办材料书面告知书").wait_for()
    text = clerk.locator(".written-notice").inner_text()
    assert "孙大妈" in text and "户口本复印件;低保证明" in text and "15 天内" in text
    assert clock.today().isoformat() in text
    assert_accessible(clerk)
    assert not clerk.locator(".receipt-sign").first.is_visible()
    screenshot(clerk, "27-written-notice")
    clerk.emulate_media(media="print")
    assert not clerk.locator(".site-header").is_visible() and clerk.locator(".written-notice").is_visible()
    assert clerk.locator(".receipt-sign").first.is_visible()  # lines to sign and stamp, on paper only

    # the resident follows with the code from the printed receipt
    resident = new_page(**PHONE)
    resident.goto(f"{base}/public/follow/{number}?c={code.replace('-', '')}")
    assert resident.locator(".case-state").inner_text() == "待您补充材料"


def test_a_resident_objects_to_a_resolution_during_its_publicity_period(yizheng_server, new_page):  # noqa: F811
    base, database = yizheng_server
    staff = {a.username: a for a in users.list_users(database)}
    y = YizhengMatter(database, staff)
    y.consult({})
    y.propose_and_review()
    y.vote()
    y.do("UserTask_publish", "gongzuo", **PUBLISH)
    runtime.forget_all()

    resident = new_page(**PHONE)
    resident.goto(f"{base}/public/board")
    resident.get_by_role("link", name="有异议?公示期内可提出").click()
    resident.get_by_role("heading", name="对公示内容有异议?").wait_for()
    assert "社区“两委”" in resident.locator(".objection-how").inner_text()
    resident.get_by_role("button", name="提交异议").click()  # nothing written: refused next to the field
    assert resident.locator("#err-objection_content").inner_text() == "请填写异议内容"
    assert_accessible(resident)
    resident.get_by_label("异议内容").fill("车位分配没有照顾老年住户,请重新审议。")
    resident.get_by_label("姓名(可选)").fill("刘大爷")
    assert fits_the_phone(resident)
    screenshot(resident, "28-board-objection")
    resident.get_by_role("button", name="提交异议").click()
    resident.get_by_role("heading", name="异议已提交").wait_for()
    assert resident.locator(".objection-reference").inner_text() == f"{y.number}-异议1"
    assert SHORT_CODE.fullmatch(resident.locator(".objection-code").inner_text())
    assert resident.locator(".receipt-qr svg.qr").count() == 1 and fits_the_phone(resident)
    assert_accessible(resident)
    screenshot(resident, "29-objection-receipt")
    resident.get_by_role("link", name="查看审查结果").click()
    assert resident.locator(".objection-state").inner_text() == "待审查"
    assert_accessible(resident)

    # the 两委 find it in their 登记异议 step, filled in
    liangwei = new_page()
    sign_in(liangwei, base, "liangwei")
    liangwei.goto(f"{base}/tasks/queue")
    liangwei.get_by_role("link", name=f"办理 {y.number} 登记异议").click()
    assert "车位分配没有照顾老年住户" in liangwei.get_by_label("异议内容").input_value()

    # the 公示期 ends before they review it: the objection is not lost with the step, they answer it after
    later = clock.now() + timedelta(days=9)
    clock.set_clock(lambda: later)
    assert timers.fire_due(database) == 1
    runtime.forget_all()
    open_task(liangwei, base, y.number, "审查期满前未审查的异议")
    assert "车位分配没有照顾老年住户" in liangwei.locator("#f-objections_unreviewed").input_value()
    liangwei.locator("#f-objection_answers").fill("已按楼层和年龄优先分配,异议不成立。")
    liangwei.locator("#f-objection_valid").select_option("不成立")
    liangwei.get_by_role("button", name="提交办理").click()
    assert "决议公开监督" in flash(liangwei)

    # the resident reads the answer with the code of the receipt
    resident.reload()
    assert resident.locator(".objection-state").inner_text() == "已审查"
    assert "已按楼层和年龄优先分配" in resident.locator(".objection-answer").inner_text()
    assert fits_the_phone(resident)
    assert_accessible(resident)
    screenshot(resident, "30-objection-answer")
