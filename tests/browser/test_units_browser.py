"""Units in a real browser (issue #18): a resident on a phone names their 社区 and a 网格 of it (the 网格
list follows the 社区, dependent-options.js), a resident picks their 社区's board, and a 社区负责人 转办s
a case from its page. Each page passes axe-core at the state it reaches."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.store.db import Database
from engine.store.models import Case
from engine.work import cases
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, sign_in
from tests.minqing import INTAKE, PROCESS
from tests.units_tree import build, published

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def district(live_server, tmp_path):
    """东岗街道's units and people, added to the live server's database (tmp_path/minyi.db)."""
    database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    built = build(database)
    yield built, database
    database.dispose()


def unit_of(database: Database, number: str) -> int:
    with database.read() as session:
        return session.scalar(select(Case.unit_id).where(Case.number == number))


def test_a_resident_names_their_community_and_a_grid_of_it(live_server, new_page, district):
    d, database = district
    page = new_page(**PHONE)
    page.goto(f"{live_server}/public/submit")
    grid = page.get_by_label("所在网格(可不选)")
    # before a 社区 is chosen no 网格 is offered; then only those of the chosen 社区
    expect(grid.locator(f'option[value="{d.guangming_grid}"]')).to_be_disabled()
    page.get_by_label("所在社区").select_option(str(d.guangming))
    expect(grid.locator(f'option[value="{d.guangming_grid}"]')).to_be_enabled()
    expect(grid.locator(f'option[value="{d.xingfu_grid}"]')).to_be_disabled()
    grid.select_option(str(d.guangming_grid))
    assert_accessible(page)
    page.get_by_label("事项类别").select_option("水电气暖")
    page.get_by_label("事项标题").fill("5号楼停水")
    page.get_by_label("问题描述").fill("5号楼从昨天起停水。")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("main")).to_contain_text(re.compile(r"MQ-\d{8}-\d{6}"))  # the receipt, not the form
    number = re.search(r"MQ-\d{8}-\d{6}", page.locator("main").inner_text()).group(0)
    screenshot(page, "units-resident-receipt")
    assert unit_of(database, number) == d.guangming_grid


def test_a_resident_who_forgets_the_community_is_told_which_field(live_server, new_page, district):
    page = new_page(**PHONE)
    page.goto(f"{live_server}/public/submit")
    page.get_by_label("事项类别").select_option("水电气暖")
    page.get_by_label("事项标题").fill("5号楼停水")
    page.get_by_label("问题描述").fill("5号楼从昨天起停水。")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#error-summary")).to_contain_text("所在社区:请选择所在社区")
    expect(page.get_by_label("事项标题")).to_have_value("5号楼停水")
    assert_accessible(page)


def test_a_resident_picks_their_communitys_board(live_server, new_page, district):
    d, database = district
    published(database, d, "guangming", "光明路灯修复")
    published(database, d, "xingfu", "幸福水管修复")
    page = new_page(**PHONE)
    page.goto(f"{live_server}/public/board")
    expect(page.locator(".board-list")).to_contain_text("幸福水管修复")
    page.get_by_label("选择社区").select_option(label="东岗街道 › 光明社区")
    page.get_by_role("button", name="查看").click()
    page.wait_for_url(f"{live_server}/public/board/u/{d.guangming}")
    expect(page.get_by_role("heading", level=1)).to_have_text("光明社区公示栏")
    expect(page.locator(".board-list")).to_contain_text("光明路灯修复")
    expect(page.locator(".board-list")).not_to_contain_text("幸福水管修复")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page)
    page.goto(f"{live_server}/public/procedures/u/{d.guangming}")
    expect(page.locator("main")).to_contain_text("社区负责人(光明社区)")
    assert_accessible(page)
    screenshot(page, "units-community-procedures")


def test_a_community_leader_moves_a_case_to_a_grid_from_its_page(live_server, new_page, district):
    d, database = district
    number = cases.start_case(database, d.people["gm_clerk"], PROCESS, INTAKE, unit_id=d.guangming).case_number
    page = new_page()
    sign_in(page, live_server, "gm_leader")
    page.goto(f"{live_server}/cases/{number}")
    expect(page.locator(".summary")).to_contain_text("光明社区")
    page.get_by_role("button", name="转办").click()  # nothing chosen: the browser asks first
    page.get_by_label("转办到").select_option(label="第一网格")
    page.get_by_label("转办原因").fill("   ")  # only spaces: the browser lets it through, the server does not
    page.get_by_role("button", name="转办").click()
    expect(page.locator("#err-reason")).to_have_text("请填写转办原因")
    assert_accessible(page)
    page.get_by_label("转办原因").fill("属第一网格")
    page.get_by_role("button", name="转办").click()
    assert "已从光明社区转办到第一网格" in flash(page)
    expect(page.locator(".history")).to_contain_text("从光明社区转办到第一网格:属第一网格")
    assert unit_of(database, number) == d.guangming_grid
