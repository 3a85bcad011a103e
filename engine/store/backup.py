"""备份: a consistent copy of the embedded SQLite database, taken while the app runs.

SQLite's online backup copies the database page by page under its own locks, so writers may go on; the
copy is written next to the target under a temporary name, checked (`PRAGMA integrity_check`, the number
of cases and audit events), and only then renamed to the target, so a failed backup never leaves a
half-written file behind. Uploaded files (附件) are in the database, so the copy holds them.
PostgreSQL has its own tools (`pg_dump`); this module says so instead of guessing.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput

from .db import Database


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    cases: int
    audit_events: int


def backup(db: Database, target: Path) -> BackupResult:
    """Copy the SQLite database to `target`, which must not exist yet."""
    if not db.is_sqlite:
        raise InvalidInput("PostgreSQL 数据库请用 pg_dump 备份,例如: pg_dump --format=custom --file=minyi.dump \"$DATABASE_URL\"",
                           {"database": "不是 SQLite"})
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
                checked = copy.execute("PRAGMA integrity_check").fetchone()[0]
                if checked != "ok":
                    raise InvalidInput(f"备份文件校验失败: {checked}", {"target": checked})
                cases = copy.execute("SELECT count(*) FROM cases").fetchone()[0]
                events = copy.execute("SELECT count(*) FROM audit_events").fetchone()[0]
            finally:
                copy.close()
        finally:
            raw.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, cases, events)
