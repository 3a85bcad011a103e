"""Every page passes axe-core's WCAG 2.1 A and AA rules (npm `axe-core`, pinned in package-lock.json),
at a desktop and at a phone width. New pages join the list below; a page's own browser test may also
call `assert_accessible(page)` at the states it reaches (forms with errors, dialogs)."""
from __future__ import annotations

import pytest

from tests.browser.axe import assert_accessible, axe_violations
from tests.browser.test_csp_browser import case_number  # noqa: F401 (fixture)
from tests.browser.test_minqing_flow import sign_in

pytestmark = pytest.mark.browser

STAFF_PAGES = ("/tasks/inbox", "/tasks/queue", "/tasks/archive", "/tasks/team", "/tasks/team?overdue=1",
               "/tasks/queue?overdue=1", "/cases/new", "/cases/{number}", "/cases/search",
               "/cases/search?title=暖气", "/cases/search?from=2026-02-30",
               "/notifications", "/extensions", "/account", "/admin/users", "/admin/users/new", "/admin/units",
               "/designer/", "/designer/versions/1/cases", "/designer/versions/1/edit", "/audit/",
               "/audit/cases/{number}", "/audit/statistics", "/audit/verify", "/audit/accounts", "/audit/units",
               "/admin/calendar", "/assessment/", "/assessment/?period=2026-13", "/no-such-page")
PUBLIC_PAGES = ("/", "/public", "/login", "/public/board", "/public/procedures", "/public/submit", "/public/follow",
                "/public/board/u/1", "/public/procedures/u/1",  # a 社区's own board and 办事指南 (the default unit)
                "/public/board/objections", "/public/board/objections/YZ-0-异议1?c=2345678923")


def test_the_check_finds_a_violation(live_server, new_page):
    """An input without a label on an otherwise clean page is reported: the check is not vacuous."""
    page = new_page()
    page.goto(f"{live_server}/login")
    page.evaluate("() => document.querySelector('main, body').append(document.createElement('input'))")
    assert any(" label " in line or line.split(": ", 1)[1].startswith("label") for line in axe_violations(page))


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_every_page_passes_wcag_21_aa(live_server, new_page, case_number, viewport):  # noqa: F811
    page = new_page(viewport=viewport)
    for path in PUBLIC_PAGES:
        page.goto(f"{live_server}{path}")
        assert_accessible(page)
    sign_in(page, live_server, "all")
    for path in STAFF_PAGES:
        page.goto(f"{live_server}{path.format(number=case_number)}")
        page.wait_for_load_state("load")
        if path.endswith("/edit"):
            page.locator(".djs-container").wait_for()
        assert_accessible(page)
