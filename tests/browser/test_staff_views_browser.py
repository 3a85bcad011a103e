"""A street office's first week, in a browser: staff see the photo and the PDF a resident handed in
(a thumbnail and download links on the task and case pages), the 社区负责人 works their team's open
steps in 本组待办 (ticks a step and 指派 it to a colleague in one go) and finds a matter by the
reporter's phone number in 查找事项 — at desktop and phone width, each state checked with axe-core.
Its screenshots illustrate docs/staff-guide.md (into docs/images/ with MINYI_UPDATE_DOC_IMAGES=1)."""
from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest

from engine import clock
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, open_task, sign_in
from tests.browser.test_designer_browser import DOC_IMAGES

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def photo(width: int = 96, height: int = 64) -> bytes:
    """A real (solid green) PNG, so the thumbnail has something to draw."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x2e\x8b\x57" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def shot(page, name: str) -> None:
    """A screenshot for the run (test-output/screenshots) and, when asked, for the staff guide."""
    screenshot(page, name)
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_IMAGES / f"staff-{name[3:]}.png"))


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_files_team_view_and_search_for_a_street_offices_staff(live_server, new_page):
    base = live_server
    resident = new_page(**PHONE)
    resident.goto(f"{base}/public/submit")
    resident.get_by_label("事项类别").select_option("环境绿化")
    resident.get_by_label("事项标题").fill("小区绿地被占用")
    resident.get_by_label("问题描述").fill("12号楼前绿地被人圈起来种菜。")
    resident.get_by_label("反映人姓名").fill("高大爷")
    resident.get_by_label("联系方式").fill("13512348888")
    resident.get_by_label("地址").fill("阳光小区12号楼")
    resident.get_by_label("照片或材料(可选)").set_input_files(files=[
        {"name": "绿地.png", "mimeType": "image/png", "buffer": photo()},
        {"name": "业主签名.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    resident.get_by_role("button", name="提交").click()
    resident.get_by_role("heading", name="已受理").wait_for()
    number = resident.locator(".case-number").inner_text()

    # 网上受理核实: the clerk sees the picture and the PDF beside the case
    clerk = new_page()
    sign_in(clerk, base, "clerk")
    open_task(clerk, base, number, "网上受理核实")
    thumb = clerk.get_by_role("img", name="查看图片 绿地.png")
    thumb.wait_for()  # visible is not loaded: wait for the picture itself before reading its size
    clerk.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert clerk.evaluate("img => img.naturalWidth", thumb.element_handle()) == 96
    assert clerk.get_by_role("link", name="下载 业主签名.pdf").is_visible()
    assert_accessible(clerk)
    shot(clerk, "30-task-with-files")
    with clerk.expect_download() as download:
        clerk.get_by_role("link", name="下载 业主签名.pdf").click()
    assert download.value.suggested_filename == "业主签名.pdf"
    clerk.get_by_label("核实结果").select_option("受理")
    clerk.get_by_label("所属网格").fill("第十二网格")
    clerk.get_by_label("核实情况").fill("已电话核实。")
    clerk.get_by_role("button", name="提交办理").click()
    assert "分类交办" in flash(clerk)

    # the leader classifies it as 承诺件; it goes to the 承办人 lane, unclaimed
    leader = new_page()
    sign_in(leader, base, "leader")
    open_task(leader, base, number, "分类交办")
    leader.get_by_label("办理方式").select_option("承诺件")
    leader.get_by_label("承诺办结日期").fill((clock.today() + timedelta(days=7)).isoformat())
    leader.get_by_role("button", name="提交办理").click()
    assert "承诺件办理" in flash(leader)

    # 本组待办: every open step of the leader's procedures; tick it and 指派 it to 张承办
    leader.get_by_role("link", name="本组待办").click()
    row = leader.locator("tr", has_text=number)
    assert row.locator('td[data-label="办理人"]').inner_text() == "未认领"
    assert_accessible(leader)
    leader.get_by_label(f"勾选 {number} 承诺件办理").check()
    leader.get_by_label("操作").select_option("assign")
    leader.get_by_label("指派给(选“指派给同事”时)").select_option(label="张承办(承办人)")
    shot(leader, "31-team-bulk-assign")
    leader.get_by_role("button", name="对勾选的步骤执行").click()
    assert f"已指派给 张承办 1 项:{number} 承诺件办理" in flash(leader)
    assert leader.locator("tr", has_text=number).locator('td[data-label="办理人"]').inner_text() == "张承办"

    # 查找事项 by part of the reporter's phone number, then the case page with its files
    leader.get_by_role("link", name="查找事项").click()
    leader.get_by_label("联系电话").fill("8888")
    leader.get_by_role("button", name="查找").click()
    leader.get_by_role("link", name=number).wait_for()
    assert_accessible(leader)
    shot(leader, "32-case-search")
    leader.get_by_role("link", name=number).click()
    leader.get_by_role("heading", name="附件").wait_for()
    assert leader.get_by_role("img", name="查看图片 绿地.png").is_visible()
    shot(leader, "33-case-files")

    # the same pages on a phone
    phone = new_page(**PHONE)
    sign_in(phone, base, "leader")
    for path in ("/tasks/team", "/cases/search?phone=8888", f"/cases/{number}"):
        phone.goto(f"{base}{path}")
        assert fits(phone), path
        assert_accessible(phone)
