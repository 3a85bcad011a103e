"""The SQL sent from now on, for tests that count or name the statements an engine call runs: through
SQLAlchemy on every engine of the database (writes and, on PostgreSQL, reads) and through the driver
(`engine/store/driver.py`, `run` and `run_all` alike), each in its dialect's text, in the order sent."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from engine.store import driver
from engine.store.db import Database


def statements_from_now(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []

    def through_sqlalchemy(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    for engine in db.engines:
        event.listen(engine, "before_cursor_execute", through_sqlalchemy)
    real = driver._execute

    def through_driver(raw: Any, cursors: list[Any], sent_here: list[Any], statement: driver.Statement,
                       params: Any, sqlite: bool) -> None:
        sent.append(statement.sqlite if sqlite else statement.postgresql)
        real(raw, cursors, sent_here, statement, params, sqlite)

    monkeypatch.setattr(driver, "_execute", through_driver)
    return sent


def counted(sent: list[str]) -> list[str]:
    """The statements that do work: transaction control (BEGIN, COMMIT, ROLLBACK) left out."""
    return [sql for sql in sent if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
