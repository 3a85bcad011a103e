"""附件 on the staff pages (engine side, SQLite and PostgreSQL): the case page and the task page carry
the files of the case, read in the page's own transaction; a picture may be previewed, a PDF never."""
from __future__ import annotations

import pytest

from engine.errors import Forbidden, NotFound
from engine.public import casefiles, residents
from engine.public.attachments import Upload
from tests import test_residents
from tests.test_residents import JPEG, MATTER, PDF, PNG, accepted

# the residents' fixtures: every diagram deployed on a frozen clock, uploads in a temporary folder
line = test_residents.line


def test_the_case_and_task_pages_list_the_files_in_the_order_they_came(line, staff):
    receipt = residents.submit(line, MATTER, [Upload("现场.jpg", JPEG), Upload("证明.pdf", PDF)])
    page = casefiles.case_page(line, staff["clerk"], receipt.number)
    assert [(f.filename, f.content_type, f.size) for f in page.files] == [
        ("现场.jpg", "image/jpeg", len(JPEG)), ("证明.pdf", "application/pdf", len(PDF))]
    [step] = page.open_steps
    task = casefiles.task_page(line, staff["clerk"], step.task_id)
    assert task.case.files == page.files


def test_someone_who_may_not_see_the_case_gets_neither_page_nor_files(line, staff):
    receipt = residents.submit(line, MATTER, [Upload("现场.png", PNG)])
    with pytest.raises(Forbidden):
        casefiles.case_page(line, staff["superior"], receipt.number)
    file_id = casefiles.case_page(line, staff["clerk"], receipt.number).files[0].id
    with pytest.raises(Forbidden):
        casefiles.preview(line, staff["superior"], receipt.number, file_id)


def test_a_picture_is_previewed_and_a_pdf_is_not(line, staff):
    receipt = residents.submit(line, MATTER, [Upload("现场.png", PNG), Upload("证明.pdf", PDF)])
    accepted(line, staff, receipt.number)
    picture, pdf = casefiles.case_page(line, staff["leader"], receipt.number).files
    shown = casefiles.preview(line, staff["leader"], receipt.number, picture.id)
    assert (shown.filename, shown.content_type, shown.data) == ("现场.png", "image/png", PNG)
    with pytest.raises(NotFound, match="“证明.pdf”不是图片,不能预览"):
        casefiles.preview(line, staff["leader"], receipt.number, pdf.id)
