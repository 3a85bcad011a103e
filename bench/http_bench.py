"""Benchmark: staff working through a real `minyi serve` over HTTP, against the engine alone in the same run.

    .venv/bin/python bench/http_bench.py --users 1 16 --workers 1 2 --seconds 20 \
        --database postgresql://postgres@127.0.0.1:5432/minyi_http_bench     # an empty database
    .venv/bin/python bench/http_bench.py --users 1                            # a temporary SQLite file

Each simulated staff member keeps one connection and runs whole 即办件 cases: the 受理员 starts the case
(JSON API), then for each step the person who does it opens the 待认领 page (the HTML task list, signed in
with a session), opens the step (`GET /api/tasks/<id>`) and completes it (JSON API). Before each HTTP phase
the same database is driven in this process by the engine alone, one thread: `cases.start_case`,
`cases.complete_task` and `tasklist.overview` (the task-list page's one engine call), so every ratio printed
compares figures taken minutes apart on the same machine and database. First, the *server floor*: the same
gunicorn worker class serving `bench/floor_app.py` (reads the body, answers; no Flask, no engine), so what
an HTTP completion adds to the engine's can be split into the server's and client's share and the app's own.
`--in-process` adds the same API requests through Flask's test client in this process (no server, no socket):
what Flask and the app's per-request work add to the engine, apart from the server. `--profile DIR` samples
the first server worker with py-spy (`pip install -e '.[bench]'`) during the first HTTP phase and prints the
functions holding the most samples; the raw stacks are kept in DIR for a flame graph.
Builds on bench/serve_bench.py (database preparation, server start, the case's steps).
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.people import users  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.work import cases, tasklist  # noqa: E402
from pinned import pin_clock  # noqa: E402
from serve_bench import INTAKE, STAFF, STEPS, prepare, start_server  # noqa: E402

PASSWORD = "bench-password-1"  # serve_bench.prepare's
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] if ordered else float("nan")


class Staff(threading.Thread):
    """One person at a desk: one kept-alive connection, the three roles' sessions and API tokens."""

    def __init__(self, port: int, tokens: dict[str, str], deadline: float, timeout: float = 10):
        super().__init__(daemon=True)
        self.port, self.tokens, self.deadline, self.timeout = port, tokens, deadline, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}
        self.times: dict[str, list[float]] = {"start": [], "list": [], "open": [], "complete": []}
        self.errors = 0

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body, headers or {})
            answer = self.conn.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def sign_in(self) -> None:
        """A browser session per role (the task-list page is HTML behind the login form)."""
        for name in STAFF:
            status, headers, page = self.request("GET", "/login")
            cookie = headers["set-cookie"].split(";", 1)[0]
            form = urllib.parse.urlencode({"csrf_token": CSRF.search(page.decode()).group(1),
                                           "username": f"bench_{name}", "password": PASSWORD})
            status, headers, _ = self.request("POST", "/login", form.encode(), {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
            assert status == 302, f"sign-in of bench_{name} answered {status}"
            self.cookies[name] = headers["set-cookie"].split(";", 1)[0]

    def timed(self, what: str, method: str, path: str, who: str, body: dict | None = None) -> dict | None:
        if what == "list":
            headers = {"Cookie": self.cookies[who]}
        else:
            headers = {"Authorization": f"Bearer {self.tokens[who]}", "Content-Type": "application/json"}
        began = time.perf_counter()
        try:
            status, _, data = self.request(method, path, json.dumps(body).encode() if body is not None else None,
                                           headers)
        except (OSError, http.client.HTTPException):
            self.errors += 1
            return None
        if status not in (200, 201):
            self.errors += 1
            return None
        self.times[what].append(time.perf_counter() - began)
        return json.loads(data) if what != "list" else {}

    def run(self) -> None:
        self.sign_in()
        self.case()  # the first case warms the server's caches (diagram, statements): not counted
        self.times = {what: [] for what in self.times}
        self.errors = 0
        while time.monotonic() < self.deadline:
            self.case()
        if self.conn is not None:
            self.conn.close()

    def case(self) -> None:
        result = self.timed("start", "POST", "/api/cases", "clerk",
                            {"process_id": "minqing_liushuixian", "values": INTAKE})
        for who, values in STEPS:
            if not result or not result["new_tasks"] or time.monotonic() >= self.deadline:
                return
            task_id = result["new_tasks"][0]["id"]
            if self.timed("list", "GET", "/tasks/queue", who) is None:
                return
            if self.timed("open", "GET", f"/api/tasks/{task_id}", who) is None:
                return
            result = self.timed("complete", "POST", f"/api/tasks/{task_id}/complete", who, values)


def engine_alone(url: str, seconds: float) -> dict[str, list[float]]:
    """The same work through the engine in this process, one thread, for `seconds`."""
    database = Database(url)
    times: dict[str, list[float]] = {"start": [], "list": [], "complete": []}
    try:
        actors = {name: users.authenticate(database, f"bench_{name}", PASSWORD) for name in STAFF}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            result = cases.start_case(database, actors["clerk"], "minqing_liushuixian", INTAKE)
            times["start"].append(time.perf_counter() - began)
            for who, values in STEPS:
                began = time.perf_counter()
                tasklist.overview(database, actors[who], "queue")
                times["list"].append(time.perf_counter() - began)
                began = time.perf_counter()
                result = cases.complete_task(database, actors[who], result.new_tasks[0].id, values)
                times["complete"].append(time.perf_counter() - began)
                if not result.new_tasks:
                    break
        return times
    finally:
        database.dispose()


def in_process(url: str, tokens: dict[str, str], seconds: float) -> dict[str, list[float]]:
    """The API part of a case (start, open, complete; not the HTML list) through Flask's test client in this
    process, one thread, configured as `minyi serve` runs it, for `seconds`."""
    os.environ.update(DATABASE_URL=url, MINYI_SECRET_KEY="b" * 64, MINYI_RATELIMIT_STORAGE="memory://")
    from web import create_app, observe

    observe.configure_logging()  # as `minyi serve` logs (its lines go to /dev/null here, as the server's do)
    client = create_app().test_client()
    times: dict[str, list[float]] = {"start": [], "open": [], "complete": [], "engine inside": []}
    engine_complete = cases.complete_task

    def timed_complete(*args: Any, **kwargs: Any) -> Any:  # the engine's own part of a completion request
        began = time.perf_counter()
        try:
            return engine_complete(*args, **kwargs)
        finally:
            times["engine inside"].append(time.perf_counter() - began)

    def call(what: str, method: str, path: str, who: str, body: dict | None = None) -> dict:
        began = time.perf_counter()
        answer = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {tokens[who]}"})
        times[what].append(time.perf_counter() - began)
        if answer.status_code not in (200, 201):
            raise SystemExit(f"in process: {method} {path} answered {answer.status_code}")
        return answer.get_json()

    def case() -> None:
        result = call("start", "POST", "/api/cases", "clerk", {"process_id": "minqing_liushuixian", "values": INTAKE})
        for who, values in STEPS:
            if not result["new_tasks"]:
                return
            task_id = result["new_tasks"][0]["id"]
            call("open", "GET", f"/api/tasks/{task_id}", who)
            result = call("complete", "POST", f"/api/tasks/{task_id}/complete", who, values)

    cases.complete_task = timed_complete  # the app calls it through the module, so this times its calls
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 — closed below
    try:
        case()  # warms the caches, as over HTTP: not counted
        times = {what: [] for what in times}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            case()
    finally:
        cases.complete_task = engine_complete
        sys.stderr.close()
        sys.stderr = stderr
    return times


class Profile:
    """py-spy sampling one process (the server's first worker) while a phase runs; `report` prints the
    functions found in the most samples (anywhere on the stack) and keeps the raw stacks in `folder`."""

    def __init__(self, folder: Path, server: subprocess.Popen, seconds: float):
        folder.mkdir(parents=True, exist_ok=True)
        self.out = folder / "worker.stacks.txt"
        children = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
        if not children:
            raise SystemExit("--profile: the server has no worker process to sample")
        spy = Path(sys.executable).with_name("py-spy")
        if not spy.exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install -e '.[bench]'")
        self.process = subprocess.Popen([str(spy), "record", "--pid", children[0], "--rate", "200", "--duration",
                                         str(max(1, int(seconds))), "--format", "raw", "--output", str(self.out),
                                         "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def report(self, top: int = 15) -> None:
        self.process.wait(120)
        total, holding, leaves = 0, Counter(), Counter()
        for line in self.out.read_text(encoding="utf-8").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            total += int(count)
            frames = [_frame(f) for f in stack.split(";")]
            for frame in set(frames):
                holding[frame] += int(count)
            leaves[frames[-1]] += int(count)
        print(f"  profile of the first worker (py-spy, 200 Hz, {total} samples; stacks in {self.out}):")
        print("    on the stack (the function or what it called):")
        for frame, count in holding.most_common(top):
            print(f"    {count / max(total, 1):>5.0%}  {frame}")
        print("    running itself (the innermost frame):")
        for frame, count in leaves.most_common(top):
            print(f"    {count / max(total, 1):>5.0%}  {frame}")


def _frame(raw: str) -> str:
    """`name (path/to/file.py:12)` as `name (file.py)`."""
    name, _, where = raw.partition(" (")
    return f"{name} ({Path(where.rsplit(':', 1)[0]).name})" if where else name


def over_http(port: int, tokens: dict[str, str], people: int, seconds: float) -> tuple[dict[str, list[float]], int]:
    deadline = time.monotonic() + seconds
    staff = [Staff(port, tokens, deadline) for _ in range(people)]
    for person in staff:
        person.start()
    for person in staff:
        person.join(seconds + 60)
    return ({what: [t for p in staff for t in p.times[what]] for what in ("start", "list", "open", "complete")},
            sum(p.errors for p in staff))


def server_floor(port: int, seconds: float) -> list[float]:
    """POST a completion's JSON body to `floor_app` (no Flask, no engine) under `minyi serve`'s worker class,
    one kept-alive connection, for `seconds`: what the server and this client add to any request."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "8",
                                "--worker-class", "web.server.IdleSafeThreadWorker", "--bind", f"127.0.0.1:{port}",
                                "floor_app:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = _connect_when_up(port)
        body = json.dumps(STEPS[-1][1]).encode()
        headers = {"Content-Type": "application/json", "Authorization": "Bearer floor"}
        times: list[float] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            conn.request("POST", "/api/tasks/1/complete", body, headers)
            json.loads(conn.getresponse().read())
            times.append(time.perf_counter() - began)
        conn.close()
        return times[len(times) // 10:]  # the first tenth warms up
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _connect_when_up(port: int) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.connect()
            return conn
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the floor server did not start") from None
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--users", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--threads", type=int, default=2, help="per worker (default: as `minyi serve`)")
    parser.add_argument("--seconds", type=float, default=15, help="each HTTP phase, and each engine-alone phase")
    parser.add_argument("--in-process", action="store_true",
                        help="also the API requests through Flask's test client in this process (no server)")
    parser.add_argument("--profile", type=Path, help="sample the first worker with py-spy in the first HTTP phase")
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    tokens = prepare(url)
    print(f"database: {url.split('@')[-1]}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        floor_port = probe.getsockname()[1]
    floor = server_floor(floor_port, min(args.seconds, 5))
    print(f"server floor (gunicorn, same worker class, a WSGI app that only reads the body and answers): "
          f"p50 {p50(floor) * 1000:.2f} ms, p95 {p95(floor) * 1000:.2f} ms, n {len(floor)}")
    for workers in args.workers:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = start_server("serve", url, port, workers, args.threads)
        try:
            for people in args.users:
                alone = engine_alone(url, args.seconds)
                profile = Profile(args.profile, server, args.seconds) if args.profile else None
                args.profile = None  # the first phase only
                http_times, errors = over_http(port, tokens, people, args.seconds)
                engine_rate = len(alone["complete"]) / sum(alone["complete"] + alone["start"] + alone["list"])
                http_rate = len(http_times["complete"]) / args.seconds
                print(f"\n{workers} worker(s) × {args.threads} threads, {people} staff, {args.seconds:g} s; "
                      f"load average {os.getloadavg()[0]:.1f}")
                print(f"  {'':<26}{'p50 ms':>8}{'p95 ms':>8}{'n':>7}")
                for label, values in (("engine complete", alone["complete"]), ("engine start", alone["start"]),
                                      ("engine task list (queue)", alone["list"]),
                                      ("HTTP complete", http_times["complete"]), ("HTTP start", http_times["start"]),
                                      ("HTTP open a step", http_times["open"]),
                                      ("HTTP task list (queue)", http_times["list"])):
                    print(f"  {label:<26}{p50(values) * 1000:>8.1f}{p95(values) * 1000:>8.1f}{len(values):>7}")
                print(f"  HTTP complete p50 / engine complete p50: "
                      f"{p50(http_times['complete']) / p50(alone['complete']):.2f}x; of the difference, the server "
                      f"floor {p50(floor) * 1000:.2f} ms, the app's own work (Flask, token, limits, JSON, log, "
                      f"metrics) the rest, "
                      f"{(p50(http_times['complete']) - p50(alone['complete']) - p50(floor)) * 1000:.2f} ms")
                print(f"  completions/s: HTTP {http_rate:.1f} (with its list, open and start), engine alone "
                      f"{engine_rate:.1f} (same work, one thread) → {http_rate / engine_rate:.0%}; errors {errors}")
                if profile:
                    profile.report()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    if args.in_process:
        alone = engine_alone(url, args.seconds)
        local = in_process(url, tokens, args.seconds)
        print(f"\nin process (Flask test client, no server, one thread), {args.seconds:g} s, beside the engine alone:")
        print(f"  {'':<26}{'p50 ms':>8}{'p95 ms':>8}{'n':>7}")
        for label, values in (("engine complete", alone["complete"]), ("in-process complete", local["complete"]),
                              ("  its engine call", local["engine inside"]),
                              ("in-process start", local["start"]), ("in-process open a step", local["open"])):
            print(f"  {label:<26}{p50(values) * 1000:>8.2f}{p95(values) * 1000:>8.2f}{len(values):>7}")
        print(f"  in-process complete p50 / engine complete p50: "
              f"{p50(local['complete']) / p50(alone['complete']):.2f}x; of the difference, the engine's own call "
              f"slower inside the app {(p50(local['engine inside']) - p50(alone['complete'])) * 1000:.2f} ms, "
              f"the rest (Flask, the app's per-request work, the test client) "
              f"{(p50(local['complete']) - p50(local['engine inside'])) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
