"""`minyi db backup` and `minyi db restore` on PostgreSQL (pg_dump custom format) and SQLite.

The rules: a backup is kept only after a copy of it was restored into a scratch database and its audit hash
chains verified; it holds the uploaded files; a restore refuses a database that holds anything unless
--force, and a bad file changes nothing.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from engine.store.models import Unit
from engine.public import residents
from engine.public.attachments import Upload
from engine.store.db import Database
from tests.conftest import PG_ADMIN_URL
from web.cli import main

PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
MATTER = {"topic": "水电气暖", "title": "5号楼停水", "description": "5号楼从昨天起停水。"}


def minyi(url: str, *args: str):
    result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})
    assert "Traceback" not in result.output
    return result


def filled(url: str) -> tuple[str, str]:
    """Demo data, and one resident's matter with a photo: its number and follow-up code."""
    from engine.people import users

    users.use_fast_hashing()
    assert minyi(url, "db", "upgrade").exit_code == 0
    assert minyi(url, "demo").exit_code == 0
    database = Database(url)
    try:
        with database.read() as session:  # the demo is a district: the resident says which 社区
            community = session.scalar(select(Unit.id).where(Unit.name == "光明社区"))
        receipt = residents.submit(database, {**MATTER, "community_id": str(community)}, [Upload("停水.png", PHOTO)])
    finally:
        database.dispose()
    return receipt.number, receipt.code


def photo_of(url: str, number: str, code: str) -> bytes:
    database = Database(url)
    try:
        [attachment] = residents.follow(database, number, code).attachments
        return residents.read_file(database, number, code, attachment.id).data
    finally:
        database.dispose()


def scratch_databases() -> list[str]:
    database = Database(PG_ADMIN_URL)
    try:
        with database.engine.connect() as conn:
            return list(conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'minyi_check_%'"))
                        .scalars())
    finally:
        database.dispose()


@pytest.mark.postgres
def test_a_postgresql_backup_is_proven_and_restores_with_the_uploaded_files(new_pg_database, tmp_path):
    live, empty = new_pg_database(), new_pg_database()
    number, code = filled(live)
    target = tmp_path / "minyi.dump"
    before = scratch_databases()

    made = minyi(live, "db", "backup", str(target))
    assert made.exit_code == 0, made.output
    assert "已备份到" in made.output and "审计哈希链完整" in made.output
    assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert scratch_databases() == before  # the scratch copy of the check is gone
    assert [p.name for p in tmp_path.iterdir()] == ["minyi.dump"]

    restored = minyi(empty, "db", "restore", str(target))
    assert restored.exit_code == 0, restored.output
    assert minyi(empty, "db", "upgrade").exit_code == 0
    assert minyi(empty, "audit", "verify").exit_code == 0
    assert photo_of(empty, number, code) == PHOTO

    again = minyi(live, "db", "backup", str(target))
    assert again.exit_code == 1 and "已存在,不会覆盖" in again.output


@pytest.mark.postgres
def test_a_restore_refuses_a_database_that_holds_anything_unless_forced(new_pg_database, tmp_path):
    live, other = new_pg_database(), new_pg_database()
    number, code = filled(live)
    target = tmp_path / "minyi.dump"
    assert minyi(live, "db", "backup", str(target)).exit_code == 0
    other_number, other_code = filled(other)

    refused = minyi(other, "db", "restore", str(target))
    assert refused.exit_code == 1 and "不是空的" in refused.output and "--force" in refused.output
    assert photo_of(other, other_number, other_code) == PHOTO  # untouched

    forced = minyi(other, "db", "restore", "--force", str(target))
    assert forced.exit_code == 0, forced.output
    assert photo_of(other, number, code) == PHOTO
    assert minyi(other, "audit", "verify").exit_code == 0


@pytest.mark.postgres
def test_a_bad_backup_file_changes_nothing(new_pg_database, tmp_path):
    live = new_pg_database()
    number, code = filled(live)
    bad = tmp_path / "bad.dump"
    bad.write_bytes(b"PGDMP not really a dump")
    result = minyi(live, "db", "restore", "--force", str(bad))
    assert result.exit_code == 1 and "无法读取备份文件" in result.output
    assert photo_of(live, number, code) == PHOTO


@pytest.mark.postgres
def test_a_backup_whose_audit_chain_is_broken_is_not_kept(new_pg_database, tmp_path):
    """Tampering shows in the check of the copy: the command names the break and leaves no file."""
    live = new_pg_database()
    filled(live)
    database = Database(live)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = (SELECT min(id) FROM audit_events)"))
    database.dispose()
    result = minyi(live, "db", "backup", str(tmp_path / "minyi.dump"))
    assert result.exit_code == 1 and "审计哈希链断开" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_backup_restores_into_an_empty_file_and_only_by_force_over_data(tmp_path):
    live, restored = f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "restored.db"
    number, code = filled(live)
    target = tmp_path / "backup.db"
    assert minyi(live, "db", "backup", str(target)).exit_code == 0

    done = minyi(f"sqlite:///{restored}", "db", "restore", str(target))
    assert done.exit_code == 0, done.output
    assert photo_of(f"sqlite:///{restored}", number, code) == PHOTO

    refused = minyi(live, "db", "restore", str(target))
    assert refused.exit_code == 1 and "不是空的" in refused.output
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    bad = minyi(f"sqlite:///{tmp_path / 'new.db'}", "db", "restore", str(not_sqlite))
    assert bad.exit_code == 1 and "不是民议的 SQLite 数据库" in bad.output
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name or "restore-" in p.name) == []

