"""The engine's hot statements, run on the database driver without SQLAlchemy's per-statement work.

Completing a step writes a dozen rows; SQLAlchemy's compile-cache look-up, type processing and
result wrapping cost more per statement than SQLite itself. The statements on that path are
plain SQL with `:name` parameters, executed through `Connection.exec_driver_sql` (SQLAlchemy's
transaction, events and error wrapping still apply). Values are converted exactly as the
model types store them (`UTCDateTime`: naive UTC; `JSON`), and read back the same way.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, Table
from sqlalchemy.engine import Connection, CursorResult

from .models import UTCDateTime

_PARAM = re.compile(r"(?<![:\w]):(\w+)")


class Statement:
    """One SQL text in both dialects' parameter styles (`:name` for SQLite, `%(name)s` for psycopg);
    `postgresql_suffix` is appended on PostgreSQL only (e.g. `FOR UPDATE OF …`)."""

    def __init__(self, sql: str, postgresql_suffix: str = ""):
        self.sqlite = sql
        self.postgresql = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%")) + postgresql_suffix


def run(conn: Connection, statement: Statement,
        params: Mapping[str, Any] | list[Mapping[str, Any]] | None = None) -> CursorResult:
    """Execute with parameters bound for the connection's dialect (a list: one execution per item)."""
    sqlite = conn.dialect.name == "sqlite"
    sql = statement.sqlite if sqlite else statement.postgresql
    if params is None:
        return conn.exec_driver_sql(sql)
    if isinstance(params, list):
        return conn.exec_driver_sql(sql, [_bound(p, sqlite) for p in params])
    return conn.exec_driver_sql(sql, _bound(params, sqlite))


def _bound(params: Mapping[str, Any], sqlite: bool) -> dict[str, Any]:
    return {key: _value(value, sqlite) for key, value in params.items()}


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
