"""A database that cannot be reached is answered with 503 and Retry-After (in Chinese, with the request id
and the usual headers), not a 500; the app recovers by itself when the database is back. Real outages:
a closed port, a file that cannot be opened, and a PostgreSQL connection cut and restored mid-session."""
from __future__ import annotations

import re
import socket
import threading

import pytest

from engine.store.db import Database
from tests.conftest import _empty_pg
from tests.web.conftest import build_app, login
from web import create_app
from web.headers import CONTENT_SECURITY_POLICY

CLOSED_PORT = "postgresql://postgres@127.0.0.1:9/minyi?connect_timeout=3"


def assert_unavailable_page(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "数据库暂时无法连接" in html and "没有执行" in html and "Traceback" not in html
    shown = re.search(r'<code class="request-id">([^<]+)</code>', html).group(1)
    assert shown == response.headers["X-Request-ID"]
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def unreachable_app(url: str):
    return create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": url, "READYZ_CHECK_WORKER": False,
                       "METRICS_ALLOW": "127.0.0.1"})


def test_a_closed_database_port_is_a_503_page_and_json_for_the_api():
    client = unreachable_app(CLOSED_PORT).test_client()
    assert_unavailable_page(client.get("/public/board"))
    api = client.get("/api/tasks", headers={"Authorization": "Bearer some-token"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.json["error"] == "DatabaseUnavailable" and api.json["request_id"] == api.headers["X-Request-ID"]


def test_probes_and_metrics_still_answer_during_an_outage():
    client = unreachable_app(CLOSED_PORT).test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["database"] == {"ok": False, "detail": "数据库无法连接"}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert re.search(r"^minyi_database_up 0\.0$", metrics, re.M)


def test_a_sqlite_file_that_cannot_be_opened_is_a_503(tmp_path):
    (tmp_path / "not-a-file.db").mkdir()
    assert_unavailable_page(unreachable_app(f"sqlite:///{tmp_path / 'not-a-file.db'}").test_client()
                            .get("/public/board"))


def test_other_database_errors_stay_500(tmp_path):
    """A schema that was never created is a mistake to fix, not an outage to wait out."""
    response = unreachable_app(f"sqlite:///{tmp_path / 'empty.db'}").test_client().get("/public/board")
    assert response.status_code == 500 and "Retry-After" not in response.headers


class Relay:
    """A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused) and restored."""

    def __init__(self, port: int = 5432):
        self.target = ("127.0.0.1", port)
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        for sock in [self.listener, *self.sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.mark.postgres
def test_staff_see_the_503_page_while_postgresql_is_away_and_work_on_when_it_is_back(request):
    url = request.getfixturevalue("pg_url")
    if url is None:
        pytest.skip("PostgreSQL not reachable (set CI=true to make this a failure)")
    _empty_pg(url)
    setup = Database(url)
    build_app(setup).extensions["minyi_db"].dispose()  # staff and diagram, straight to the database
    setup.dispose()
    relay = Relay()
    relay.start()
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                      "DATABASE_URL": re.sub(r"@[^/]+/", f"@127.0.0.1:{relay.port}/", url)})
    client = app.test_client()
    try:
        login(client, "clerk")
        assert client.get("/tasks/inbox").status_code == 200
        relay.cut()
        assert_unavailable_page(client.get("/tasks/inbox"))  # the signed-in user cannot even be loaded
        assert_unavailable_page(client.get("/no-such-page"))  # nor the header of the 404 page
        relay.start()
        assert client.get("/tasks/inbox").status_code == 200
    finally:
        relay.cut()
        app.extensions["minyi_db"].dispose()


@pytest.mark.postgres
def test_a_case_started_on_a_connection_that_died_since_its_last_use_is_a_503_and_the_retry_goes_through(request):
    """PostgreSQL restarted within a second of a connection's last use, so it is taken from the pool unpinged
    (engine/store/liveness.py): the one request that meets it is answered 503 with nothing kept, and the same
    request sent again starts the case once."""
    from sqlalchemy import text

    from engine.people import users

    url = request.getfixturevalue("pg_url")
    if url is None:
        pytest.skip("PostgreSQL not reachable (set CI=true to make this a failure)")
    _empty_pg(url)
    setup = Database(url)
    app = build_app(setup)
    setup.dispose()
    database = app.extensions["minyi_db"]
    headers = {"Authorization": f"Bearer {users.create_token(database, 'clerk')}"}
    body = {"process_id": "approval", "values": {"title": "路灯不亮", "amount": 2}}
    client = app.test_client()
    try:
        with database.write() as session:  # the write connection the next case will take, used just now
            pid = session.scalar(text("SELECT pg_backend_pid()"))
        other = Database(url)
        with other.write() as session:
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        other.dispose()
        failed = client.post("/api/cases", json=body, headers=headers)
        assert failed.status_code == 503 and failed.headers["Retry-After"] == "30"
        assert failed.json["error"] == "DatabaseUnavailable"
        assert client.post("/api/cases", json=body, headers=headers).status_code == 201
        assert client.get("/api/tasks?list=queue", headers=headers).json["total"] == 0  # the clerk's queue
        with database.read() as session:
            assert session.scalar(text("SELECT count(*) FROM cases")) == 1
    finally:
        database.dispose()
