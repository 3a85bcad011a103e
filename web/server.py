"""The production server (`minyi serve`): gunicorn, several worker processes, each with a few threads.

Why gunicorn's threaded worker, adjusted: a worker process per core uses every core; a second thread in each
lets a request wait on PostgreSQL while another runs (more threads than that share one GIL and lose throughput:
with 16 busy staff on 2 cores, 8 threads a worker served 17–36 % fewer completions than 2). Idle connections
must cost no thread — a browser's preconnect or a kept-alive socket says nothing for seconds, and the simple
server (waitress) stopped answering anyone at 100 such sockets. gunicorn's `gthread` keeps *kept-alive* sockets
in its poller, but hands each *new* socket to a thread at once, which then waits up to five seconds for the
request: 16 silent sockets were enough to stall 2 workers × 8 threads. `IdleSafeThreadWorker` puts a new socket
in the poller too, so a thread is taken only when a request has arrived; a socket that stays silent is closed
after the keep-alive time-out. Past `worker_connections` open sockets a worker answers 503 at once instead of
letting the visitor hang. Closing a connection after its response never waits on the client either. Graceful
restarts (SIGHUP: new workers first, the old ones finish their requests), worker recycling and time-outs are
gunicorn's own. In production nginx sits in front (TLS, buffering slow clients); the server is also safe on its
own. The worker uses gthread's own pending-socket queue (`pending_conns`, `on_pending_socket_readable`) of the
pinned gunicorn 27.0.1: before upgrading gunicorn, tests/test_serve.py must pass (it fails with the stock
gthread worker).
"""
from __future__ import annotations

import errno
import glob
import os
import selectors
import socket
import time
from dataclasses import dataclass, field
from functools import partial

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

BUSY_BODY = "服务器繁忙:连接数已满,请几秒后重试。Server busy, please retry in a few seconds.\n".encode()
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 5\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(BUSY_BODY)) + BUSY_BODY


LINGER_SECONDS = 2.0       # how long a closed connection's unread bytes are drained (RFC 9112 section 9.6)
LINGER_BYTES = 64 * 1024


class LingeringConn(TConn):
    """A connection whose graceful close is left to the worker's event loop instead of blocking it."""

    def __init__(self, worker: IdleSafeThreadWorker, *args):  # noqa: ANN002
        super().__init__(*args)
        self.worker = worker

    def close(self, graceful: bool = False) -> None:
        if graceful:
            self.worker.linger(self.sock)
        else:
            super().close()


class IdleSafeThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose threads only ever serve sockets that have a request to read, and whose
    event loop never waits on one client."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the base loop stops accepting at worker_connections; keep accepting so the surplus hears 503
        self.worker_connections = self.cfg.worker_connections + 1
        self.lingering: dict[socket.socket, list[float]] = {}

    def linger(self, sock: socket.socket) -> None:
        """Close after the response like gunicorn's `close_graceful` — send FIN, read what the client still
        sends until it closes or 2 s pass — but in the event loop: gunicorn does it in the loop's own thread,
        blocking it up to 2 s for each client that keeps its socket open (20 such clients held a new visitor
        for 14 s)."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._drain, sock))
        except (OSError, ValueError, KeyError):
            sock.close()
            return
        self.lingering[sock] = [time.monotonic() + LINGER_SECONDS, 0]

    def _drain(self, sock: socket.socket, _fileobj=None) -> None:  # noqa: ANN001
        try:
            data = sock.recv(16384)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        state = self.lingering[sock]
        state[1] += len(data)
        if not data or state[1] >= LINGER_BYTES:
            self._forget(sock)

    def _forget(self, sock: socket.socket) -> None:
        del self.lingering[sock]
        try:
            self.poller.unregister(sock)
        except (OSError, ValueError, KeyError):
            pass
        sock.close()

    def murder_pending(self) -> None:
        """Called by the loop once a round: also close the lingering sockets whose time is up."""
        super().murder_pending()
        now = time.monotonic()
        for sock in [s for s, (deadline, _) in self.lingering.items() if deadline <= now]:
            self._forget(sock)

    def accept(self, listener) -> None:  # noqa: ANN001
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        if self.nr_conns >= self.cfg.worker_connections:
            refuse_busy(client)
            return
        self.nr_conns += 1
        conn = LingeringConn(self, self.cfg, client, address, listener.getsockname())
        # wait in the poller, like a kept-alive socket, until the request arrives (or the time-out closes it)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))


def refuse_busy(client) -> None:  # noqa: ANN001
    """Answer 503 with Retry-After and close; the few bytes fit in the socket's buffer, so nothing blocks."""
    try:
        client.setblocking(False)
        client.sendall(BUSY)
    except OSError:
        pass
    finally:
        client.close()


@dataclass(frozen=True)
class ServeOptions:
    """What `minyi serve` lets an operator set; the rest are fixed, sane values."""

    bind: tuple[str, ...] = ("127.0.0.1:8000",)
    workers: int = field(default_factory=lambda: max(2, os.cpu_count() or 1))
    threads: int = 2             # per worker; more lose throughput to the GIL (docs/performance.md, ninth session)
    timeout: int = 60            # a worker silent this long (a stuck request) is killed and replaced
    graceful_timeout: int = 30   # on restart or stop, how long running requests may take to finish
    keepalive: int = 5           # an idle or silent socket is closed after this many seconds
    worker_connections: int = 2000
    max_requests: int = 5000     # each worker is replaced after about this many requests (with jitter)
    pidfile: str | None = None

    def gunicorn_settings(self) -> dict[str, object]:
        return {
            "bind": list(self.bind),
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": f"{__name__}.IdleSafeThreadWorker",
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "keepalive": self.keepalive,
            "worker_connections": self.worker_connections,
            "max_requests": self.max_requests,
            "max_requests_jitter": max(1, self.max_requests // 10),
            "backlog": 2048,
            "pidfile": self.pidfile,
            "accesslog": None,               # the app logs each request itself
            "errorlog": "-",
            "control_socket_disable": True,  # several servers on one machine must not share one socket path
            "proc_name": "minyi",
            "on_starting": clear_metrics_dir,
            "child_exit": forget_worker_metrics,
        }


def metrics_dir() -> str | None:
    """PROMETHEUS_MULTIPROC_DIR: where prometheus_client's multiprocess mode keeps every process's figures."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def clear_metrics_dir(_arbiter) -> None:  # noqa: ANN001
    """Before the first worker starts: remove the figures of the previous run's processes, which would
    otherwise be added to this run's (counters never restart at 0 and dead workers count in the pool gauge)."""
    path = metrics_dir()
    if path is None:
        return
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)


def forget_worker_metrics(_arbiter, worker) -> None:  # noqa: ANN001
    """A worker exited (recycled, killed, restarted): its live gauges (the database pool) stop counting."""
    if metrics_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


class MinyiServer(BaseApplication):
    """gunicorn running the Flask app; each worker builds its own app (and database pool) after the fork."""

    def __init__(self, options: ServeOptions, app_config: dict | None = None):
        self.options = options
        self.app_config = dict(app_config or {})
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.gunicorn_settings().items():
            self.cfg.set(name, value)

    def load(self):  # noqa: ANN201
        from web import create_app

        return create_app(self.app_config)
