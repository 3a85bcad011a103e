"""The way in: a resident on a phone opens the site's root (or /public) and finds 居民服务, with large
entries for 我要反映 / 查询进度 / 办事指南 / 公示栏 and a link for staff; the staff login links back."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import login

ENTRIES = {"我要反映": "/public/submit", "查询进度": "/public/follow", "办事指南": "/public/procedures",
           "公示栏": "/public/board"}


@pytest.mark.parametrize("path", ["/", "/public", "/public/"])
def test_the_root_and_public_are_the_residents_landing_page(client, path):
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>居民服务</h1>" in html
    for name, href in ENTRIES.items():
        assert re.search(rf'<a class="home-entry" href="{href}">\s*<span class="home-entry-title">{name}</span>', html)
    assert '<a href="/login">工作人员登录</a>' in html


def test_signed_in_staff_opening_the_root_go_to_their_inbox(client):
    login(client, "clerk")
    assert client.get("/").headers["Location"] == "/tasks/inbox"


def test_the_staff_login_links_back_to_the_residents_side(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<a href="/public">返回居民服务</a>' in html
