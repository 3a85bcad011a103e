"""查找事项 in the staff pages: a form of its own in the navigation; results link to the case page; a bad
date is refused next to its field with what was typed kept; a searcher finds only what they may open."""
from __future__ import annotations

from tests.web.conftest import login


def test_the_search_form_is_in_the_navigation_and_lists_nothing_before_a_search(client, start_approval):
    start_approval()
    login(client, "leader")
    html = client.get("/tasks/inbox").get_data(as_text=True)
    assert 'href="/cases/search"' in html and ">查找事项</a>" in html
    page = client.get("/cases/search").get_data(as_text=True)
    assert '<label for="q-phone">联系电话</label>' in page and "共 " not in page


def test_a_search_by_title_and_status_links_to_the_case(client, start_approval):
    found = start_approval("东门路灯不亮")
    start_approval("井盖松动")
    login(client, "leader")
    html = client.get("/cases/search?title=路灯&status=running").get_data(as_text=True)
    assert "共 1 项" in html and f'<a href="/cases/{found.case_number}">{found.case_number}</a>' in html
    assert "井盖松动" not in html and "办理中" in html


def test_a_bad_date_is_refused_next_to_the_field_and_what_was_typed_is_kept(client, start_approval):
    start_approval()
    login(client, "leader")
    response = client.get("/cases/search?from=2026-02-30&title=路灯")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="err-q-from">日期格式应为 YYYY-MM-DD</p>' in html
    assert "受理日期起不是有效日期" in html and 'value="路灯"' in html and "共 " not in html


def test_a_colleague_without_a_part_in_the_case_does_not_find_it(client, app, start_approval):
    start_approval("东门路灯不亮")  # 审核 is the 社区负责人's step
    other = app.test_client()
    login(other, "superior")
    assert "没有符合条件的事项" in other.get("/cases/search?title=路灯").get_data(as_text=True)
    login(client, "leader")
    assert "共 1 项" in client.get("/cases/search?title=路灯").get_data(as_text=True)
