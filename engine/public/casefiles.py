"""The staff pages of a case and of a step, with the files handed in for the case (附件); the case page
also says which unit the case belongs to (所属单位) and where the reader may 转办 it (`transfer`).

The files are read through `engine.public.attachments` (which sits above `engine.work`), in the
same read transaction as the page, so the page and its list of files always agree. Whoever may see
the page sees the files' names; opening one checks again that the reader may see the case.
"""
from __future__ import annotations

from dataclasses import replace

from engine.actor import Actor
from engine.errors import NotFound
from engine.store.db import Database
from engine.work import casepages, tasklist, transfer
from engine.work.views import CaseView, TaskView

from . import attachments

# shown inline as a picture on the staff pages; any other type (PDF) is only ever a download
PREVIEWABLE = frozenset({"image/jpeg", "image/png", "image/webp"})


def case_page(db: Database, actor: Actor, number: str) -> CaseView:
    """The case page (事项页) with its files."""
    with db.read() as session:
        view = casepages.case_page(session, actor, number)
        unit_name, move_to = transfer.case_unit(session, actor, view.id)
        return replace(view, files=attachments.list_for_case(session, view.id), unit_name=unit_name,
                       move_to=move_to)


def task_page(db: Database, actor: Actor, task_id: int) -> TaskView:
    """The task page (任务办理) with the files of its case."""
    with db.read() as session:
        view = tasklist.task_page(session, actor, task_id)
        unit_name = transfer.case_unit(session, actor, view.case.id, moving=False)[0]
        return replace(view, case=replace(view.case, files=attachments.list_for_case(session, view.case.id),
                                          unit_name=unit_name))


def preview(db: Database, actor: Actor, number: str, attachment_id: int) -> attachments.AttachmentFile:
    """A picture to show inline on a staff page; any other file is not previewed (404: download it)."""
    file = attachments.read_for_staff(db, actor, number, attachment_id)
    if file.content_type not in PREVIEWABLE:
        raise NotFound(f"附件“{file.filename}”不是图片,不能预览,请下载查看")
    return file
