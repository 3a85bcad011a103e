"""Where a completion's time goes: wall-clock medians of each phase of `cases.complete_task`.

    .venv/bin/python bench/engine_phases.py [--cases N] [--database URL]

Runs the engine bench's 民情 cases (after 50 to warm up) with a timer around each phase, and prints the
median time per call of each phase next to the median of a whole completion. A sampling profiler misses
time spent waiting in system calls (SQLite's COMMIT writing the WAL); this counts it. The timers add about
a microsecond per call. Phases nest (the seal runs inside the commit, serializing inside the save).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import engine_bench as bench  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine.default import DefaultDialect  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments, forms, spiff  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store import audit_chain, migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.work import autosteps, cases, runtime, taskindex  # noqa: E402
from pinned import pin_clock  # noqa: E402

# (label, owner, attribute): what is timed, in the order printed
PHASES = [
    ("lock the step and its case (incl. session, BEGIN)", runtime, "lock_task"),
    ("validate the form", forms, "validate"),
    ("SpiffWorkflow step (complete + engine steps)", spiff, "complete"),
    ("mark the step completed (3 statements: step, queue rows, work tally)", runtime, "mark_completed"),
    ("audit: hash one event", audit_chain, "event_hash"),
    ("gateway decisions to audit events", autosteps.AutoSteps, "record"),
    ("save: all of it", runtime, "save"),
    ("save: snapshot of the workflow", spiff, "snapshot"),
    ("save: serialize the state", spiff, "dump"),
    ("save: task index, deadlines", taskindex, "sync_tasks"),
    ("commit: all of it", Session, "commit"),
    ("commit: SQLite/PostgreSQL COMMIT", DefaultDialect, "do_commit"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    times: dict[str, list[float]] = defaultdict(list)

    def timed(label: str, function):  # noqa: ANN001, ANN202
        def wrapper(*a, **k):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                times[label].append(time.perf_counter() - start)
        return wrapper

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database or f"sqlite:///{tmp}/phases.db")
        migrate.upgrade(db)
        actors = {u: users.create_user(db, u, "bench-password", u, [r]) for u, r in bench.STAFF.items()}
        deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
        bench.engine_cases(db, actors, range(0, 50))
        for label, owner, name in PHASES:
            setattr(owner, name, timed(label, getattr(owner, name)))
        event.remove(Session, "before_commit", audit_chain._seal)
        event.listen(Session, "before_commit", timed("commit: audit seal (events, global chain)", audit_chain._seal))
        cases.complete_task = timed("whole completion", cases.complete_task)
        bench.engine_cases(db, actors, range(0, args.cases))
        db.dispose()
    print(f"database {db.engine.dialect.name}; cases {args.cases}; medians per call "
          "(calls from starting cases included, except for the SpiffWorkflow step and the lock)")
    for label in ["whole completion"] + [p[0] for p in PHASES[:10]] + ["commit: all of it",
                                                                        "commit: audit seal (events, global chain)",
                                                                        "commit: SQLite/PostgreSQL COMMIT"]:
        values = times[label]
        print(f"  {label:<52}{statistics.median(values) * 1e6:>9.0f} µs   ({len(values)} calls)")


if __name__ == "__main__":
    main()
