"""Connections and sessions. One engine call runs in one session: a write in exactly one transaction, a read
without one on PostgreSQL (`Database.read`) or in one snapshot when its statements must agree (`Database.snapshot`)."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import Conflict

from .liveness import Liveness

DEFAULT_URL = "sqlite:///instance/minyi.db"


class Database:
    """A database URL made usable: sessions for reads and for writes."""

    def __init__(self, url: str = DEFAULT_URL):
        self.url = normalize_url(url)
        self.engine = _make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # PostgreSQL: a page's reads need no transaction (at READ COMMITTED each statement sees the latest
        # committed data, in a transaction or not), so they run on connections of their own, in autocommit —
        # no BEGIN and ROLLBACK round trips — and read-only, so a read that tried to write would fail.
        # `snapshot()` is the one transaction of reads that must agree with each other.
        self._reader = self.engine if self.is_sqlite else _make_engine(url, reader=True)
        if not self.is_sqlite:  # a connection used a moment ago is not pinged before its next use
            liveness = Liveness()  # one for both pools: a failure in either has the connections of both pinged
            for engine in self.engines:
                liveness.watch(engine)
        self._read = sessionmaker(self._reader, expire_on_commit=False)
        self._snapshot = sessionmaker(self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True), expire_on_commit=False)
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
        """Reads that need not agree with each other beyond what each statement sees (a page, a list); nothing
        written. PostgreSQL: read-only, outside a transaction; SQLite: a read transaction."""
        with self._reading(self._read) as session:
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """Reads that must see one moment of the database — a chain walked whole, a bundle, an export streamed
        in batches (a server-side cursor lives in a transaction). PostgreSQL: one REPEATABLE READ, READ ONLY
        transaction; SQLite: a read transaction, which sees one moment already."""
        with self._reading(self._snapshot) as session:
            yield session

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """A connection for *one* read statement run through `driver` (the account behind a request's
        session or token): no ORM session and no transaction, so nothing to begin or roll back — one
        statement sees one moment of the committed data on both databases. About half the time of `read()`."""
        with self._reader.connect() as connection:
            yield connection

    @staticmethod
    @contextmanager
    def _reading(maker: sessionmaker) -> Iterator[Session]:
        session = maker()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The engine of writes and, on PostgreSQL, the separate one of reads (SQLite: one for both)."""
        return (self.engine,) if self._reader is self.engine else (self.engine, self._reader)

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()

    def pool_status(self) -> PoolStatus:
        """How this process's connection pools stand, reads' and writes' together (SQLite's pool included)."""
        pools = [engine.pool for engine in self.engines]

        def figure(name: str) -> int:  # a pool without the figure (e.g. SQLite in memory) has none
            return sum(int(getattr(pool, name)()) for pool in pools if hasattr(pool, name))

        return PoolStatus(size=figure("size"), checked_out=figure("checkedout"), idle=figure("checkedin"),
                          overflow=sum(max(int(pool.overflow()), 0) for pool in pools if hasattr(pool, "overflow")))


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


def _make_engine(url: str, reader: bool = False) -> Engine:
    """The engine of a database URL; `reader` (PostgreSQL): autocommit connections whose every statement is
    read-only (`default_transaction_read_only`, set once when the connection opens)."""
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
    if reader:  # after any `options` the URL gives (e.g. a search_path), which connect_args would replace
        given = make_url(url).query.get("options") or ""
        options = " ".join(filter(None, [given if isinstance(given, str) else " ".join(given),
                                         "-c default_transaction_read_only=on"]))
        return create_engine(url, pool_size=10, max_overflow=20, isolation_level="AUTOCOMMIT",
                             connect_args={"options": options})
    return create_engine(url, pool_size=10, max_overflow=20)  # checked before use by `Liveness`, not pre-ping
