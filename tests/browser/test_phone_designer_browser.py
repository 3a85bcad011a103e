"""The designer's procedure list on a phone (issue #17: the version table was 175 px wider than a 390 px
screen): each version is a card, nothing scrolls sideways, and the page stays accessible."""
from __future__ import annotations

import pytest

from engine.people import users
from engine.store.db import Database
from tests.browser.axe import assert_accessible
from tests.browser.test_minqing_flow import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_the_version_list_fits_a_phone(live_server, new_page, tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'minyi.db'}")
    users.create_user(database, "designer", PASSWORD, "周设计", ["流程设计人员"])
    database.dispose()
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, live_server, "designer")
    phone.goto(f"{live_server}/designer/")
    row = phone.locator("table.versions tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "系统" in row.locator('td[data-label="部署人"]').inner_text()
    assert_accessible(phone)
