"""PostgreSQL's pooled connections are checked before use, except the ones used a moment ago (engine/store/liveness.py):
no ping round trip under load, and a connection that died while it sat in the pool is still replaced before a
request uses it."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from engine.store import liveness
from engine.store.db import Database, is_unreachable
from tests.conftest import skip_without_pg


@pytest.fixture
def pg(pg_url):  # noqa: ANN001, ANN201
    if pg_url is None:
        skip_without_pg()
    database = Database(pg_url)
    pings: list[object] = []
    dialect = database.engine.dialect
    real_ping = type(dialect).do_ping

    def counted(self, dbapi_connection):  # noqa: ANN001, ANN202
        pings.append(dbapi_connection)
        return real_ping(self, dbapi_connection)

    for engine in database.engines:
        engine.dialect.do_ping = counted.__get__(engine.dialect)
    database.pings = pings
    yield database
    database.dispose()


def _backend_pid(db: Database) -> int:
    with db.write() as session:
        return session.scalar(text("SELECT pg_backend_pid()"))


def _terminate(pg_url: str, pid: int) -> None:
    other = Database(pg_url)
    try:
        with other.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        other.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(pg):
    for _ in range(5):
        _backend_pid(pg)
        with pg.read() as session:
            session.scalar(text("SELECT 1"))
    assert pg.pings == []


def test_a_connection_that_sat_in_the_pool_is_pinged_and_replaced_when_it_died_there(pg, pg_url, monkeypatch):
    pid = _backend_pid(pg)
    _terminate(pg_url, pid)
    monkeypatch.setattr(liveness, "TRUSTED_FOR", 0.0)  # as if it had sat in the pool longer than the window
    assert _backend_pid(pg) != pid  # no error: the ping found it dead and the pool opened another
    assert len(pg.pings) == 1


def test_one_that_died_within_the_window_fails_once_and_has_every_pooled_connection_pinged(pg, pg_url):
    """What the window gives up, and how it recovers: the one request that takes a connection killed less than a
    second after its last use fails (answered 503, nothing kept); after that failure no pooled connection of the
    database, writes' or reads', is used without a ping."""
    with pg.read() as session:
        session.scalar(text("SELECT 1"))  # a read connection in its pool, used a moment ago
    pid = _backend_pid(pg)
    _terminate(pg_url, pid)
    with pytest.raises(OperationalError) as failed:
        _backend_pid(pg)
    assert failed.value.connection_invalidated and is_unreachable(failed.value)  # the loss, not its rollback
    assert _backend_pid(pg) != pid
    with pg.read() as session:
        assert session.scalar(text("SELECT 1")) == 1
    assert len(pg.pings) == 1  # the read connection, checked because of the failure; the new write one is fresh
