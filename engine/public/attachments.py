"""Files handed in for a case (附件): checked, kept in the database, read back safely.

A file's type is decided by its first bytes, never by its name, and only a few
harmless types are accepted. The bytes are stored in the database, in the same
transaction as the step that brings them: a refused or failed upload leaves nothing
behind, every app server reads every file, and a database backup holds them all
(at most 3 × 5 MB a submission; docs/deployment.md says why not a shared disk).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.actor import Actor
from engine.errors import InvalidInput, NotFound
from engine.store.db import Database
from engine.store.models import Attachment, AttachmentContent, Case
from engine.work.casepages import check_can_view

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 3
# content type → (file extension, how a resident names it)
TYPES = {
    "image/jpeg": (".jpg", "JPEG 图片"),
    "image/png": (".png", "PNG 图片"),
    "image/webp": (".webp", "WebP 图片"),
    "application/pdf": (".pdf", "PDF 文件"),
}
ALLOWED_TEXT = "、".join(label for _, label in TYPES.values())
FIELD = "files"


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: the name the sender gave it and at most `MAX_BYTES + 1` bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    note: str


@dataclass(frozen=True)
class AttachmentFile:
    """What a download sends: a safe name, the sniffed type, the bytes."""

    filename: str
    content_type: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The content type told by the magic bytes, or None when it is not one we accept."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def safe_filename(name: str, content_type: str) -> str:
    """The sender's name without paths or control characters, ending in the extension of its real type."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    stem = base.rsplit(".", 1)[0].strip(" .")[:80] or "附件"
    return stem + TYPES[content_type][0]


def check(uploads: list[Upload], max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> list[CheckedFile]:
    """Refuse the whole lot, naming the file and the problem, if any file is too big or not allowed."""
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > max_files:
        raise InvalidInput(f"最多上传 {max_files} 个文件,您选择了 {len(uploads)} 个",
                           {FIELD: f"最多 {max_files} 个文件"})
    checked = []
    for upload in uploads:
        shown = upload.filename or "未命名文件"
        if not upload.data:
            raise InvalidInput(f"文件“{shown}”是空的", {FIELD: f"“{shown}”是空文件"})
        if len(upload.data) > max_bytes:
            limit = f"{max_bytes / 1024 / 1024:g} MB"
            raise InvalidInput(f"文件“{shown}”超过 {limit},没有保存任何文件", {FIELD: f"“{shown}”超过 {limit}"})
        content_type = sniff(upload.data)
        if content_type is None:
            raise InvalidInput(f"文件“{shown}”的类型不允许,只接受 {ALLOWED_TEXT},没有保存任何文件",
                               {FIELD: f"“{shown}”的类型不允许,只接受 {ALLOWED_TEXT}"})
        checked.append(CheckedFile(safe_filename(upload.filename, content_type), content_type, upload.data))
    return checked


def add(session: Session, case_id: int, files: list[CheckedFile], uploaded_by: str, note: str = "") -> None:
    """Record the files of a case in the caller's transaction: they exist exactly when it commits."""
    now = clock.now()
    for f in files:
        row = Attachment(case_id=case_id, filename=f.filename, content_type=f.content_type, size=len(f.data),
                         sha256=hashlib.sha256(f.data).hexdigest(), uploaded_at=now, uploaded_by=uploaded_by,
                         note=note[:2000])
        session.add(row)
        session.flush()
        session.add(AttachmentContent(attachment_id=row.id, data=f.data))


def list_for_case(session: Session, case_id: int) -> tuple[AttachmentInfo, ...]:
    rows = session.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))
    return tuple(AttachmentInfo(a.id, a.filename, a.content_type, a.size, a.uploaded_at, a.note) for a in rows)


def read_in(session: Session, case_id: int, attachment_id: int) -> AttachmentFile:
    """One attachment of the given case (a wrong case id is the same as a missing file)."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.case_id != case_id:
        raise NotFound("附件不存在")
    data = session.scalar(select(AttachmentContent.data).where(AttachmentContent.attachment_id == row.id))
    if data is None:  # a file already lost on disk before uploads moved into the database (migration 0007)
        raise NotFound("附件文件已不存在")
    return AttachmentFile(row.filename, row.content_type, bytes(data))


def read_for_staff(db: Database, actor: Actor, number: str, attachment_id: int) -> AttachmentFile:
    """Staff download a case's file only when they may see the case itself."""
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        if case is None:
            raise NotFound(f"事项 {number} 不存在")
        check_can_view(session, actor, case)
        return read_in(session, case.id, attachment_id)


def list_for_staff(db: Database, actor: Actor, number: str) -> tuple[AttachmentInfo, ...]:
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        if case is None:
            raise NotFound(f"事项 {number} 不存在")
        check_can_view(session, actor, case)
        return list_for_case(session, case.id)
