"""备份 on PostgreSQL: `pg_dump` in its custom format, proven by restoring it into a scratch database.

A dump is kept only when it restores: it is written under a temporary name, loaded into a new database
created for the check (and dropped after it), counted and handed to the caller's check (the audit chain
verification), and only then renamed to the target. Uploaded files are rows of the database, so the dump
holds them. A restore first proves the file the same way, then replaces the target's tables in one
transaction (`pg_restore` to SQL, run by `psql --single-transaction`): it succeeds whole or changes nothing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from engine.errors import InvalidInput

from .backup import refuse_unless_empty
from .db import Database

Check = Callable[[Database], None]


@dataclass(frozen=True)
class Contents:
    tables: int
    cases: int
    audit_events: int
    attachments: int


@dataclass(frozen=True)
class DumpResult:
    path: Path
    bytes: int
    contents: Contents


def libpq(db: Database) -> tuple[str, dict[str, str]]:
    """The database URL as pg_dump and psql read it (no driver name), and an environment with its password:
    a password on the command line would be readable by every user of the machine."""
    url = make_url(db.url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def contents(db: Database) -> Contents:
    """What a database holds: its tables, and the rows that matter to a person checking a backup."""
    with db.engine.connect() as conn:
        names = set(conn.execute(text("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_schema = current_schema()")).scalars())

        def rows(table: str) -> int:
            count = f"SELECT count(*) FROM {table}"  # noqa: S608 — only the fixed names below, once the catalog lists them
            return conn.execute(text(count)).scalar() if table in names else 0

        return Contents(len(names), rows("cases"), rows("audit_events"), rows("attachments"))


def dump(db: Database, target: Path, check: Check) -> DumpResult:
    """Write a checked custom-format dump of `db` to `target`, which must not exist yet."""
    target = Path(target)
    if target.exists():
        raise InvalidInput(f"{target} 已存在,不会覆盖;请换一个文件名", {"target": "已存在"})
    if not target.parent.is_dir():
        raise InvalidInput(f"目录 {target.parent} 不存在", {"target": "目录不存在"})
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        url, env = libpq(db)
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",  # noqa: S603 — argv, no shell
                               f"--file={partial}", f"--dbname={url}"], capture_output=True, text=True, env=env,
                              check=False)
        if done.returncode != 0:
            raise InvalidInput(f"pg_dump 备份失败: {_last_lines(done.stderr)}", {"tool": "pg_dump"})
        found = prove(partial, db, check)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return DumpResult(target, target.stat().st_size, found)


def prove(source: Path, db: Database, check: Check) -> Contents:
    """Restore `source` into a scratch database next to `db`, count it and run `check` on it."""
    with scratch(db) as copy:
        load(source, copy, replace=False)
        found = contents(copy)
        if "alembic_version" not in _tables(copy):
            raise InvalidInput(f"{source} 不是民议数据库的备份(没有 alembic_version 表)", {"source": "不是民议备份"})
        check(copy)
        return found


def restore(source: Path, db: Database, force: bool, check: Check) -> Contents:
    """Put the dump `source` into `db`: refused when `db` holds tables unless `force`; proven first."""
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"备份文件 {source} 不存在", {"source": "不存在"})
    refuse_unless_empty(db, force)
    prove(source, db, check)
    load(source, db, replace=True)
    return contents(db)


def load(source: Path, db: Database, replace: bool) -> None:
    """Run the dump's SQL in `db` in one transaction; `replace` drops the current schema's tables first."""
    restore_sql = subprocess.Popen([_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(source)],  # noqa: S603 — argv, no shell
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = ["-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"] if replace else []
    url, env = libpq(db)
    try:
        applied = subprocess.run([_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",  # noqa: S603 — argv, no shell
                                  "--set=ON_ERROR_STOP=1", *first, "--file=-", f"--dbname={url}"],
                                 stdin=restore_sql.stdout, capture_output=True, text=True, env=env, check=False)
    finally:
        restore_sql.stdout.close()
        read_errors = restore_sql.stderr.read().decode(errors="replace")
        restore_sql.stderr.close()
        restore_sql.wait()
    if restore_sql.returncode != 0:
        raise InvalidInput(f"无法读取备份文件 {source}: {_last_lines(read_errors)}", {"source": "无法读取"})
    if applied.returncode != 0:
        raise InvalidInput(f"恢复失败,数据库未作改动: {_last_lines(applied.stderr)}", {"source": "恢复失败"})


@contextmanager
def scratch(db: Database) -> Iterator[Database]:
    """A new, empty database on the same server for one check, always dropped afterwards."""
    name = f"minyi_check_{uuid.uuid4().hex[:12]}"
    admin = create_engine(db.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - the server's own words say why (e.g. no CREATEDB right)
        admin.dispose()
        raise InvalidInput(f"无法创建用于校验备份的临时数据库 {name}(数据库用户需要 CREATEDB 权限): {exc}",
                           {"database": "无法创建临时数据库"}) from exc
    copy = Database(make_url(db.url).set(database=name).render_as_string(hide_password=False))
    try:
        yield copy
    finally:
        copy.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(text("SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema = current_schema()")).scalars())


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(f"未找到 {name}:请安装 PostgreSQL 客户端(Debian: apt-get install postgresql-client)",
                           {"tool": name})
    return found


def _last_lines(output: str, count: int = 3) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:]) or "(没有输出)"
