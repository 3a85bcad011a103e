"""用户管理 on a phone: the 管理员 opens an account for a new 网格员, who signs in and must first set
their own password in 我的账户; deactivated, the account's open session ends; the auditor reads it all."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, sign_in

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_account_is_opened_used_and_closed_on_a_phone(live_server, new_page):
    base = live_server
    admin, newcomer = new_page(**PHONE), new_page(**PHONE)
    sign_in(admin, base, "admin")
    admin.get_by_role("link", name="用户管理").click()
    admin.get_by_role("link", name="新建用户").click()
    admin.get_by_label("用户名(登录用)").fill("wangge1")
    admin.get_by_label("姓名").fill("网格员小刘")
    admin.get_by_label("电子邮箱").fill("liu@example")
    admin.get_by_label("角色 1", exact=True).select_option("受理员")  # held in the only unit, 本社区
    admin.get_by_label("初始密码").fill("first-password")
    admin.get_by_role("button", name="创建用户").click()
    # the address is refused next to its field; what was typed and ticked stays, the password does not
    expect(admin.get_by_label("电子邮箱")).to_have_attribute("aria-invalid", "true")  # the answer has come
    assert "电子邮箱地址不正确" in admin.locator("#email-error").inner_text()
    assert admin.get_by_label("角色 1", exact=True).input_value() == "受理员"
    assert admin.get_by_label("初始密码").input_value() == ""
    assert fits_the_screen(admin)
    screenshot(admin, "accounts-new-error-phone")
    admin.get_by_label("电子邮箱").fill("liu@example.org")
    admin.get_by_label("初始密码").fill("first-password")
    admin.get_by_role("button", name="创建用户").click()
    assert "已创建用户 wangge1" in flash(admin)
    assert "网格员小刘" in admin.locator("table.accounts").inner_text()
    assert fits_the_screen(admin)
    screenshot(admin, "accounts-list-phone")

    # the newcomer signs in and must first replace the password the administrator chose
    newcomer.goto(f"{base}/login")
    newcomer.get_by_label("用户名").fill("wangge1")
    newcomer.get_by_label("密码").fill("first-password")
    newcomer.get_by_role("button", name="登录").click()
    newcomer.wait_for_url(f"{base}/account#password")
    assert "您的密码是管理员设置的" in newcomer.locator("main").inner_text()
    newcomer.get_by_role("link", name="任务列表").click()
    newcomer.wait_for_url(f"{base}/account#password")  # nothing else until then
    newcomer.get_by_label("当前密码").fill("first-password")
    newcomer.get_by_label("新密码", exact=True).fill("my-own-password")
    newcomer.get_by_label("再输入一次新密码").fill("my-own-pasword")
    newcomer.get_by_role("button", name="修改密码").click()
    expect(newcomer.get_by_label("再输入一次新密码")).to_have_attribute("aria-invalid", "true")
    newcomer.get_by_label("当前密码").fill("first-password")
    newcomer.get_by_label("新密码", exact=True).fill("my-own-password")
    newcomer.get_by_label("再输入一次新密码").fill("my-own-password")
    newcomer.get_by_role("button", name="修改密码").click()
    assert "密码已修改" in flash(newcomer)
    newcomer.get_by_role("link", name="任务列表").click()
    newcomer.wait_for_url(f"{base}/tasks/inbox")
    newcomer.get_by_role("link", name="我的账户").click()
    assert fits_the_screen(newcomer)
    screenshot(newcomer, "accounts-mine-phone")

    # deactivated: the newcomer's open session ends at the next page
    admin.get_by_role("link", name="wangge1").click()
    admin.get_by_label("在用").uncheck()
    admin.get_by_role("button", name="保存", exact=True).click()
    assert "已保存用户 wangge1" in flash(admin)
    newcomer.goto(f"{base}/tasks/inbox")
    assert "/login" in newcomer.url

    # the auditor reads every one of these changes
    auditor = new_page(**PHONE)
    sign_in(auditor, base, "auditor")
    auditor.get_by_role("link", name="审计", exact=True).click()
    auditor.get_by_role("link", name="账户变更").click()
    auditor.wait_for_url(f"{base}/audit/accounts")
    rows = auditor.locator("table.account-changes tbody tr")
    expect(rows.first).to_be_visible()
    assert [row.locator("td").nth(3).inner_text() for row in rows.all()[:3]] == [
        "修改账户", "本人修改密码", "创建账户"]  # newest first; below them the accounts made on the command line
    assert "在用 → 停用" in rows.first.inner_text()
    assert fits_the_screen(auditor)
    screenshot(auditor, "audit-account-changes-phone")
