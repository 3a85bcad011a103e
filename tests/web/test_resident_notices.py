"""The clerk's printable pages for a window or phone case: the 受理回执 (a new 查询码, its QR code, what
happens next) and, for a 补办件, the 书面告知书 listing the missing documents — both from the case page."""
from __future__ import annotations

import re

from engine import clock
from engine.people import users
from engine.work import cases
from tests.web.test_resident_pages import MATTER, database, do, receipt_of

WINDOW = {**MATTER, "channel": "政务大厅集中受理", "channel_way": "政务大厅窗口"}


def registered_at_the_window(app) -> str:
    clerk = next(a for a in users.list_users(database(app)) if a.username == "clerk")
    return cases.start_case(database(app), clerk, "minqing_liushuixian", WINDOW).case_number


def test_the_clerk_prints_a_receipt_with_a_new_code_and_its_qr_code(resident_app, resident, staff_client):
    number = registered_at_the_window(resident_app)
    clerk = staff_client("clerk")
    page = clerk.get(f"/cases/{number}").get_data(as_text=True)
    assert f'action="/cases/{number}/receipt"' in page and "打印受理回执" in page
    response = clerk.post(f"/cases/{number}/receipt")
    html = response.get_data(as_text=True)
    got, code = receipt_of(response)
    assert got == number and '<svg role="img"' in html and "data-print" in html and "分类交办" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "吴先生" not in html and "13700007777" not in html  # the receipt may be left on a counter
    assert resident.get(f"/public/follow/{number}?c={code}").status_code == 200


def test_a_receipt_is_only_printed_by_a_post_and_by_a_registering_role(resident_app, staff_client):
    number = registered_at_the_window(resident_app)
    assert staff_client("clerk").get(f"/cases/{number}/receipt").status_code == 405  # it issues a code
    do(resident_app, number, "UserTask_classify", "leader", kind="即办件")
    handler = staff_client("handler")
    refused = handler.post(f"/cases/{number}/receipt")
    assert refused.status_code == 403 and "只有受理员" in refused.get_data(as_text=True)
    assert "打印受理回执" not in handler.get(f"/cases/{number}").get_data(as_text=True)  # not offered either


def test_the_written_notice_of_a_补办件_is_linked_from_the_case_page_and_lists_the_documents(resident_app,
                                                                                      staff_client):
    number = registered_at_the_window(resident_app)
    clerk = staff_client("clerk")
    assert "书面告知书" not in clerk.get(f"/cases/{number}").get_data(as_text=True)
    refused = clerk.get(f"/cases/{number}/notice")
    assert refused.status_code == 409 and "书面告知补办" in refused.get_data(as_text=True)
    do(resident_app, number, "UserTask_classify", "leader", kind="补办件")
    do(resident_app, number, "UserTask_notify_missing", "handler", missing_documents="户口本复印件",
       notice_date=clock.today().isoformat())  # 告知日期 lies between 受理日期 and today
    assert f'href="/cases/{number}/notice"' in clerk.get(f"/cases/{number}").get_data(as_text=True)
    html = clerk.get(f"/cases/{number}/notice").get_data(as_text=True)
    assert "补办材料书面告知书" in html and "户口本复印件" in html and "吴先生" in html
    assert re.search(r"15 天内", html) and "data-print" in html
