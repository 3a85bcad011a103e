"""Real server processes for tests: `minyi serve` (gunicorn) on a free port of 127.0.0.1, stopped by its pid."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import TEST_DAY

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-shared-by-every-server-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Served:
    """One `minyi serve` master process and where it answers."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()} if children.exists() else set()

    def connections(self) -> int:
        """Sockets its workers hold open, besides each worker's listening socket (read from /proc)."""
        held = 0
        for pid in self.worker_pids():
            try:
                fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            except OSError:
                continue
            held += sum(1 for target in fds if target.startswith("socket:")) - 1
        return held

    def wait_for_connections(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.connections() != count:
            assert time.monotonic() < deadline, f"the workers hold {self.connections()} connections, not {count}"
            time.sleep(0.05)

    def stop(self) -> None:
        stop_all([self])


def stop_all(servers: list[Served]) -> None:
    """SIGTERM to every master first (each takes a few seconds to wind down), then wait for all."""
    for served in servers:
        if served.process.poll() is None:
            served.process.send_signal(signal.SIGTERM)
    for served in servers:
        try:
            served.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait()


# `minyi serve` on the tests' day (TEST_DAY), as the test process itself runs: the dates a test sends
# (答复日期 = today) are then the server's today too, whatever day the suite runs on. Its workers inherit the
# clock when they fork, also after a SIGHUP.
_LAUNCH = ("import sys; from datetime import datetime; from engine import clock; "
           "clock.set_clock(clock.running_from(datetime.fromisoformat(sys.argv.pop(1)))); "
           "from web.cli import main; sys.argv[0] = 'minyi'; main()")


def serve(log: Path, env: dict[str, str], *args: str, port: int | None = None) -> Served:
    """Start `minyi serve` with this worktree's code, its clock on the tests' day; return once /healthz answers."""
    port = port or free_port()
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "MINYI_SECRET_KEY": SECRET, **env}
    command = [sys.executable, "-c", _LAUNCH, TEST_DAY.isoformat(), "serve", "--bind", f"127.0.0.1:{port}", *args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    served = Served(process, port, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"minyi serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(served.url + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return served
        except OSError:
            time.sleep(0.2)
    served.stop()
    raise AssertionError(f"minyi serve did not answer /healthz within 60 s:\n{log.read_text()}")
