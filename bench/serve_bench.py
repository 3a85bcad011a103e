"""Benchmark: whole 民情流水线 cases (即办件: start, classify, handle, answer, rate) through the JSON API of a
real server process, by many simulated users each keeping several connections open, as browsers do.

    .venv/bin/python bench/serve_bench.py --server serve --users 64 --connections 3 --seconds 30 \
        --database postgresql://postgres@127.0.0.1:5432/minyi_bench
    .venv/bin/python bench/serve_bench.py --server run ...     # the simple server (waitress), for comparison

Prints steps (starts and completions) per second, their median and p95 latency, and errors and time-outs.
The database must be empty or absent (SQLite: a temporary file by default). `--idle N` first opens N sockets
that never send a byte. Traffic goes to 127.0.0.1 only; every loop ends at its deadline.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store import migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402

INTAKE = {"channel": "构筑平台及时受理", "topic": "水电气暖", "title": "暖气不热", "description": "3号楼暖气不热",
          "reporter_name": "刘大爷", "reporter_contact": "13800001111", "address": "3号楼"}
STEPS = [("leader", {"kind": "即办件"}), ("handler", {"handling_result": "已办"}),
         ("handler", {"feedback_method": "单项式反馈", "answer": "已处理", "answered_at": "2026-11-23"}),
         ("clerk", {"rating": "满意"})]
STAFF = {"clerk": "受理员", "leader": "社区负责人", "handler": "承办人"}


def prepare(url: str) -> dict[str, str]:
    """Schema, diagrams and the three staff members; their API tokens."""
    database = Database(url)
    try:
        migrate.upgrade(database)
        deployments.deploy_directory(database, ROOT / "processes", SYSTEM)
        for name, role in STAFF.items():
            users.create_user(database, f"bench_{name}", "bench-password-1", name, [role])
        return {name: users.create_token(database, f"bench_{name}", "bench") for name in STAFF}
    finally:
        database.dispose()


def start_server(kind: str, url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "MINYI_SECRET_KEY": "b" * 64,
           "MINYI_RATELIMIT_STORAGE": "memory://"}
    args = (["serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
            if kind == "serve" else ["run", "--port", str(port)])
    # the server's clock is pinned like the benchmark's (gunicorn's workers inherit it when they fork): the
    # dates the steps enter (答复日期 = today) are then valid on any day the benchmark runs
    launch = ("import sys; sys.path.insert(0, 'bench'); from pinned import pin_clock; pin_clock(); "
              "from web.cli import main; sys.argv[0] = 'minyi'; main()")
    process = subprocess.Popen([sys.executable, "-c", launch, *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


class User(threading.Thread):
    """One person's browser: `connections` kept-alive connections, used in turn, one request at a time."""

    def __init__(self, port: int, tokens: dict[str, str], connections: int, deadline: float, timeout: float):
        super().__init__(daemon=True)
        self.port, self.tokens, self.deadline, self.timeout = port, tokens, deadline, timeout
        self.pool = [None] * connections
        self.turn = 0
        self.latencies: list[float] = []
        self.errors = 0

    def call(self, who: str, path: str, body: dict) -> dict | None:
        self.turn = (self.turn + 1) % len(self.pool)
        began = time.perf_counter()
        try:
            if self.pool[self.turn] is None:
                self.pool[self.turn] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            conn = self.pool[self.turn]
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json",
                                                          "Authorization": f"Bearer {self.tokens[who]}"})
            answer = conn.getresponse()
            data = answer.read()
            if answer.status not in (200, 201):
                raise OSError(f"{answer.status}")
        except (OSError, http.client.HTTPException):
            self.errors += 1
            if self.pool[self.turn] is not None:
                self.pool[self.turn].close()
            self.pool[self.turn] = None
            return None
        self.latencies.append(time.perf_counter() - began)
        return json.loads(data)

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            result = self.call("clerk", "/api/cases", {"process_id": "minqing_liushuixian", "values": INTAKE})
            for who, values in STEPS:
                if result is None or not result["new_tasks"] or time.monotonic() >= self.deadline:
                    break
                result = self.call(who, f"/api/tasks/{result['new_tasks'][0]['id']}/complete", values)
        for conn in self.pool:
            if conn is not None:
                conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["serve", "run"], default="serve")
    parser.add_argument("--database", default="")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--connections", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=2, help="per worker (default: as `minyi serve`)")
    parser.add_argument("--idle", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    tokens = prepare(url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = start_server(args.server, url, port, args.workers, args.threads)
    idle = []
    try:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(args.idle)]
        deadline = time.monotonic() + args.seconds
        people = [User(port, tokens, args.connections, deadline, args.timeout) for _ in range(args.users)]
        for person in people:
            person.start()
        for person in people:
            person.join(args.seconds + args.timeout + 30)
    finally:
        for sock in idle:
            sock.close()
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    latencies = sorted(t for p in people for t in p.latencies)
    errors = sum(p.errors for p in people)
    print(f"server: minyi {args.server}" + (f" ({args.workers} workers × {args.threads} threads)"
                                             if args.server == "serve" else " (waitress, 8 threads)"))
    print(f"database: {url.split('@')[-1]}; {args.users} users × {args.connections} connections; {args.idle} idle "
          f"sockets; {args.seconds:g} s; {os.cpu_count()} CPUs")
    print(f"steps: {len(latencies)} = {len(latencies) / args.seconds:.1f}/s; errors and time-outs: {errors}")
    if latencies:
        print(f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
