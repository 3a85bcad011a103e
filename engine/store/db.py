"""Connections and transactions. One engine call runs in exactly one transaction."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import Conflict

DEFAULT_URL = "sqlite:///instance/minyi.db"


class Database:
    """A database URL made usable: sessions for reads and for writes."""

    def __init__(self, url: str = DEFAULT_URL):
        self.url = normalize_url(url)
        self.engine = _make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite: writers take the write lock at BEGIN, so two writers queue instead of deadlocking.
        writer = self.engine.execution_options(minyi_write=True) if self.is_sqlite else self.engine
        self._write = sessionmaker(writer, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction: commit on success, roll back everything on any error."""
        session = self._write()
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            if _lost_a_race(exc):
                raise Conflict("该事项正被他人同时处理,本次操作未保存,请刷新后重试") from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    def pool_status(self) -> PoolStatus:
        """How this process's connection pool stands (SQLite's pool included)."""
        pool = self.engine.pool

        def figure(name: str) -> int:  # a pool without the figure (e.g. SQLite in memory) has none
            return int(getattr(pool, name)()) if hasattr(pool, name) else 0

        return PoolStatus(size=figure("size"), checked_out=figure("checkedout"), idle=figure("checkedin"),
                          overflow=max(figure("overflow"), 0))


@dataclass(frozen=True)
class PoolStatus:
    size: int          # connections the pool keeps
    checked_out: int   # in use by a transaction now
    idle: int          # open and waiting in the pool
    overflow: int      # opened beyond `size`, closed again when returned


# PostgreSQL SQLSTATEs that mean "the server is not there for us now" (besides class 08, connection
# exception): shut down by an administrator, crashed, starting up, out of connection slots.
_UNAVAILABLE_STATES = {"57P01", "57P02", "57P03", "53300"}
_SQLITE_CANTOPEN = 14


def is_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (down, refused, restarting, file missing) —
    something that passes by itself, so callers answer "try again later" — rather than a mistake
    in a statement, a constraint or the schema, which waiting does not fix."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        return getattr(orig, "sqlite_errorcode", None) == _SQLITE_CANTOPEN
    state = getattr(orig, "sqlstate", None)  # psycopg: None when no server ever answered
    return state is None or state.startswith("08") or state in _UNAVAILABLE_STATES


# PostgreSQL gave up one of two transactions waiting for each other (deadlock, serialization failure,
# lock timeout): nothing of it was saved, and the person may simply try again.
_RACE_STATES = {"40P01", "40001", "55P03"}


def _lost_a_race(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RACE_STATES


def normalize_url(url: str) -> str:
    """`postgresql://…` means psycopg 3 here (the driver we ship)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            dbapi_connection.isolation_level = None  # SQLAlchemy issues BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            immediate = conn.get_execution_options().get("minyi_write")
            sql = "BEGIN IMMEDIATE" if immediate else "BEGIN"
            try:  # on the driver connection: SQLAlchemy's statement machinery would cost a fifth of the transaction
                conn.connection.driver_connection.execute(sql)
            except sqlite3.Error as exc:  # e.g. still locked after busy_timeout: raised as SQLAlchemy's error
                raise DBAPIError.instance(sql, None, exc, sqlite3.Error, dialect=conn.dialect) from exc

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
