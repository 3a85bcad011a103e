"""备份与恢复 that count only once proven: a backup is kept, and a restore applied, only after a copy of it
has been opened as a database and its audit hash chains verified (`verify`). SQLite is copied with its online
backup (`engine.store.backup`), PostgreSQL dumped with pg_dump and proven in a scratch database
(`engine.store.pgdump`); uploaded files are rows of the database in both.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidInput
from engine.store import backup as sqlite_backup
from engine.store import pgdump
from engine.store.db import Database

from . import verify


@dataclass(frozen=True)
class Proven:
    """A backup file and what its verified copy holds."""

    path: Path
    bytes: int
    cases: int
    audit_events: int


def check_chains(copy: Database) -> None:
    verdict = verify.verify_database(copy)
    if not verdict.ok:
        raise InvalidInput(f"备份校验失败,审计哈希链断开:{verdict.broken}", {"audit": "哈希链断开"})


def backup(db: Database, target: Path) -> Proven:
    """A checked backup of `db` at `target` (SQLite: a database file; PostgreSQL: a pg_dump custom-format file)."""
    if db.is_sqlite:
        done = sqlite_backup.backup(db, target, check_chains)
        return Proven(done.path, done.bytes, done.cases, done.audit_events)
    dumped = pgdump.dump(db, target, check_chains)
    return Proven(dumped.path, dumped.bytes, dumped.contents.cases, dumped.contents.audit_events)


def restore(db: Database, source: Path, force: bool = False) -> Proven:
    """Put a backup made by `backup` into `db`, which must hold nothing unless `force`."""
    if db.is_sqlite:
        done = sqlite_backup.restore(source, db, force, check_chains)
        return Proven(done.path, done.bytes, done.cases, done.audit_events)
    found = pgdump.restore(source, db, force, check_chains)
    return Proven(Path(source), Path(source).stat().st_size, found.cases, found.audit_events)
