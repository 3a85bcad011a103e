"""PostgreSQL connections checked before use — but not the ones used a moment ago.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` every time a connection leaves the pool: a round trip per checkout,
two or three per request (the signed-in account, the page's reads, the write), each as long as the network to the
database. `Liveness` pings only a connection that was returned to the pool more than `TRUSTED_FOR` seconds ago, or
before any connection of the database last failed (what HikariCP calls its alive-bypass window). Under load
connections come back within milliseconds and are not pinged; after a quiet spell, a PostgreSQL restart or a cut
network they are, and a dead one is replaced before a request uses it — as with `pool_pre_ping`.

What it gives up: a connection that died less than `TRUSTED_FOR` after it was last used, with no other failure
since (PostgreSQL restarted within a second), fails the one request that takes it — answered 503 with Retry-After,
nothing of it kept — and that failure has every other pooled connection pinged before its next use.
"""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

TRUSTED_FOR = 1.0  # seconds since a connection was returned to the pool, without a failure since: used unpinged
_RETURNED_AT = "minyi_returned_at"


class Liveness:
    """Pings before use for the engines of one database (its writes' and its reads' pools): a failure on either
    has the connections of both pinged."""

    def __init__(self) -> None:
        self.failed_at = 0.0  # time.monotonic() of the last connection found broken (0: never)

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "checkin", self._returned)
        event.listen(engine, "invalidate", self._invalidated)
        event.listen(engine, "checkout", lambda dbapi_connection, record, _proxy:
                     self._check(engine, dbapi_connection, record))

    def _returned(self, dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:  # None: the connection was invalidated before it came back
            record.info[_RETURNED_AT] = time.monotonic()

    def _invalidated(self, _dbapi_connection: Any, _record: Any, exception: BaseException | None) -> None:
        if exception is not None:  # broken (a lost connection, a failed ping), not closed on purpose
            self.failed_at = time.monotonic()

    def _check(self, engine: Engine, dbapi_connection: Any, record: Any) -> None:
        returned = record.info.pop(_RETURNED_AT, None)
        if returned is None:  # just opened
            return
        if time.monotonic() - returned < TRUSTED_FOR and returned > self.failed_at:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                # the pool drops this connection and checks out a newly opened one instead
                raise DisconnectionError(f"pooled connection found broken: {exc}") from exc
            raise
