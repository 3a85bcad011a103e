"""The residents' pages (no login): submit, follow by form or link, supplement, rate, downloads, 办事公开."""
from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from engine.people import users
from engine.store.db import Database
from engine.work import casepages, cases

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
MATTER = {"topic": "环境绿化", "title": "小区垃圾没人清", "description": "7号楼旁垃圾堆了三天。",
          "reporter_name": "吴先生", "reporter_contact": "13700007777", "address": "和平里7号楼", "grid": "第七网格"}
FEEDBACK = {"feedback_method": "分散式答复", "answer": "已安排清运,今后每日清理。"}  # 答复日期: today, its default


def submit(client: FlaskClient, files: list[tuple[bytes, str]] = (), **fields: Any):
    data: dict[str, Any] = {**MATTER, **fields}
    data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/public/submit", data=data, content_type="multipart/form-data")


def receipt_of(response) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    number = re.search(r'class="case-number">([^<]+)<', html).group(1)
    code = re.search(r'class="followup-code">([^<]+)<', html).group(1)
    return number, code.replace("-", "")  # shown in two groups of five


def database(app: Flask) -> Database:
    return app.extensions["minyi_db"]


def do(app: Flask, number: str, step_id: str, who: str, **values: Any) -> None:
    """A staff member completes a step through the engine (the staff pages have their own tests)."""
    people = {a.username: a for a in users.list_users(database(app))}
    view = casepages.get_case(database(app), people["auditor"], number)
    task = next(s for s in view.open_steps if s.step_id == step_id)
    cases.complete_task(database(app), people[who], task.task_id, values)


def accept(app: Flask, number: str) -> None:
    """网上受理核实: the clerk accepts the online submission, which goes on to 分类交办."""
    do(app, number, "UserTask_verify_online", "clerk", verified="受理")


def answer(app: Flask, number: str) -> None:
    """From a fresh online submission to an answer: accepted, handled as 即办件, answered."""
    accept(app, number)
    do(app, number, "UserTask_classify", "leader", kind="即办件")
    do(app, number, "UserTask_handle_immediate", "handler", handling_result="清运")
    do(app, number, "UserTask_feedback", "handler", **FEEDBACK)


def test_the_submit_page_draws_the_start_form_without_the_channel(resident):
    html = resident.get("/public/submit").get_data(as_text=True)
    for label in ("事项类别", "事项标题", "问题描述", "反映人姓名", "联系方式", "地址", "所属网格", "照片或材料"):
        assert label in html
    assert 'name="channel"' not in html and 'name="received_at"' not in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert "匿名" in html


def test_a_resident_submits_and_gets_the_number_and_the_code_once(resident, resident_app, staff_client):
    response = submit(resident, files=[(PNG, "现场.png")])
    number, code = receipt_of(response)
    html = response.get_data(as_text=True)
    assert len(code) == 10 and f"/public/follow/{number}?c={code}" in html and "只显示这一次" in html
    assert f"{code[:5]}-{code[5:]}" in html and '<svg role="img"' in html  # grouped, and a QR code of the link
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    assert number in staff_client("clerk").get("/tasks/queue").get_data(as_text=True)  # 网上受理核实 first
    assert number not in staff_client("leader").get("/tasks/queue").get_data(as_text=True)


def test_submit_errors_name_the_fields_and_keep_the_input(resident):
    response = submit(resident, title="", description="")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="err-title"' in html and 'id="err-description"' in html and 'value="吴先生"' in html


def test_follow_by_form_and_by_link_shows_the_stage(resident, resident_app):
    number, code = receipt_of(submit(resident))
    by_form = resident.post("/public/follow", data={"number": number, "code": code})
    by_link = resident.get(f"/public/follow/{number}?c={code}")
    for response in (by_form, by_link):
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "小区垃圾没人清" in html and "受理中" in html
        assert response.headers["Referrer-Policy"] == "no-referrer"
    accept(resident_app, number)
    do(resident_app, number, "UserTask_classify", "leader", kind="承诺件", promised_date="2099-12-03")
    html = resident.post(f"/public/follow/{number}", data={"code": code}).get_data(as_text=True)
    assert "承诺件,承诺 2099-12-03 前办结" in html


def test_without_a_code_the_link_asks_for_it(resident):
    number, _ = receipt_of(submit(resident))
    response = resident.get(f"/public/follow/{number}")
    assert response.status_code == 200 and f'value="{number}"' in response.get_data(as_text=True)


def _without(response, number):
    """The page with the number and the form's CSRF token taken out: the token is signed with the
    second it was made in, so two pages a moment apart differ there and nowhere else."""
    html = response.get_data(as_text=True).replace(number, "")
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)


def test_a_wrong_code_and_an_unknown_number_look_the_same(resident):
    number, code = receipt_of(submit(resident))
    wrong = resident.post("/public/follow", data={"number": number, "code": code[:-2] + "zz"})
    unknown = resident.post("/public/follow", data={"number": "MQ-20990101-999999", "code": code})
    assert wrong.status_code == unknown.status_code == 404
    assert _without(wrong, number) == _without(unknown, "MQ-20990101-999999")
    assert "受理编号或查询码不正确" in wrong.get_data(as_text=True)


def test_the_resident_rates_once_after_the_answer(resident, resident_app, staff_client):
    number, code = receipt_of(submit(resident))
    early = resident.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "满意"})
    assert early.status_code == 409 and "答复后才能评价" in early.get_data(as_text=True)
    answer(resident_app, number)
    page = resident.get(f"/public/follow/{number}?c={code}").get_data(as_text=True)
    assert FEEDBACK["answer"] in page and 'value="不满意"' in page and "每次答复只能评价一次" not in page
    empty = resident.post(f"/public/follow/{number}/rate", data={"code": code})
    assert empty.status_code == 422 and 'id="err-rating"' in empty.get_data(as_text=True)
    done = resident.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "不满意",
                                                                "rating_comment": "还是有味道"})
    assert done.status_code == 200 and "评价已提交" in done.get_data(as_text=True)
    again = resident.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "满意"})
    assert again.status_code == 409 and "每次答复只能评价一次" in again.get_data(as_text=True)
    assert number in staff_client("supervisor").get("/tasks/queue").get_data(as_text=True)


def test_rating_with_a_wrong_code_changes_nothing(resident, resident_app):
    number, code = receipt_of(submit(resident))
    answer(resident_app, number)
    response = resident.post(f"/public/follow/{number}/rate", data={"code": "guess", "rating": "满意"})
    assert response.status_code == 404
    assert 'value="满意"' in resident.get(f"/public/follow/{number}?c={code}").get_data(as_text=True)


def test_补办件_the_resident_supplements_with_a_file_and_downloads_it(resident, resident_app):
    number, code = receipt_of(submit(resident))
    accept(resident_app, number)
    do(resident_app, number, "UserTask_classify", "leader", kind="补办件")
    do(resident_app, number, "UserTask_notify_missing", "handler", missing_documents="物业合同复印件")
    page = resident.get(f"/public/follow/{number}?c={code}").get_data(as_text=True)
    assert "物业合同复印件" in page and "提交补充材料" in page
    response = resident.post(f"/public/follow/{number}/supplement", content_type="multipart/form-data",
                             data={"code": code, "note": "合同见附件", "files": [(io.BytesIO(PDF), "合同.pdf")]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "补充材料已提交" in html and "提交补充材料" not in html
    link = re.search(r'href="(/public/follow/[^"]+/files/\d+\?c=[^"]+)"', html).group(1)
    download = resident.get(link.replace("&amp;", "&"))
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%90%88%E5%90%8C.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert resident.get(link.split("?")[0] + "?c=wrong").status_code == 404


def test_staff_download_a_file_only_when_they_may_see_the_case(resident, resident_app, staff_client):
    number, code = receipt_of(submit(resident, files=[(PNG, "现场.png")]))
    page = resident.get(f"/public/follow/{number}?c={code}").get_data(as_text=True)
    file_id = re.search(r"/files/(\d+)\?", page).group(1)
    clerk = staff_client("clerk").get(f"/attachments/{number}/{file_id}")  # the 网上受理核实 step is theirs
    assert clerk.status_code == 200 and clerk.headers["Content-Type"] == "image/png" and clerk.data == PNG
    assert staff_client("superior").get(f"/attachments/{number}/{file_id}").status_code == 403
    anonymous = resident_app.test_client().get(f"/attachments/{number}/{file_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_procedures_page_shows_steps_roles_and_time_limits(resident):
    html = resident.get("/public/procedures").get_data(as_text=True)
    assert "民情流水线" in html and "限期办理" in html and "补办期限届满:15 天" in html
    assert "<td data-label=\"负责岗位\">社区负责人</td>" in html
