"""The engine's hot statements, run on the database driver without SQLAlchemy's per-statement work.

Completing a step writes a dozen rows; SQLAlchemy's per-statement work (execution context, result
wrapping, events) costs about twice what SQLite spends on the statement itself. The statements on
that path are plain SQL with `:name` parameters, run on the DB-API cursor of the session's own
connection, so they belong to the same transaction. Driver errors are raised as SQLAlchemy's
exceptions and a lost connection is invalidated, as `Connection.execute` would do; SQLAlchemy's
statement events do not fire for them. Values are converted exactly as the model types store
them (`UTCDateTime`: naive UTC; `JSON`), and read back the same way.

A write whose answer nothing needs at once can be *deferred* (`defer`): it is queued on the connection and
sent in front of the next exchange on it — the next `run_all`, any statement SQLAlchemy executes, or the
commit — so on PostgreSQL it costs no round trip of its own. Its check (a row count, say) runs when its
result comes back; a rollback drops what is still queued.
"""
from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import JSON, Boolean, Table, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from .models import UTCDateTime

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Statement:
    """One SQL text in both dialects' parameter styles (`:name` for SQLite, `%(name)s` for psycopg);
    `postgresql_suffix` is appended on PostgreSQL only (e.g. `FOR UPDATE OF …`)."""

    def __init__(self, sql: str, postgresql_suffix: str = ""):
        self.sqlite = sql
        self.postgresql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%")) + postgresql_suffix


def after_pending(session: Session) -> Connection:
    """The session's connection, its pending ORM changes (a role just given, a unit just moved) written first,
    so that a statement run on the driver sees them."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()


def run(conn: Connection, statement: Statement,
        params: Mapping[str, Any] | list[Mapping[str, Any]] | None = None) -> Result:
    """Execute on the connection's DB-API cursor, inside its transaction, with parameters bound for
    its dialect (a list: one execution per item). Driver errors become SQLAlchemy's (`DBAPIError`
    subclasses), and a lost connection is invalidated, as SQLAlchemy's own execution does."""
    return run_all(conn, [(statement, params)])[0]


Step = tuple[Statement, "Mapping[str, Any] | list[Mapping[str, Any]] | None"]


def run_all(conn: Connection, steps: Iterable[Step]) -> list[Result]:
    """Execute several statements in order, as `run` does each, and return their results in that order.

    On PostgreSQL they go in one round trip (psycopg's pipeline mode): every statement is sent, then the
    results are read. For statements whose answers nothing between them needs — writes whose row counts are
    checked afterwards, a read that follows them. The first that fails raises, and the ones after it are not
    run; the transaction is then aborted, as with `run`. On SQLite they simply run one after another.
    The connection's deferred writes (`defer`) go first, in the same round trip, and are checked first."""
    deferred: list[Deferred] = conn.info.pop(_DEFERRED, None) or []
    steps = [*((d.statement, d.params) for d in deferred), *steps]
    results = _run_all(conn, steps)
    for write, result in zip(deferred, results, strict=False):
        if write.check is not None:
            write.check(result)
    return results[len(deferred):]


class Deferred(NamedTuple):
    statement: Statement
    params: Mapping[str, Any] | list[Mapping[str, Any]] | None
    check: Callable[[Result], None] | None


def defer(conn: Connection, statement: Statement, params: Mapping[str, Any] | list[Mapping[str, Any]] | None,
          check: Callable[[Result], None] | None = None) -> None:
    """Queue a write on the connection, to be sent in front of its next exchange, in order with the others
    queued: the next `run_all`, the next statement SQLAlchemy executes on it (a read through the models sees
    the write), or its commit. `check` is called with its result then (e.g. raise `Conflict` when it changed no
    row: the transaction is rolled back, as if the write had failed at once). A rollback drops the queue."""
    conn.info.setdefault(_DEFERRED, []).append(Deferred(statement, params, check))


def send_deferred(conn: Connection) -> None:
    """Send the connection's deferred writes now (nothing to do when none are queued)."""
    if conn.info.get(_DEFERRED):
        run_all(conn, [])


_DEFERRED = "minyi_deferred_writes"


@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
                      executemany: bool) -> None:
    send_deferred(conn)


@event.listens_for(Engine, "commit")
def _before_commit(conn: Connection) -> None:
    send_deferred(conn)


@event.listens_for(Engine, "rollback")
def _on_rollback(conn: Connection) -> None:
    if not conn.invalidated:  # a lost connection's queue goes with it (the pool clears its info on reconnecting)
        conn.info.pop(_DEFERRED, None)


@event.listens_for(Pool, "reset")
def _on_reset(dbapi_connection: Any, record: Any, reset_state: Any = None) -> None:  # returned to the pool
    record.info.pop(_DEFERRED, None)


def _run_all(conn: Connection, steps: list[Step]) -> list[Result]:
    if not steps:
        return []
    sqlite = conn.dialect.name == "sqlite"
    raw = conn.connection.driver_connection
    cursors: list[Any] = []
    sent: list[tuple[str, Any]] = []  # each statement and its parameters, as bound, before it is executed
    try:
        if sqlite or len(steps) == 1:
            results = []
            for statement, params in steps:
                _execute(raw, cursors, sent, statement, params, sqlite)
                results.append(Result(cursors[-1]))
            return results
        with raw.pipeline():
            for statement, params in steps:
                _execute(raw, cursors, sent, statement, params, sqlite)
        return [Result(cursor) for cursor in cursors]
    except conn.dialect.loaded_dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, raw, cursors[-1] if cursors else None)
        if lost:
            conn.invalidate(exc)
        # one by one the failing statement is the last sent; in a pipeline the driver does not tell which
        sql, bound = sent[-1] if len(sent) == 1 or sqlite else ("; ".join(s for s, _ in sent), [b for _, b in sent])
        raise DBAPIError.instance(sql, bound, exc, conn.dialect.loaded_dbapi.Error,
                                  connection_invalidated=lost, dialect=conn.dialect) from exc
    finally:
        for cursor in cursors:
            cursor.close()


def _execute(raw: Any, cursors: list[Any], sent: list[tuple[str, Any]], statement: Statement,
             params: Mapping[str, Any] | list[Mapping[str, Any]] | None, sqlite: bool) -> None:
    sql = statement.sqlite if sqlite else statement.postgresql
    cursor = raw.cursor()
    cursors.append(cursor)
    if params is None:
        sent.append((sql, None))
        cursor.execute(sql)
    elif isinstance(params, list):
        bound = [_bound(p, sqlite) for p in params]
        sent.append((sql, bound))
        cursor.executemany(sql, bound)
    else:
        bound = _bound(params, sqlite)
        sent.append((sql, bound))
        cursor.execute(sql, bound)


class Result:
    """A statement's outcome: its rows (read at once; each a named tuple) and the rows it changed."""

    __slots__ = ("rowcount", "_rows")

    def __init__(self, cursor: Any):
        self.rowcount: int = cursor.rowcount
        described = cursor.description
        if described is None:
            self._rows: list[Any] = []
        else:
            row = _row_type(tuple(column[0] for column in described))
            self._rows = [row._make(values) for values in cursor.fetchall()]

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return self._rows

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]


@lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> type:
    """A named tuple for a result's columns; `_mapping` gives {name: value} like SQLAlchemy's rows."""
    row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    row._mapping = property(lambda self: dict(zip(names, self, strict=True)))  # type: ignore[attr-defined]
    return row


def _bound(params: Mapping[str, Any], sqlite: bool) -> dict[str, Any]:
    convert = _SQLITE if sqlite else _POSTGRESQL
    bound = {}
    for key, value in params.items():
        how = convert.get(value.__class__, _UNKNOWN)
        bound[key] = value if how is None else _value(value, sqlite) if how is _UNKNOWN else how(value)
    return bound


def _value(value: Any, sqlite: bool) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        # SQLAlchemy's SQLite DATETIME text form, so both paths sort and compare alike
        return value.isoformat(" ", "microseconds") if sqlite else value
    if isinstance(value, (dict, list)):
        if sqlite:
            return json.dumps(value)
        from psycopg.types.json import Json

        return Json(value)
    return value


# per exact type: None = passed as it is, else the conversion; other types (subclasses) go through `_value`
_UNKNOWN = object()
_AS_IS = dict.fromkeys((str, int, float, bool, bytes, type(None)))
_SQLITE: dict[type, Any] = {**_AS_IS, datetime: lambda v: _value(v, True), dict: json.dumps, list: json.dumps}
_POSTGRESQL: dict[type, Any] = {**_AS_IS, datetime: lambda v: _value(v, False)}


class Reader:
    """Turns driver values of a table's columns back into what the models hold."""

    def __init__(self, table: Table):
        self.table = table
        self._convert: dict[str, Any] = {}
        for column in table.c:
            if isinstance(column.type, UTCDateTime):
                self._convert[column.name] = moment
            elif isinstance(column.type, JSON):
                self._convert[column.name] = json_value
            elif isinstance(column.type, Boolean):
                self._convert[column.name] = _bool

    def columns(self, prefix: str) -> str:
        """`table.col AS prefixcol, …` for a select list."""
        return ", ".join(f"{self.table.name}.{c.name} AS {prefix}{c.name}" for c in self.table.c)

    def values(self, row: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        found = {}
        for column in self.table.c:
            value = row[prefix + column.name]
            convert = self._convert.get(column.name)
            found[column.name] = convert(value) if convert is not None and value is not None else value
        return found

    def names(self, exclude: Iterable[str] = ()) -> list[str]:
        return [c.name for c in self.table.c if c.name not in exclude]


def moment(value: Any) -> datetime | None:
    """A stored moment, timezone-aware UTC (SQLite gives text, psycopg a naive datetime)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc)


def json_value(value: Any) -> Any:
    """A stored JSON value (SQLite gives text, psycopg the parsed value)."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _bool(value: Any) -> bool:
    return bool(value)
