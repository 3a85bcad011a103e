"""Benchmark: reads outside a transaction (how `Database.read` runs on PostgreSQL) against the same reads inside
one (how they ran before, and how `Database.snapshot` runs), side by side on one database.

    .venv/bin/python bench/read_bench.py --database postgresql://postgres@127.0.0.1:5432/minyi_read_bench
    .venv/bin/python bench/read_bench.py            # a temporary SQLite file (where both are read transactions)

Runs, in alternating blocks, a leader's task list (`tasklist.overview`, the page's one engine call), opening a
step (`tasklist.get_task`) and reading the signed-in account with its unread notifications (`users.signed_in`,
before every staff page), once through a `Database` whose reads are `read()` and once through one whose reads are
`snapshot()` (BEGIN … ROLLBACK around them). Prints the medians and their ratio.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store import migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.work import cases, tasklist  # noqa: E402
from engine_bench import INTAKE, STAFF  # noqa: E402
from pinned import pin_clock  # noqa: E402


class InTransaction(Database):
    """Every read in a transaction of its own, as `snapshot()` runs one."""

    read = Database.snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=20)
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    plain = Database(url)
    migrate.upgrade(plain)
    deployments.deploy_directory(plain, ROOT / "processes", SYSTEM)
    actors = {u: users.create_user(plain, u, "bench-password", u, [r]) for u, r in STAFF.items()}
    task_id = 0
    for _ in range(args.cases):
        task_id = cases.start_case(plain, actors["clerk"], "minqing_liushuixian", INTAKE).new_tasks[0].id
    leader = actors["leader"]
    timed = {"task list": lambda db: tasklist.overview(db, leader, "queue"),
             "open a step": lambda db: tasklist.get_task(db, leader, task_id),
             "signed-in account": lambda db: users.signed_in(db, leader.id, 0)}
    dbs = {"read()": plain, "in a transaction": InTransaction(url)}
    figures = {(what, how): [] for what in timed for how in dbs}
    for _ in range(args.blocks):
        for how, db in dbs.items():
            for what, call in timed.items():
                for _ in range(30):
                    began = time.perf_counter()
                    call(db)
                    figures[what, how].append(time.perf_counter() - began)
    print(f"machine: {platform.node()} {platform.machine()} python {platform.python_version()}; "
          f"database {plain.engine.dialect.name}; {args.cases} cases")
    print(f"{'':<20}{'read() ms':>12}{'in a transaction ms':>22}{'ratio':>8}")
    for what in timed:
        fast, slow = (statistics.median(figures[what, how]) * 1000 for how in dbs)
        print(f"{what:<20}{fast:>12.2f}{slow:>22.2f}{fast / slow:>8.2f}")
    for db in dbs.values():
        db.dispose()


if __name__ == "__main__":
    main()
