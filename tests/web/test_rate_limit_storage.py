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
