"""Every page works under the Content-Security-Policy (no inline script; style attributes only on the
modeler pages). The `new_page` fixture fails a test on any violation; this file makes sure it would hear
one, and visits the pages the flows of the other browser tests do not reach."""
from __future__ import annotations

import pytest

from engine.people import users
from engine.store.db import Database
from engine.work import runtime
from tests.browser.conftest import hear_violations
from tests.browser.test_minqing_flow import sign_in
from tests.conftest import PASSWORD
from tests.minqing import Matter
from web.headers import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.browser
PROBE = """<!doctype html><html><head><title>probe</title></head><body>
<p style="color: red">inline style</p><script>document.title = 'ran';</script></body></html>"""


def test_the_policy_check_hears_a_violation(browser, live_server):
    """A page with an inline script and a style attribute under the app's policy: both are blocked and heard."""
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    hear_violations(context, page, violations)
    page.route(f"{live_server}/probe", lambda route: route.fulfill(
        status=200, body=PROBE, headers={"Content-Type": "text/html; charset=utf-8",
                                         "Content-Security-Policy": CONTENT_SECURITY_POLICY}))
    page.goto(f"{live_server}/probe")
    def heard() -> bool:
        return any("script-src" in v for v in violations) and any("style-src" in v for v in violations)

    for _ in range(100):  # the reports arrive as console messages, after the page has loaded: up to 5 s
        if heard():
            break
        page.wait_for_timeout(50)
    title = page.title()
    context.close()
    assert title == "probe"  # the inline script did not run
    assert heard(), violations


@pytest.fixture
def case_number(live_server, tmp_path) -> str:
    """A matter classified as 承诺件, written through the engine into the server's database."""
    db = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    staff = {a.username: a for a in users.list_users(db)}
    users.create_user(db, "all", PASSWORD, "全能", ["管理员", "流程设计人员", "审计", "社区负责人"])
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2099-12-01")
    db.dispose()
    runtime.forget_all()
    return m.number


def test_every_staff_and_resident_page_keeps_to_the_policy(live_server, new_page, case_number):
    page = new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server, "all")
    for path in ("/tasks/inbox", "/tasks/queue", "/tasks/archive", "/cases/new", f"/cases/{case_number}",
                 "/notifications", "/extensions", "/account", "/admin/users", "/admin/users/new", "/admin/units",
                 "/designer/", "/designer/versions/1/cases", "/audit/", f"/audit/cases/{case_number}",
                 "/audit/statistics", "/audit/verify", "/audit/accounts", "/audit/units", "/no-such-page",
                 "/public/board", "/public/procedures", "/public/submit", "/public/follow"):
        response = page.goto(f"{live_server}{path}")
        assert response.status == (404 if path == "/no-such-page" else 200), path
        page.wait_for_load_state("load")
    for path in ("/designer/versions/1/edit", "/designer/new"):
        page.goto(f"{live_server}{path}")
        page.locator(".djs-container").wait_for()
        page.locator(".bio-properties-panel").first.wait_for()  # editing in it: test_designer_browser.py
