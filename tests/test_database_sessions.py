"""What a read, a snapshot and a write are (engine/store/db.py), on both databases."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from engine import clock
from engine.people import users
from engine.store.db import Database
from engine.store.models import User
from tests.conftest import PASSWORD, skip_without_pg


def _count(session) -> int:  # noqa: ANN001
    return session.scalar(select(func.count(User.id)))


def test_a_read_never_keeps_a_write(db):
    """PostgreSQL refuses a write in a read (its connections are read-only); SQLite's read transaction is
    rolled back. Either way nothing is stored."""
    with db.read() as session:
        session.add(User(username="x", display_name="x", password_hash="x", created_at=clock.now()))
        if db.is_sqlite:
            session.flush()
        else:
            with pytest.raises(DBAPIError, match="read-only"):
                session.flush()
    with db.read() as session:
        assert _count(session) == 0


def test_a_read_on_postgresql_is_outside_a_transaction_and_a_write_inside_one(db):
    """PostgreSQL: no BEGIN and ROLLBACK round trips for reads — each statement sees what is committed when it
    runs, as it would at READ COMMITTED inside a transaction; writes run in one transaction. SQLite (no round
    trips to save): a read is a read transaction."""
    assert _how_it_runs(db, db.read) == ("a transaction" if db.is_sqlite else "autocommit, read-only")
    assert _how_it_runs(db, db.write) == ("a transaction" if db.is_sqlite else "a transaction, read-write")


def _how_it_runs(db, session_of) -> str:  # noqa: ANN001
    with session_of() as session:
        _count(session)
        raw = session.connection().connection.driver_connection
        if db.is_sqlite:
            return "a transaction" if raw.in_transaction else "autocommit"
        read_only = session.scalar(text("SHOW transaction_read_only")) == "on"
        return f"{'autocommit' if raw.autocommit else 'a transaction'}, {'read-only' if read_only else 'read-write'}"


def test_a_single_read_runs_its_statement_outside_any_transaction_and_sees_the_latest(db):
    """The account behind each request's session or token is one statement: it needs neither an ORM session nor a
    transaction, so there is nothing to begin or roll back — on PostgreSQL a read-only connection in autocommit,
    on SQLite a statement in autocommit mode (which sees one moment by itself)."""
    from engine.store import driver

    users.create_user(db, "first", PASSWORD, "甲", ["受理员"])
    count = driver.Statement("SELECT count(*) FROM users")
    with db.single_read() as connection:
        raw = connection.connection.driver_connection
        assert driver.run(connection, count).scalar() == 1
        assert not raw.in_transaction if db.is_sqlite else raw.info.transaction_status.name == "IDLE"
        users.create_user(db, "second", PASSWORD, "乙", ["受理员"])  # not kept out by a read transaction
        assert driver.run(connection, count).scalar() == 2
        if not db.is_sqlite:
            with pytest.raises(DBAPIError, match="read-only"):
                driver.run(connection, driver.Statement("DELETE FROM users"))


def test_a_snapshot_sees_one_moment_and_a_read_on_postgresql_the_latest(db):
    """A snapshot (a chain walked whole, a bundle, an export) does not see what is committed after its first
    statement; a PostgreSQL read sees each committed change at its next statement."""
    users.create_user(db, "first", PASSWORD, "甲", ["受理员"])
    with db.snapshot() as snap, db.read() as read:
        assert _count(snap) == 1 and _count(read) == 1
        users.create_user(db, "second", PASSWORD, "乙", ["受理员"])
        assert _count(snap) == 1
        if not db.is_sqlite:
            assert _count(read) == 2
    with db.snapshot() as snap:
        assert _count(snap) == 2


def test_the_pool_figures_count_reads_and_writes(db):
    """On PostgreSQL reads have an engine (and pool) of their own; on SQLite one engine serves both."""
    assert len(db.engines) == (1 if db.is_sqlite else 2) and db.engines[0] is db.engine
    with db.read() as reading, db.write() as writing:
        reading.connection()
        writing.connection()
        assert db.pool_status().checked_out == 2
    assert db.pool_status().checked_out == 0


def test_options_in_a_postgresql_url_are_kept_on_the_read_connections(pg_url):
    """The read-only setting is added to what the operator's URL asks of every connection, not put in its place."""
    if pg_url is None:
        skip_without_pg()
    db = Database(f"{pg_url}?options=-c%20application_name%3Dminyi-web")
    try:
        with db.read() as session:
            assert session.scalar(text("SHOW application_name")) == "minyi-web"
            assert session.scalar(text("SHOW transaction_read_only")) == "on"
        with db.write() as session:
            assert session.scalar(text("SHOW application_name")) == "minyi-web"
            assert session.scalar(text("SHOW transaction_read_only")) == "off"
    finally:
        db.dispose()
