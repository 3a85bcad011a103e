"""附件 on the staff pages: whoever may see a case sees the files a resident handed in — pictures as
thumbnails, PDFs as a link — and may download them; nobody else can open them."""
from __future__ import annotations

import re

from tests.web.test_resident_pages import PDF, PNG, accept, do, receipt_of, submit


def _submitted_with_files(resident) -> str:
    number, _ = receipt_of(submit(resident, files=[(PNG, "现场照片.png"), (PDF, "证明材料.pdf")]))
    return number


def test_the_case_page_shows_a_thumbnail_of_each_picture_and_a_link_to_each_pdf(resident, staff_client):
    number = _submitted_with_files(resident)
    html = staff_client("clerk").get(f"/cases/{number}").get_data(as_text=True)
    files = html[html.index('id="files-heading"'):html.index('id="history-heading"')]
    picture, pdf = re.findall(r'<li class="case-file">.*?</li>', files, re.S)
    assert re.search(rf'<img src="/cases/{number}/files/\d+/preview"\s+alt="查看图片 现场照片.png"', picture)
    assert re.search(rf'href="/attachments/{number}/\d+" download>下载 现场照片.png</a>', picture)
    assert "PNG 图片" in picture
    assert "<img" not in pdf and "PDF 文件" in pdf
    assert re.search(rf'href="/attachments/{number}/\d+" download>下载 证明材料.pdf</a>', pdf)


def test_the_task_page_shows_the_files_of_its_case(resident, staff_client):
    number = _submitted_with_files(resident)
    clerk = staff_client("clerk")
    case = clerk.get(f"/cases/{number}").get_data(as_text=True)
    task_id = re.search(r'href="/tasks/(\d+)">网上受理核实', case).group(1)
    html = clerk.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "下载 现场照片.png" in html and "下载 证明材料.pdf" in html
    assert re.search(rf'<img src="/cases/{number}/files/\d+/preview"', html)


def test_a_case_without_files_says_so(resident, staff_client):
    number, _ = receipt_of(submit(resident))
    assert "没有附件" in staff_client("clerk").get(f"/cases/{number}").get_data(as_text=True)


def test_every_role_that_may_see_the_case_sees_its_files(resident, resident_app, staff_client):
    """社区负责人 leads 民情流水线 and sees its cases from intake on; 承办人 once a step is theirs."""
    number = _submitted_with_files(resident)
    assert "下载 现场照片.png" in staff_client("leader").get(f"/cases/{number}").get_data(as_text=True)
    assert staff_client("handler").get(f"/cases/{number}").status_code == 403
    accept(resident_app, number)
    do(resident_app, number, "UserTask_classify", "leader", kind="即办件", assign_note="请处理")
    html = staff_client("handler").get(f"/cases/{number}").get_data(as_text=True)
    assert "下载 现场照片.png" in html and "下载 证明材料.pdf" in html


def test_a_picture_is_shown_inline_safely_and_only_to_those_who_may_see_the_case(resident, resident_app,
                                                                                  staff_client):
    number = _submitted_with_files(resident)
    page = staff_client("clerk").get(f"/cases/{number}").get_data(as_text=True)
    preview = re.search(rf'/cases/{number}/files/\d+/preview', page).group(0)
    shown = staff_client("clerk").get(preview)
    assert shown.status_code == 200 and shown.data == PNG and shown.headers["Content-Type"] == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert shown.headers["Cache-Control"] == "no-store"
    refused = staff_client("superior").get(preview)
    assert refused.status_code == 403 and "您无权查看该事项" in refused.get_data(as_text=True)
    anonymous = resident_app.test_client().get(preview)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_pdf_is_never_shown_inline_only_downloaded(resident, staff_client):
    number = _submitted_with_files(resident)
    clerk = staff_client("clerk")
    page = clerk.get(f"/cases/{number}").get_data(as_text=True)
    pdf_id = re.search(r'/attachments/[^/]+/(\d+)" download>下载 证明材料.pdf', page).group(1)
    refused = clerk.get(f"/cases/{number}/files/{pdf_id}/preview")
    assert refused.status_code == 404 and "不是图片,不能预览,请下载查看" in refused.get_data(as_text=True)
    download = clerk.get(f"/attachments/{number}/{pdf_id}")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")


def test_a_file_of_another_case_is_not_found_through_this_case(resident, staff_client):
    first = _submitted_with_files(resident)
    second = _submitted_with_files(resident)
    clerk = staff_client("clerk")
    page = clerk.get(f"/cases/{first}").get_data(as_text=True)
    picture_id = re.search(r'/files/(\d+)/preview', page).group(1)
    assert clerk.get(f"/cases/{second}/files/{picture_id}/preview").status_code == 404
