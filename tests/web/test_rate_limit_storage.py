"""Where rate limits are counted: Redis when MINYI_RATELIMIT_STORAGE names it (shared by every process and server,
see tests/test_several_servers.py), and each process's memory while that Redis cannot be reached."""
from __future__ import annotations

from tests.serving import free_port
from tests.web.conftest import build_app


def test_an_unreachable_redis_never_turns_a_sign_in_into_an_error_page(sqlite_db, monkeypatch):
    """Redis down: sign-ins still work and failed ones are still limited, counted in the process's memory."""
    monkeypatch.setenv("MINYI_RATELIMIT_STORAGE", f"redis://127.0.0.1:{free_port()}/0")
    app = build_app(sqlite_db)
    try:
        client = app.test_client()
        codes = [client.post("/login", data={"username": "leader", "password": "wrong"}).status_code
                 for _ in range(11)]
        assert codes == [401] * 10 + [429]
    finally:
        app.extensions["minyi_db"].dispose()


def test_an_app_built_after_a_redis_outage_counts_in_its_own_store_from_the_first_request(sqlite_db, monkeypatch):
    """The limiter object is shared by every app of a process: an earlier app's unreachable Redis must not leave the
    next app counting in the fallback memory and then, at a back-off check, in its own store (a flood let through
    mid-way; seen as a flaky resident-flood test in a full run)."""
    from web import create_app
    from web.limits import limiter

    monkeypatch.setenv("MINYI_RATELIMIT_STORAGE", f"redis://127.0.0.1:{free_port()}/0")
    down = build_app(sqlite_db)
    down.test_client().post("/login", data={"username": "leader", "password": "wrong"})
    down.extensions["minyi_db"].dispose()
    assert limiter._storage_dead  # noqa: SLF001 — the outage was noticed (Flask-Limiter's own mark)
    monkeypatch.delenv("MINYI_RATELIMIT_STORAGE")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATABASE_URL": sqlite_db.url,
                      "WTF_CSRF_ENABLED": False,
                      "STAFF_RATE_LIMITS": {"login": "2 per minute", "password": "5 per minute"}})
    try:
        client = app.test_client()
        codes = [client.post("/login", data={"username": "leader", "password": "wrong"}).status_code
                 for _ in range(3)]
        assert codes == [401, 401, 429]
        assert not limiter._storage_dead  # noqa: SLF001 — counted in the app's own store, not the fallback
    finally:
        app.extensions["minyi_db"].dispose()
