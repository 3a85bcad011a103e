"""工作日历 on the web: the warning about a year without its 放假通知 is for the administrator only,
and leads to the page where they enter the notice; the page lists every deadline the notice moved.
A mistake comes back next to its field with nothing kept; only a 管理员 reaches the page."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.bpmn import calendar
from engine.clock import CHINA_TZ
from engine.people import users
from engine.work import cases
from tests.conftest import DATA, PASSWORD, deploy_file
from tests.web.conftest import login

NOTICE = {"year": "2027", "days_off": "2027-01-01 元旦\n2027-02-05 至 2027-02-12 春节",
          "workdays": "2027-02-14 春节调休"}


@pytest.fixture(autouse=True)
def fresh_calendar():
    calendar.reload()
    yield
    calendar.reload()


@pytest.fixture
def admin(minyi_db):
    return users.create_user(minyi_db, "admin", PASSWORD, "管理员甲", ["管理员"])


def test_only_the_administrator_sees_the_missing_notice_warning_and_it_leads_to_the_calendar(
        client, admin, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    assert "calendar-warning" not in client.get("/login").get_data(as_text=True)
    login(client, "clerk")
    assert "calendar-warning" not in client.get("/tasks/inbox").get_data(as_text=True)
    client.post("/logout")
    login(client, "admin")
    html = client.get("/tasks/inbox").get_data(as_text=True)
    assert 'class="calendar-warning" role="alert">2027 年的法定节假日安排' in html
    assert 'href="/admin/calendar">去录入</a>' in html and "calendar-overrides.toml" not in html
    frozen_clock.set(datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc))
    assert "calendar-warning" not in client.get("/tasks/inbox").get_data(as_text=True)


def test_an_entered_notice_ends_the_warning_and_lists_the_deadlines_it_moved(
        client, admin, minyi_db, staff_actors, frozen_clock):
    frozen_clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc))
    deploy_file(minyi_db, DATA / "workday_deadline.bpmn")
    started = cases.start_case(minyi_db, staff_actors["clerk"], "workday_deadline",
                               {"title": "批复后答复", "reply_date": "2027-02-03"})
    login(client, "admin")
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "2027 年的放假通知尚未录入" in page and 'value="2027"' in page
    response = client.post("/admin/calendar", data=NOTICE)
    assert response.status_code == 302
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert "已保存 2027 年放假通知" in page and "尚未录入" not in page
    assert "管理员甲" in page and "2027-02-05 至 2027-02-12 春节" in page
    assert "重算了 1 个期限或定时器" in page and f'{started.case_number}</a> 批复后答复' in page
    assert "答复群众(办理期限)" in page and "2027-02-12 23:59" in page and "2027-02-15 23:59" in page
    assert "calendar-warning" not in client.get("/tasks/inbox").get_data(as_text=True)
    assert calendar.is_workday(datetime(2027, 2, 14, tzinfo=CHINA_TZ).date())
    trail = client.get(f"/audit/cases/{started.case_number}").get_data(as_text=True)
    assert "期限按新的放假通知重算" in trail and "由 2027-02-12 23:59 改为 2027-02-15 23:59" in trail


def test_a_mistake_comes_back_next_to_its_field_and_nothing_is_kept(client, admin):
    login(client, "admin")
    response = client.post("/admin/calendar", data={**NOTICE, "workdays": "2027-02-14 春节调休\n2027-3-3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="workdays-error">2027-03-03 是星期三,本来就是工作日' in html
    assert "2027-02-05 至 2027-02-12 春节" in html               # what was typed is kept in the form
    assert "还没有录入记录" in html


@pytest.mark.parametrize("username", ["clerk", "leader", "auditor"])
def test_only_an_administrator_reaches_the_calendar(client, admin, username):
    login(client, username)
    assert client.get("/admin/calendar").status_code == 403
    response = client.post("/admin/calendar", data=NOTICE)
    assert response.status_code == 403 and "只有管理员可以维护工作日历" in response.get_data(as_text=True)
