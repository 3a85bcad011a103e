"""Residents' files: the type is told by the content, sizes and counts are limited, names are made safe, and the
bytes are kept in the database (on SQLite and PostgreSQL)."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from engine.actor import SYSTEM
from engine.bpmn import deployments
from engine.errors import InvalidInput, NotFound
from engine.public import attachments, residents
from engine.public.attachments import Upload
from engine.store import migrate
from engine.store.models import Attachment, AttachmentContent, Case
from tests.conftest import PROCESSES

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16
PDF = b"%PDF-1.7\n" + b"0" * 64
MATTER = {"topic": "水电气暖", "title": "5号楼停水", "description": "5号楼从昨天起停水。"}
BEFORE_0008 = "5b7f3c9e2d41"


@pytest.fixture
def line(db, frozen_clock):
    deployments.deploy_directory(db, PROCESSES, SYSTEM)
    return db


@pytest.mark.parametrize("data, content_type", [
    (b"\xff\xd8\xff\xdb" + b"\x00" * 8, "image/jpeg"),
    (PNG, "image/png"),
    (WEBP, "image/webp"),
    (b"%PDF-1.4\n", "application/pdf"),
    (b"<html><script>alert(1)</script>", None),
    (b"GIF89a", None),
    (b"MZ\x90\x00", None),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", None),
])
def test_the_type_comes_from_the_magic_bytes(data, content_type):
    assert attachments.sniff(data) == content_type


def test_a_script_named_like_a_photo_is_refused_with_the_file_named():
    with pytest.raises(InvalidInput) as err:
        attachments.check([Upload("photo.jpg", b"<script>alert(1)</script>")])
    assert "photo.jpg" in err.value.message and "只接受" in err.value.fields["files"]


def test_a_photo_with_a_strange_name_keeps_its_real_extension():
    [checked] = attachments.check([Upload("..\\..\\etc/现场照片.exe", PNG)])
    assert (checked.filename, checked.content_type) == ("现场照片.png", "image/png")


def test_control_characters_and_empty_names_are_cleaned():
    [checked] = attachments.check([Upload("a\r\nb\x00.png", PNG)])
    assert checked.filename == "ab.png"
    [unnamed] = attachments.check([Upload("", PNG)])
    assert unnamed.filename == "附件.png"


def test_too_big_too_many_and_empty_files_are_refused():
    with pytest.raises(InvalidInput, match="超过 5 MB"):
        attachments.check([Upload("big.png", PNG + b"\x00" * attachments.MAX_BYTES)])
    with pytest.raises(InvalidInput, match="最多上传 3 个文件"):
        attachments.check([Upload(f"{i}.png", PNG) for i in range(4)])
    with pytest.raises(InvalidInput, match="是空的"):
        attachments.check([Upload("empty.png", b"")])


def test_exactly_the_allowed_number_of_files_each_of_exactly_the_allowed_size_is_accepted():
    """The limits are inclusive: 3 files of exactly 5 MB pass; a fourth file or one byte more is refused."""
    full = PNG + b"\x00" * (attachments.MAX_BYTES - len(PNG))
    checked = attachments.check([Upload(f"{i}.png", full) for i in range(attachments.MAX_FILES)])
    assert attachments.MAX_FILES == 3
    assert [(c.filename, len(c.data)) for c in checked] == [(f"{i}.png", attachments.MAX_BYTES) for i in range(3)]
    with pytest.raises(InvalidInput, match="最多上传 3 个文件"):
        attachments.check([Upload(f"{i}.png", PNG) for i in range(attachments.MAX_FILES + 1)])
    with pytest.raises(InvalidInput, match="超过 5 MB"):
        attachments.check([Upload("big.png", full + b"\x00")])


def test_a_file_is_kept_in_the_database_with_its_case(line):
    """Every app server reads every file: the bytes are in the database, not on one server's disk."""
    number = residents.submit(line, MATTER, [Upload("现场.png", PNG)]).number
    with line.read() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
        [info] = attachments.list_for_case(session, case_id)
        assert attachments.read_in(session, case_id, info.id).data == PNG
        with pytest.raises(NotFound, match="附件不存在"):
            attachments.read_in(session, case_id + 1, info.id)


def test_files_of_a_failed_transaction_are_not_kept(line):
    """A refused or failed step leaves no file behind: the file is a row of the same transaction."""
    number = residents.submit(line, MATTER, []).number
    with pytest.raises(RuntimeError), line.write() as session:
        case_id = session.scalar(select(Case.id).where(Case.number == number))
        attachments.add(session, case_id, attachments.check([Upload("a.png", PNG)]), "resident")
        raise RuntimeError("commit failed")
    with line.read() as session:
        assert session.scalars(select(AttachmentContent.attachment_id)).all() == []
        assert session.scalars(select(Attachment.id)).all() == []


def test_upgrading_moves_the_files_of_the_upload_folder_into_the_database(line, tmp_path, monkeypatch):
    """Migration 0008 reads each file of MINYI_UPLOAD_DIR into the database (its downgrade writes them back);
    a file already lost stays lost; a missing folder stops the upgrade and changes nothing."""
    folder = tmp_path / "uploads"
    monkeypatch.setenv("MINYI_UPLOAD_DIR", str(folder))
    receipt = residents.submit(line, MATTER, [Upload("现场.png", PNG), Upload("材料.pdf", PDF)])
    photo, pdf = residents.follow(line, receipt.number, receipt.code).attachments
    try:
        migrate.downgrade(line, BEFORE_0008)
        assert sorted(p.read_bytes() for p in folder.iterdir()) == sorted([PNG, PDF])
        migrate.upgrade(line)
        assert residents.read_file(line, receipt.number, receipt.code, photo.id).data == PNG
        assert residents.read_file(line, receipt.number, receipt.code, pdf.id).data == PDF

        migrate.downgrade(line, BEFORE_0008)
        shutil.rmtree(folder)
        with pytest.raises(InvalidInput, match="MINYI_UPLOAD_DIR") as refused:
            migrate.upgrade(line)
        assert "2 个附件" in refused.value.message and str(folder) in refused.value.message
        folder.mkdir()
        migrate.upgrade(line)  # the folder is there but the files were lost before the upgrade
        with pytest.raises(NotFound, match="附件文件已不存在"):
            residents.read_file(line, receipt.number, receipt.code, photo.id)
    finally:
        folder.mkdir(exist_ok=True)
        migrate.upgrade(line)
