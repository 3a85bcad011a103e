"""Benchmark: one 一征三议两公开 consultation taking many opinions — what registering the n-th 登记意见 costs.

    .venv/bin/python bench/consultation_bench.py                        # a temporary SQLite file, 400 opinions
    .venv/bin/python bench/consultation_bench.py --opinions 1000 --every 200
    .venv/bin/python bench/consultation_bench.py --database postgresql+psycopg://postgres@127.0.0.1:5432/minyi_consult

One matter of processes/yizheng_sanyi.bpmn, its opinions registered one after another by the 社区“两委”. The
completions alternate between a warm one (the case's workflow still in this process's memory, as on a single
server that handled the step before) and a cold one (read back from the database first, as on another server).
For each block of `--every` opinions it prints the median of each kind and the size of the stored state, so the
growth with the number of opinions shows: every finished round keeps its own copy of the case data, the list of
opinions included. The engine's clock is pinned (`pinned.py`), so the run is the same on any date.
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

from sqlalchemy import func, select  # noqa: E402

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store import migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import CaseState  # noqa: E402
from engine.work import cases, runtime  # noqa: E402
from pinned import pin_clock  # noqa: E402

CONSULTATION = {"title": "幸福小区环境综合整治", "description": "小区路面硬化、煤池改造、车位规划和绿化。",
                "topic": "小区整治", "consult_from": "2026-11-23", "consult_until": "2026-11-30",
                "way_survey": "true"}


def opinion(n: int) -> dict[str, str]:
    return {"opinion_way": "问卷", "opinion_by": f"居民{n}", "opinion_stance": "建议",
            "opinion_content": f"第{n}份问卷:车位优先规划给老年住户,主路硬化时注意排水。", "last_opinion": "false"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--opinions", type=int, default=400)
    parser.add_argument("--every", type=int, default=100)
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    db = Database(args.database or f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    migrate.upgrade(db)
    deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
    liangwei = users.create_user(db, "liangwei", "bench-password", "周书记", ["社区“两委”"])
    started = cases.start_case(db, liangwei, "yizheng_sanyi", CONSULTATION)
    task_id = started.new_tasks[0].id
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}"
          f" · {db.engine.url.get_backend_name()}")
    print(f"{'opinions':>9} {'warm ms':>9} {'cold ms':>9} {'state kB':>9}")
    warm: list[float] = []
    cold: list[float] = []
    for n in range(1, args.opinions + 1):
        if n % 2 == 0:
            runtime.forget_all()
        began = time.perf_counter()
        result = cases.complete_task(db, liangwei, task_id, opinion(n))
        (cold if n % 2 == 0 else warm).append((time.perf_counter() - began) * 1000)
        task_id = result.new_tasks[0].id
        if n % args.every == 0:
            with db.read() as session:
                size = session.scalar(select(func.length(CaseState.state)).where(CaseState.case_id == started.case_id))
            print(f"{n:>9} {statistics.median(warm):>9.1f} {statistics.median(cold):>9.1f} {size / 1024:>9.0f}")
            warm, cold = [], []
    db.dispose()


if __name__ == "__main__":
    main()
