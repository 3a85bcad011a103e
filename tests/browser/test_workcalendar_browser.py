"""工作日历 on a phone: the administrator follows the warning about next year's missing 放假通知 to
the calendar, types the notice (a slip is shown next to its field), saves it, and the warning is gone."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from engine.bpmn import calendar
from tests.browser.axe import assert_accessible
from tests.browser.conftest import screenshot
from tests.browser.test_minqing_flow import flash, sign_in

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.reload()
    yield
    calendar.reload()


def test_the_administrator_enters_next_years_notice_from_the_warning(live_server, new_page):
    page = new_page(**PHONE)
    sign_in(page, live_server, "admin")
    warning = page.locator(".calendar-warning").first
    year = warning.inner_text()[:4]
    warning.get_by_role("link", name="去录入").click()
    assert page.get_by_label("年份").input_value() == year
    assert_accessible(page)
    page.get_by_label("放假日期").fill(f"{year}-01-01 元旦\n{year}-02-05 至 {year}-02-12 春节")
    page.get_by_label("调休上班日期").fill(f"{year}-02-31 春节调休")
    page.get_by_role("button", name="保存并重算期限").click()
    expect(page.get_by_label("调休上班日期")).to_have_attribute("aria-invalid", "true")  # the answer has come
    assert "不是有效的日期" in page.locator("#workdays-error").inner_text()
    assert_accessible(page)
    weekend = next(d for d in (date(int(year), 2, n) for n in range(13, 21)) if d.weekday() >= 5)
    page.get_by_label("调休上班日期").fill(f"{weekend} 春节调休")
    page.get_by_role("button", name="保存并重算期限").click()
    assert f"已保存 {year} 年放假通知" in flash(page)
    assert page.locator(".calendar-warning").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
    screenshot(page, "calendar-phone")
