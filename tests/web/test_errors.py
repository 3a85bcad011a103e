"""One place turns errors into pages or JSON; nobody sees a traceback."""
from __future__ import annotations

import logging
import re

import pytest

from tests.web.conftest import login


@pytest.fixture
def broken(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")
    return app


def test_unexpected_error_is_a_500_page_with_a_logged_request_id(broken, caplog):
    client = broken.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统出错" in html
    assert "secret internals" not in html and "Traceback" not in html
    request_id = re.search(r'<code class="request-id">([0-9a-f]{32})</code>', html).group(1)
    record = next(r for r in caplog.records if request_id in r.getMessage())
    assert record.exc_info and "secret internals" in str(record.exc_info[1])


def test_404_and_405_pages_are_chinese(client):
    login(client, "clerk")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    wrong = client.get("/tasks/1/complete")
    assert wrong.status_code == 405 and "不支持" in wrong.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/app.css">' in wrong.get_data(as_text=True)


def test_api_errors_are_json(broken):
    client = broken.test_client()
    response = client.get("/api/tasks")
    assert response.is_json and response.json["status"] == 401


def test_page_has_no_external_assets(client):
    login(client, "clerk")
    html = client.get("/tasks/inbox").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
