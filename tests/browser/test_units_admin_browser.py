"""单位管理 on a phone: the 管理员 imports the 街道's units from a file, adds a 网格, renames and 撤销 a unit,
gives a 网格员 their role in the new 网格 in 用户管理, and the auditor reads it all in 审计 › 单位变更."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_accounts_browser import PHONE, fits_the_screen
from tests.browser.test_minqing_flow import flash, sign_in

pytestmark = pytest.mark.browser
DISTRICT = "name,level,parent,beside\n光明社区,社区,本社区,\n红星社区,社区,本社区,\n民政科,职能部门,本社区,是\n"


def test_the_units_of_a_street_are_built_on_a_phone(live_server, new_page, tmp_path):
    base = live_server
    admin = new_page(**PHONE)
    sign_in(admin, base, "admin")
    admin.get_by_role("link", name="单位管理").click()
    admin.wait_for_url(f"{base}/admin/units")

    # a file with a mistake imports nothing and names the line and field
    bad = tmp_path / "bad.csv"
    bad.write_text(DISTRICT.replace("红星社区,社区", "红星社区,"), encoding="utf-8")
    admin.get_by_label("单位文件(.csv 或 .toml)").set_input_files(str(bad))
    admin.get_by_role("button", name="导入").click()
    assert "第 3 行 层级:不能为空" in admin.locator("#import-file-error").inner_text()
    assert admin.locator(".unit-tree li").count() == 1
    good = tmp_path / "district.csv"
    good.write_text(DISTRICT, encoding="utf-8")
    admin.get_by_label("单位文件(.csv 或 .toml)").set_input_files(str(good))
    admin.get_by_role("button", name="导入").click()
    assert "已导入 3 个单位" in flash(admin)
    expect(admin.locator(".unit-tree li")).to_have_count(4)

    # a 网格 under 光明社区, then 本社区 becomes 龙山街道
    admin.locator("#new-name").fill("第一网格")
    admin.locator("#new-level").fill("网格")
    admin.locator("#new-parent_id").select_option(label="— 光明社区(社区)")
    admin.get_by_role("button", name="新建单位").click()
    assert "已新建单位“第一网格”" in flash(admin)
    admin.get_by_text("管理“本社区”").click()
    admin.locator("#u1-name").fill("龙山街道")
    admin.locator("#u1-level").fill("街道")
    admin.locator("#unit-1").get_by_role("button", name="保存名称和层级").click()
    assert "“龙山街道”已保存" in flash(admin)

    # 撤销 refused while a unit below is open, then 红星社区 goes
    admin.get_by_text("管理“光明社区”").click()
    admin.get_by_role("button", name="撤销“光明社区”").click()
    assert "下还有未撤销的单位:第一网格" in admin.locator(".error-summary").inner_text()
    admin.get_by_text("管理“红星社区”").click()
    admin.get_by_role("button", name="撤销“红星社区”").click()
    assert "“红星社区”已撤销" in flash(admin)
    assert "已撤销" in admin.locator("#unit-3").inner_text()
    assert fits_the_screen(admin)
    screenshot(admin, "units-phone")

    # the 网格员's role is held in the new 网格
    admin.get_by_role("navigation", name="主导航").get_by_role("link", name="用户管理").click()
    admin.get_by_role("link", name="新建用户").click()
    admin.get_by_label("用户名(登录用)").fill("wangge1")
    admin.get_by_label("姓名").fill("网格员小刘")
    admin.get_by_label("角色 1", exact=True).select_option("受理员")
    admin.get_by_label("单位 1", exact=True).select_option(label="— — 第一网格(网格)")
    admin.get_by_label("初始密码").fill("first-password")
    admin.get_by_role("button", name="创建用户").click()
    assert "已创建用户 wangge1" in flash(admin)
    assert "受理员(第一网格)" in admin.locator("table.accounts").inner_text()
    assert fits_the_screen(admin)

    auditor = new_page(**PHONE)
    sign_in(auditor, base, "auditor")
    auditor.get_by_role("link", name="审计", exact=True).click()
    auditor.get_by_role("link", name="单位变更").click()
    auditor.wait_for_url(f"{base}/audit/units")
    rows = auditor.locator("table.unit-changes tbody tr")
    expect(rows.first).to_be_visible()
    assert [row.locator("td").nth(3).inner_text() for row in rows.all()[:3]] == ["撤销", "改名", "新建单位"]
    assert "本社区 → 龙山街道;层级 社区 → 街道" in rows.nth(1).inner_text()
    assert fits_the_screen(auditor)
    screenshot(auditor, "audit-unit-changes-phone")
