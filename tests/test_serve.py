"""`minyi serve`, the production server: a real gunicorn on 127.0.0.1, reached through real sockets.

The rules: a new visitor is answered at once whatever idle connections are open; past the connection limit
the answer is a 503 at once, never a hang; a graceful restart drops no request; and production never runs
without a shared secret key.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from tests.serving import ROOT, serve
from web import create_app, server
from web.cli import main


@pytest.fixture
def sqlite_env(tmp_path, sqlite_template) -> dict[str, str]:
    path = tmp_path / "served.db"
    shutil.copy(sqlite_template, path)
    return {"DATABASE_URL": f"sqlite:///{path}"}


def timed_get(port: int, path: str = "/login", timeout: float = 10) -> tuple[int, float, http.client.HTTPResponse]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    answer = answer_body = conn.getresponse()
    answer_body.read()
    conn.close()
    return answer.status, time.monotonic() - started, answer


def open_idle(port: int, silent: int, kept_alive: int) -> list[socket.socket]:
    """`silent` sockets that never send a byte (like a browser's preconnect) and `kept_alive` ones that asked
    for one page and then say nothing more."""
    sockets = []
    for _ in range(silent):
        sockets.append(socket.create_connection(("127.0.0.1", port)))
    for _ in range(kept_alive):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sockets.append(sock)
    return sockets


def test_serve_refuses_to_start_without_a_shared_secret_key(monkeypatch):
    """Production never falls back to a key generated on one machine: the command stops and says why."""
    monkeypatch.delenv("MINYI_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert "MINYI_SECRET_KEY" in result.output and "生产环境必须" in result.output and "must be set" in result.output
    monkeypatch.setenv("MINYI_SECRET_KEY", "short")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1 and "太短" in result.output and "至少需要 32 个" in result.output
    assert "Traceback" not in result.output


def test_each_worker_runs_two_threads_unless_told_otherwise(monkeypatch):
    """More threads in one worker share its GIL: with 16 busy staff on 2 cores, 8 threads served 17–36 % fewer
    completions than 2 (docs/performance.md); more concurrency comes from more worker processes. What `serve`
    is not told is `ServeOptions`' default."""
    started = []
    monkeypatch.setenv("MINYI_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("MINYI_ENV", "production")  # `serve` sets it itself: recorded here, so it is undone after
    monkeypatch.setattr(server.MinyiServer, "__init__", lambda self, options, config: started.append(options))
    monkeypatch.setattr(server.MinyiServer, "run", lambda self: None)
    result = CliRunner().invoke(main, ["serve", "--workers", "3"])
    assert result.exit_code == 0 and "3 个进程 × 2 个线程" in result.output
    assert CliRunner().invoke(main, ["serve", "--threads", "6"]).exit_code == 0
    assert [options.threads for options in started] == [2, 6] and server.ServeOptions().threads == 2
    assert started[0].gunicorn_settings()["threads"] == 2
    assert started[0] == server.ServeOptions(workers=3)  # every other option left alone is the server's own default
    refused = CliRunner().invoke(main, ["serve", "--threads", "0"])
    assert refused.exit_code == 2 and "--threads" in refused.output and len(started) == 2


def test_a_production_app_is_never_built_on_a_generated_key(monkeypatch, tmp_path):
    """MINYI_ENV=production (e.g. gunicorn run by hand) refuses instance/secret_key as well."""
    monkeypatch.setenv("MINYI_ENV", "production")
    monkeypatch.delenv("MINYI_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="MINYI_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    monkeypatch.setenv("MINYI_SECRET_KEY", "k" * 32)
    assert create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}).secret_key == "k" * 32


def test_a_new_visitor_is_answered_within_a_second_while_1000_idle_connections_are_open(tmp_path, sqlite_env):
    """The operator's finding: 100 idle keep-alive sockets made the simple server hang for everyone.
    Here 1,000 idle sockets — 700 that never send a byte, 300 kept alive after a page — take no thread of the
    default 2 workers × 2 threads."""
    served = serve(tmp_path / "serve.log", sqlite_env, "--workers", "2", "--keepalive", "20")
    idle: list[socket.socket] = []
    try:
        idle = open_idle(served.port, silent=700, kept_alive=300)
        time.sleep(0.3)
        status, seconds, _ = timed_get(served.port, "/login")
        assert status == 200 and seconds < 1.0, f"answered {status} after {seconds:.2f} s"
        status, seconds, _ = timed_get(served.port, "/public/procedures")
        assert status == 200 and seconds < 1.0, f"answered {status} after {seconds:.2f} s"
    finally:
        for sock in idle:
            sock.close()
        served.stop()


def test_clients_that_keep_their_closed_connections_open_hold_up_no_one(tmp_path, sqlite_env):
    """After a `Connection: close` answer the server drains what the client still sends for up to 2 s
    before closing; it does so in its event loop, so 20 clients that never close their side cost a new
    visitor nothing (gunicorn's own close waited 2 s on each in turn: 14 s here)."""
    served = serve(tmp_path / "serve.log", sqlite_env, "--workers", "2", "--threads", "4")
    held: list[socket.socket] = []
    try:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            held.append(sock)
        time.sleep(0.3)
        status, seconds, _ = timed_get(served.port, "/healthz")
        assert status == 200 and seconds < 1.0, f"answered {status} after {seconds:.2f} s"
        for sock in held:  # each got its whole answer, then the server closed within the linger time
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")
    finally:
        for sock in held:
            sock.close()
        served.stop()


def test_past_the_connection_limit_a_visitor_hears_503_at_once(tmp_path, sqlite_env):
    """Truly saturated (every allowed socket held open), the next visitor gets 503 with Retry-After, in
    Chinese, at once — not a hang until a time-out."""
    served = serve(tmp_path / "serve.log", sqlite_env, "--workers", "1", "--threads", "2",
                   "--max-connections", "10", "--keepalive", "20")
    idle: list[socket.socket] = []
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
    try:
        served.wait_for_connections(0)  # the start-up probe's connection is closed
        idle = open_idle(served.port, silent=10, kept_alive=0)
        served.wait_for_connections(10)
        started = time.monotonic()
        conn.request("GET", "/login")
        answer = conn.getresponse()
        body = answer.read().decode()
        assert answer.status == 503 and time.monotonic() - started < 1.0
        assert answer.getheader("Retry-After") == "5" and "服务器繁忙" in body
        for sock in idle[:5]:
            sock.close()
        served.wait_for_connections(5)
        assert timed_get(served.port, "/healthz")[0] == 200  # room again: served as usual
    finally:
        conn.close()
        for sock in idle:
            sock.close()
        served.stop()


def test_a_graceful_restart_replaces_the_workers_without_dropping_a_request(tmp_path, sqlite_env):
    """SIGHUP (systemctl reload) starts new workers and lets the old ones finish: every request of a steady
    stream during the restart is answered 200."""
    served = serve(tmp_path / "serve.log", sqlite_env, "--workers", "2", "--threads", "4")
    before = served.worker_pids()
    statuses: list[int | str] = []
    stop = threading.Event()

    def visitor() -> None:
        while not stop.is_set():
            try:
                statuses.append(timed_get(served.port, "/login", timeout=30)[0])
            except OSError as exc:
                statuses.append(repr(exc))

    visitors = [threading.Thread(target=visitor) for _ in range(3)]
    try:
        for thread in visitors:
            thread.start()
        time.sleep(1)
        os.kill(served.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (served.worker_pids() & before or len(served.worker_pids()) < 2):
            time.sleep(0.2)
        time.sleep(1)
    finally:
        stop.set()
        for thread in visitors:
            thread.join(timeout=40)
        after = served.worker_pids()
        served.stop()
    assert before and after and not (before & after), "the workers were not replaced"
    assert len(statuses) > 20 and set(statuses) == {200}, [s for s in statuses if s != 200][:5]


def test_with_several_workers_metrics_add_up_this_runs_live_processes_only(tmp_path, sqlite_env):
    """PROMETHEUS_MULTIPROC_DIR: the figures a previous run left there are cleared before the server starts,
    and a worker that exits stops counting in the database pool gauge (its live-gauge file is removed)."""
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    leftover = ("import os; os.environ['PROMETHEUS_MULTIPROC_DIR'] = %r\n"
                "from web.metrics import observe_request; observe_request('GET', '/left-over', 200, 0.1)"
                % str(metrics_dir))
    subprocess.run([sys.executable, "-c", leftover], check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert list(metrics_dir.glob("counter_*.db")), "the previous run's counter file was not written"
    env = {**sqlite_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "MINYI_METRICS_TOKEN": "t" * 32}
    served = serve(tmp_path / "serve.log", env, "--workers", "2", "--threads", "2")

    def scrape() -> str:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + "t" * 32})
        answer = conn.getresponse()
        body = answer.read().decode()
        conn.close()
        assert answer.status == 200, body
        return body

    try:
        for _ in range(6):
            assert timed_get(served.port, "/login")[0] == 200
        first = scrape()
        assert "/left-over" not in first
        logins = [line for line in first.splitlines()
                  if line.startswith('minyi_http_requests_total{') and 'route="/login"' in line]
        assert logins and float(logins[0].rsplit(" ", 1)[1]) == 6.0, logins  # summed over both workers
        workers = served.worker_pids()
        pool_files = {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("gauge_livesum_*.db")}
        assert pool_files and pool_files <= workers
        gone = next(iter(pool_files))
        os.kill(gone, signal.SIGQUIT)  # exits at once; gunicorn replaces it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (gone in served.worker_pids() or len(served.worker_pids()) < 2):
            time.sleep(0.2)
        assert gone not in served.worker_pids()
        assert not (metrics_dir / f"gauge_livesum_{gone}.db").exists()
        assert 'route="/login"' in scrape()  # the counters of the exited worker are kept (a counter never goes back)
    finally:
        served.stop()
