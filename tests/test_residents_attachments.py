"""Residents' files: the type is told by the content, sizes and counts are limited, names are made safe."""
from __future__ import annotations

import pytest

from engine.errors import InvalidInput, NotFound
from engine.public import attachments
from engine.public.attachments import FileStore, Upload

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 16


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


def test_the_store_uses_random_keys_and_refuses_path_tricks(tmp_path):
    store = FileStore(tmp_path / "up")
    key = store.write(PNG)
    assert len(key) >= 32 and store.read(key) == PNG
    assert [p.name for p in (tmp_path / "up").iterdir()] == [key]
    for bad in ("../secret_key", "a/b", "short"):
        with pytest.raises(NotFound):
            store.read(bad)


def test_files_written_in_a_failed_transaction_are_removed(tmp_path):
    store = FileStore(tmp_path / "up")

    class FakeSession:
        def add(self, row) -> None:
            self.row = row

    with pytest.raises(RuntimeError), attachments.staged(store) as stage:
        stage.add(FakeSession(), 1, attachments.check([Upload("a.png", PNG)]), "resident")
        assert len(list((tmp_path / "up").iterdir())) == 1
        raise RuntimeError("commit failed")
    assert list((tmp_path / "up").iterdir()) == []


def test_the_store_defaults_to_the_instance_folder_or_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("MINYI_UPLOAD_DIR", raising=False)
    assert str(FileStore().directory) == "instance/uploads"
    monkeypatch.setenv("MINYI_UPLOAD_DIR", str(tmp_path))
    assert FileStore().directory == tmp_path
