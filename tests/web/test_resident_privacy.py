"""What residents type is escaped everywhere; public pages never show who reported what."""
from __future__ import annotations

import io
import re

from tests.web.test_resident_pages import FEEDBACK, PNG, accept, answer, do, receipt_of, submit

XSS = '<script>alert("x")</script><b onmouseover="x()">粗</b>'
PRIVATE = ("吴先生", "13700007777", "和平里7号楼", "第七网格", "7号楼旁垃圾")


def assert_escaped(html: str, where: str, shown: bool = True) -> None:
    """Never the raw markup; where the page shows the text, its escaped form."""
    assert "<script>alert" not in html and "<b onmouseover" not in html, where
    assert ("&lt;script&gt;alert(" in html) is shown, where


def test_html_in_every_resident_field_is_escaped_on_staff_and_public_pages(resident, resident_app, staff_client):
    fields = {name: XSS for name in ("title", "description", "reporter_name", "reporter_contact", "address", "grid")}
    receipt = submit(resident, files=[(PNG, XSS + ".png")], **fields)
    number, code = receipt_of(receipt)
    assert_escaped(receipt.get_data(as_text=True), "receipt")  # the title, escaped; never the reporter's details
    clerk = staff_client("clerk")  # an online submission waits for 网上受理核实
    queue = clerk.get("/tasks/queue").get_data(as_text=True)
    assert_escaped(queue, "task list")
    task_id = re.search(r'href="/tasks/(\d+)"', queue).group(1)
    assert_escaped(clerk.get(f"/tasks/{task_id}").get_data(as_text=True), "task page")
    assert_escaped(clerk.get(f"/cases/{number}").get_data(as_text=True), "case page")
    accept(resident_app, number)
    do(resident_app, number, "UserTask_classify", "leader", kind="补办件")
    do(resident_app, number, "UserTask_notify_missing", "handler", missing_documents="身份证")
    supplemented = resident.post(f"/public/follow/{number}/supplement", content_type="multipart/form-data",
                                 data={"code": code, "note": XSS, "files": [(io.BytesIO(PNG), XSS + ".png")]})
    assert_escaped(supplemented.get_data(as_text=True), "follow page after supplement")
    do(resident_app, number, "UserTask_handle_supplemented", "handler", handling_result="已处理")
    do(resident_app, number, "UserTask_feedback", "handler", **FEEDBACK)
    rated = resident.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "不满意",
                                                                "rating_comment": XSS})
    assert_escaped(rated.get_data(as_text=True), "follow page after rating")
    assert_escaped(clerk.get(f"/cases/{number}").get_data(as_text=True), "case page after rating")
    supervisor = staff_client("supervisor")
    review_id = re.search(r'href="/tasks/(\d+)"', supervisor.get("/tasks/queue").get_data(as_text=True)).group(1)
    assert_escaped(supervisor.get(f"/tasks/{review_id}").get_data(as_text=True), "review task page")


def test_html_in_the_lookup_fields_is_escaped(resident):
    html = resident.post("/public/follow", data={"number": XSS, "code": XSS}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def public_pages(client, number: str, code: str) -> dict[str, str]:
    pages = {
        "submit form": client.get("/public/submit"),
        "follow form": client.get("/public/follow"),
        "follow page": client.get(f"/public/follow/{number}?c={code}"),
        "procedures": client.get("/public/procedures"),
    }
    board = client.get("/public/board")
    if board.status_code == 200:  # the board is another feature; scanned whenever it is there
        pages["board"] = board
        for link in sorted(set(re.findall(r'href="(/public/board/[^"#?]+)"', board.get_data(as_text=True)))):
            pages[link] = client.get(link)
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: response.get_data(as_text=True) for name, response in pages.items()}


def test_public_pages_never_show_reporters_names_phones_or_addresses(resident, resident_app):
    receipt = submit(resident, files=[(PNG, "现场.png")])
    number, code = receipt_of(receipt)
    pages = {"receipt": receipt.get_data(as_text=True), **public_pages(resident, number, code)}
    answer(resident_app, number)
    resident.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "不满意", "rating_comment": "差"})
    do(resident_app, number, "UserTask_review", "supervisor", review_decision="重新办理", review_note="重办")
    do(resident_app, number, "UserTask_classify", "leader", kind="即办件", assign_note="内部意见:找吴先生核实")
    do(resident_app, number, "UserTask_handle_immediate", "handler", handling_result="已清运")
    do(resident_app, number, "UserTask_feedback", "handler", **{**FEEDBACK, "publish": "true",
                                                                  "public_summary": "7号楼垃圾已清运"})
    resident.post(f"/public/follow/{number}/rate", data={"code": code, "rating": "满意"})
    after = public_pages(resident, number, code)
    if "board" in after:  # the published result is there, and nothing else
        assert any("7号楼垃圾已清运" in html for name, html in after.items() if name.startswith("/public/board/"))
    for name, html in {**pages, **after}.items():
        for secret in PRIVATE + ("内部意见", "王受理", "李主任", "张承办", "陈监督"):
            assert secret not in html, f"{secret} on {name}"
