"""备份 and 恢复 of the embedded SQLite database; PostgreSQL's are in `pgdump`.

SQLite's online backup copies the database page by page under its own locks, so writers may go on; the
copy is written next to the target under a temporary name, checked (`PRAGMA integrity_check`, then the
caller's check — the audit chain verification), and only then renamed to the target, so a failed backup
never leaves a half-written file behind. Uploaded files (附件) are in the database, so the copy holds them.
A restore proves the file the same way and replaces the database file in one rename (the app stopped).
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text

from engine.errors import InvalidInput

from .db import Database

Check = Callable[[Database], None]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    cases: int
    audit_events: int


def backup(db: Database, target: Path, check: Check) -> BackupResult:
    """Copy the SQLite database to `target`, which must not exist yet."""
    if not db.is_sqlite:
        raise InvalidInput("这是 PostgreSQL 数据库,请用 pgdump 备份", {"database": "不是 SQLite"})
    target = Path(target)
    if target.exists():
        raise InvalidInput(f"{target} 已存在,不会覆盖;请换一个文件名", {"target": "已存在"})
    if not target.parent.is_dir():
        raise InvalidInput(f"目录 {target.parent} 不存在", {"target": "目录不存在"})
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        raw = db.engine.raw_connection()
        try:
            copy = sqlite3.connect(partial)
            try:
                raw.driver_connection.backup(copy)
            finally:
                copy.close()
        finally:
            raw.close()
        cases, events = prove(partial, check)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, cases, events)


def prove(path: Path, check: Check) -> tuple[int, int]:
    """The file is a sound Minyi database whose check passes: its numbers of cases and audit events."""
    try:
        copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if checked != "ok":
                raise InvalidInput(f"备份文件校验失败: {checked}", {"source": checked})
            cases = copy.execute("SELECT count(*) FROM cases").fetchone()[0]
            events = copy.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        finally:
            copy.close()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{path} 不是民议的 SQLite 数据库: {exc}", {"source": "不是 SQLite 数据库"}) from exc
    database = Database(f"sqlite:///{path}")
    try:
        check(database)
    finally:
        database.dispose()
    return cases, events


def tables_with_rows(db: Database) -> list[str]:
    """The tables that hold anything (the schema's own version table aside): what a restore would lose."""
    with db.engine.connect() as conn:
        names = sorted(n for n in inspect(conn).get_table_names() if n != "alembic_version")
        return [n for n in names  # each name as the catalog listed it, quoted
                if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{n}")')).scalar()]  # noqa: S608 — catalog's names


def refuse_unless_empty(db: Database, force: bool) -> None:
    if force:
        return
    full = tables_with_rows(db)
    if full:
        raise InvalidInput(f"目标数据库不是空的(表 {'、'.join(full[:5])}{' 等' if len(full) > 5 else ''} 中有数据),"
                           "不会覆盖;"
                           "确要用备份替换其全部内容时加 --force(先停止应用)", {"database": "不是空的"})


def restore(source: Path, db: Database, force: bool, check: Check) -> BackupResult:
    """Put the backup `source` in place of the database file: refused when that holds cases unless `force`."""
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"备份文件 {source} 不存在", {"source": "不存在"})
    target = Path(db.engine.url.database or "")
    refuse_unless_empty(db, force)
    partial = target.with_name(f".{target.name}.restore-{os.getpid()}")
    try:
        source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(partial)
            try:
                source_db.backup(copy)
            finally:
                copy.close()
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{source} 不是民议的 SQLite 数据库: {exc}", {"source": "不是 SQLite 数据库"}) from exc
        finally:
            source_db.close()
        cases, events = prove(partial, check)
        db.dispose()
        for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            stale.unlink(missing_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, cases, events)
