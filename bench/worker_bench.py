"""Benchmark: one timer-worker sweep among many waiting cases.

    .venv/bin/python bench/worker_bench.py [--database URL] [--small 10000] [--large 100000] [--due 100]

Builds two databases, each with `--due` real 承诺件 cases whose promised date has passed plus
waiting cases bulk-inserted with SQLAlchemy Core (cases with `next_timer_at` in the future, a
real serialized workflow copied from one real waiting case, its open human task): one with
`--small` and one with `--large` waiting cases. Times finding the due cases (`timers.due_cases`,
and `deadlines.due_checks` for steps) in both, in alternating rounds, then one full worker sweep
on the large one (`timers.sweep`: due timers, then the reminder/overdue pass, then the outbox)
firing the due ones and marking their steps overdue, with the workflow cache empty as in a
freshly started `minyi worker`. MINYI_BENCH_ROUNDS=1 prints every round.
Targets: the sweep under 1 s; finding costs the same at both sizes (ratio ≤ 1.5).
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from engine import clock  # noqa: E402
from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments  # noqa: E402
from engine.people import outbox, users  # noqa: E402
from engine.store import migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import Case, CaseState, HumanTask, HumanTaskRole  # noqa: E402
from engine.work import cases, deadlines, runtime, timers  # noqa: E402

INTAKE = {"channel": "构筑平台及时受理", "topic": "水电气暖", "title": "暖气不热", "description": "3号楼暖气不热"}
START = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)     # Monday 10:00 in China
SWEEP_AT = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)  # the promised 11-25 has passed
CHUNK = 5000


def promised_case(db: Database, actors: dict, promised: str) -> int:
    started = cases.start_case(db, actors["clerk"], "minqing_liushuixian", INTAKE)
    cases.complete_task(db, actors["leader"], started.new_tasks[0].id, {"kind": "承诺件", "promised_date": promised})
    return started.case_id


def bulk_waiting(db: Database, template_id: int, start: int, count: int) -> None:
    """`count` waiting cases copied from the template case, timers spread over the next years."""
    with db.read() as session:
        case = session.get(Case, template_id)
        state = session.get(CaseState, template_id)
        task = session.scalar(select(HumanTask).where(HumanTask.case_id == template_id, HumanTask.status == "READY"))
        blob, data, version_id = state.state, state.data, case.version_id
        step_id, name, lane = task.step_id, task.name, task.lane
    for first in range(start, start + count, CHUNK):
        ids = range(first, min(first + CHUNK, start + count))
        due = [SWEEP_AT + timedelta(days=30 + i % 1500, minutes=i % 1440) for i in ids]
        with db.write() as session:
            session.execute(insert(Case), [
                {"id": i, "number": f"MQ-BENCH-{i:07d}", "version_id": version_id, "process_id": "minqing_liushuixian",
                 "title": "暖气不热", "kind": "承诺件", "topic": "水电气暖", "status": "running", "started_by": "clerk",
                 "started_at": START, "updated_at": START, "next_timer_at": d, "revision": 1, "sandbox": False}
                for i, d in zip(ids, due, strict=True)])
            session.execute(insert(CaseState), [{"case_id": i, "format": 1, "state": blob, "data": data} for i in ids])
            session.execute(insert(HumanTask), [
                {"id": i, "case_id": i, "task_uuid": str(uuid.uuid4()), "step_id": step_id, "name": name, "lane": lane,
                 "status": "READY", "created_at": START, "due_at": d, "remind_at": d - timedelta(days=1),
                 "next_check_at": d - timedelta(days=1)} for i, d in zip(ids, due, strict=True)])
            session.execute(insert(HumanTaskRole), [
                {"human_task_id": i, "role": lane, "open": True, "due_at": d} for i, d in zip(ids, due, strict=True)])


def settle(db: Database) -> None:
    """After a bulk load, leave the database as a running one would be: statistics gathered, on
    SQLite the write-ahead log checkpointed (a huge fresh WAL slows every read until it is), on
    PostgreSQL vacuumed (else autovacuum wakes up for the new rows during the timed sweep)."""
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def median_ms(fn, repeat: int = 31) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def compare(small_fn, large_fn, rounds: int = 9) -> tuple[float, float, float]:
    """Median times (ms) at both sizes and the median of their per-round ratios. The two sizes are
    measured in alternation, so a shift in the shared machine's speed touches both alike."""
    small_fn(), large_fn()  # warm-up
    gc.collect()  # the bulk load leaves many objects: a collection inside the loop would time Python, not the query
    gc.disable()
    try:
        pairs = [(median_ms(small_fn), median_ms(large_fn)) for _ in range(rounds)]
    finally:
        gc.enable()
    if os.environ.get("MINYI_BENCH_ROUNDS"):
        print("  rounds (small/large ms):", " ".join(f"{a:.2f}/{b:.2f}" for a, b in pairs))
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(b / a for a, b in pairs))


def second_database(url: str) -> str:
    """A fresh sibling of a PostgreSQL database for the small size (`<name>_small`, recreated)."""
    base, name = url.rsplit("/", 1)
    small = f"{name}_small"
    admin = Database(f"{base}/postgres")
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{small}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{small}"')
    admin.dispose()
    return f"{base}/{small}"


def prepare(url: str, waiting: int, due: int) -> Database:
    """A database with `due` real 承诺件 cases past their promised date among `waiting` waiting cases."""
    db = Database(url)
    migrate.upgrade(db)
    actors = {u: users.create_user(db, u, "bench-password", u, [r]) for u, r in
              {"clerk": "受理员", "leader": "社区负责人", "handler": "承办人", "supervisor": "民情监督员"}.items()}
    deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
    template = promised_case(db, actors, "2099-12-01")
    for _ in range(due):
        promised_case(db, actors, "2026-11-25")
    began = time.perf_counter()
    bulk_waiting(db, template, 1_000_000, waiting - due - 1)
    print(f"database: {db.engine.dialect.name}; bulk insert {waiting:,} waiting: {time.perf_counter() - began:.1f} s")
    settle(db)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: temporary SQLite files); on PostgreSQL "
                                           "a sibling `<name>_small` is created for the small size")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    args = parser.parse_args()
    users.use_fast_hashing()
    if args.database:
        large_url, small_url = args.database, second_database(Database(args.database).url)
    else:
        folder = tempfile.mkdtemp(prefix="minyi-worker-bench-")
        large_url, small_url = f"sqlite:///{folder}/large.db", f"sqlite:///{folder}/small.db"
    now = [START]
    clock.set_clock(lambda: now[0])
    small, large = prepare(small_url, args.small, args.due), prepare(large_url, args.large, args.due)
    now[0] = SWEEP_AT
    for db in (small, large):
        assert len(timers.due_cases(db)) == args.due
    cases_small, cases_large, cases_ratio = compare(lambda: timers.due_cases(small), lambda: timers.due_cases(large))
    steps_small, steps_large, steps_ratio = compare(lambda: deadlines.due_checks(small),
                                                    lambda: deadlines.due_checks(large))
    small.dispose()
    runtime.forget_all()  # the worker is its own process: it has not seen these cases
    began, cpu = time.perf_counter(), time.process_time()
    fired = timers.fire_due(large)      # the three parts of timers.sweep, timed one by one
    firing = time.perf_counter() - began
    checked = deadlines.sweep(large)
    outbox.deliver(large)
    sweep, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert fired == args.due, fired
    assert checked["overdue"] == args.due, checked
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    print(f"find due cases  (timers.due_cases):     {args.small:>7,} waiting {cases_small:7.2f} ms | "
          f"{args.large:>7,} waiting {cases_large:7.2f} ms | ratio {cases_ratio:.2f}")
    print(f"find due steps  (deadlines.due_checks): {args.small:>7,} waiting {steps_small:7.2f} ms | "
          f"{args.large:>7,} waiting {steps_large:7.2f} ms | ratio {steps_ratio:.2f}")
    print(f"fire {fired} due cases among {args.large:,} (timers.fire_due): {firing:.3f} s "
          f"({firing / fired * 1000:.1f} ms per case)")
    print(f"one sweep (timers.sweep: + {checked['overdue']} steps marked overdue): {sweep:.3f} s "
          f"(CPU time of this process {cpu:.3f} s)")
    clock.set_clock(None)
    large.dispose()


if __name__ == "__main__":
    main()
