"""A real server and a headless Chromium: the app on a temporary SQLite DB, served in a thread."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine.people import users
from engine.store.db import Database
from engine.work import runtime
from tests.conftest import IN_CI, PASSWORD, PROCESSES, ROOT, STAFF, deploy_file
from web import create_app

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required under CI")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(tmp_path, sqlite_template) -> Iterator[str]:
    """The app with the demo staff, an `admin` (管理员) and processes/minqing_liushuixian.bpmn, on 127.0.0.1
    and a free port."""
    path = tmp_path / "minyi.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    runtime.forget_all()
    for name, (display, roles) in STAFF.items():
        users.create_user(database, name, PASSWORD, display, roles)
    users.create_user(database, "admin", PASSWORD, "管理员甲", ["管理员"])
    deploy_file(database, PROCESSES / "minqing_liushuixian.bpmn")
    database.dispose()
    app = create_app({"TESTING": True, "SECRET_KEY": "browser-test", "DATABASE_URL": f"sqlite:///{path}",
                      "WTF_CSRF_ENABLED": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    app.extensions["minyi_db"].dispose()


# Reports every Content-Security-Policy violation of a page to the console, where the fixture below hears it
# (Chromium logs most violations itself; this catches the rest, e.g. a refused inline style).
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
                + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def hear_violations(context, page, violations: list[str]) -> None:
    """Collect the Content-Security-Policy violations of `page` (opened in `context`) into `violations`."""
    def _hear(message) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text or "CSP violation" in message.text):
            violations.append(f"{message.location.get('url', '')}: {message.text}")

    context.add_init_script(REPORT_VIOLATIONS)
    page.on("console", _hear)


@pytest.fixture
def new_page(browser):
    """Pages in fresh contexts (one per user, so sessions do not mix); all closed after the test.
    Every page the test visits must keep to the Content-Security-Policy: a violation fails the test."""
    contexts = []
    violations: list[str] = []

    def _new(**options):
        context = browser.new_context(locale="zh-CN", **options)
        contexts.append(context)
        page = context.new_page()
        hear_violations(context, page, violations)
        return page

    yield _new
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
