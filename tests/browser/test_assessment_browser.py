"""考核 in a browser: a 区 auditor opens 考核, drills down 街道 → 社区, switches the level to 网格 and the
period, on a desktop and a phone; the ranking table prints on one landscape A4 page."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.bpmn import deployments
from engine.people import units, users
from engine.store.db import Database
from engine.store.models import Case
from engine.work import runtime
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
A4_LANDSCAPE_PX = (277 / 25.4 * 96, 190 / 25.4 * 96)  # the printable area inside 10 mm margins, at 96 dpi


@pytest.fixture
def district(live_server, tmp_path) -> dict[str, int]:
    """龙山区 with two 街道; 城关街道 has 光明社区 (three 网格) and 和平社区; cases in November 2026."""
    db = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    with db.write() as session:
        made = {"区": units.create_unit(session, "admin", "龙山区", "区").id}
        for key, name, level, parent in (("S1", "城关街道", "街道", "区"), ("S2", "西城街道", "街道", "区"),
                                         ("C1", "光明社区", "社区", "S1"), ("C2", "和平社区", "社区", "S1"),
                                         ("G1", "光明一网格", "网格", "C1"), ("G2", "光明二网格", "网格", "C1"),
                                         ("G3", "光明三网格", "网格", "C1")):
            made[key] = units.create_unit(session, "admin", name, level, made[parent]).id
        version = deployments.latest_version_id(session, "minqing_liushuixian")
        for n, (unit, rating) in enumerate((("G1", "满意"), ("G1", "不满意"), ("G2", "满意"), ("C2", "基本满意"),
                                            ("S2", "满意"))):
            when = datetime(2026, 11, 3 + n, 2, tzinfo=timezone.utc)
            session.add(Case(number=f"MQ-K-{n}", version_id=version, process_id="minqing_liushuixian",
                             unit_id=made[unit], status="completed", rating=rating, started_by="clerk",
                             started_at=when, updated_at=when))
    users.create_user(db, "district", PASSWORD, "区纪工委", [], grants=[("审计", made["区"])])
    db.dispose()
    runtime.forget_all()
    return made


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}],
                         ids=["desktop", "phone"])
def test_a_district_auditor_drills_down_to_the_网格(live_server, new_page, district, viewport):
    page = new_page(viewport=viewport)
    sign_in(page, live_server, "district")
    if viewport["width"] < 600:
        page.goto(f"{live_server}/assessment/")
    else:
        page.get_by_role("link", name="考核").click()
    page.get_by_label("考核期").select_option("2026-11")
    page.get_by_role("button", name="查看").click()
    page.get_by_role("heading", name="龙山区 · 街道排名 · 2026年11月").wait_for()
    ranking = page.locator(".ranking-table tbody tr")
    assert ranking.count() == 2 and "西城街道" in ranking.first.inner_text()  # 满意率 100% before 75%
    assert_accessible(page)
    page.get_by_role("link", name="城关街道").click()
    page.get_by_role("heading", name="城关街道 · 社区排名 · 2026年11月").wait_for()
    page.get_by_label("层级", exact=True).select_option("网格")
    page.get_by_role("button", name="查看").click()
    page.get_by_role("heading", name="城关街道 · 网格排名 · 2026年11月").wait_for()
    rows = page.locator(".ranking-table tbody tr").all_inner_texts()
    assert [r.split("\t")[1] for r in rows] == ["光明二网格", "光明一网格", "光明三网格"]  # 100%, 50%, none
    assert "50.0%" in rows[1] and rows[2].startswith("—")
    assert_accessible(page)
    screenshot(page, f"assessment-{'phone' if viewport['width'] < 600 else 'desktop'}")
    page.get_by_role("link", name="龙山区").click()
    page.get_by_role("heading", name="龙山区 · 街道排名 · 2026年11月").wait_for()


def test_the_ranking_table_prints_on_one_landscape_page(live_server, new_page, district):
    """Laid out for print at the width of a landscape A4 page, the table fits its width and height."""
    width, height = A4_LANDSCAPE_PX
    page = new_page(viewport={"width": int(width), "height": int(height)})
    sign_in(page, live_server, "district")
    page.goto(f"{live_server}/assessment/?unit={district['C1']}&period=2026-11")
    page.emulate_media(media="print")
    assert not page.locator("form.filters").is_visible() and not page.locator(".site-header").is_visible()
    assert not page.get_by_role("button", name="打印排名表").is_visible()
    table = page.locator(".ranking-table").bounding_box()
    assert table["width"] <= width and table["y"] + table["height"] < height
    assert page.evaluate("document.documentElement.scrollWidth") <= int(width)
