"""Benchmark: the staff task lists with many cases spread over a district of 100 units.

    .venv/bin/python bench/inbox_bench.py [--cases 10000 100000] [--database URL] [--requests 100]

The district (`bench/district.py`): 1 区, 3 街道, 12 社区, 84 网格. For each size, cases are bulk-inserted
(COPY on PostgreSQL, one INSERT over all rows on SQLite — never the engine) into the 社区 and 网格 at random,
each with four completed steps; one case in ten is open at 承诺件办理 (承办人, wanted in the case's 社区),
and one open case in five more at 上级批复 (上级部门, wanted at the 区). One open step in twenty of the
measured 社区 is assigned to its `handler`.

Measured through the Flask test client (server time): in one 社区, `handler` (承办人: 我的待办, 待认领, page 5,
filtered) and `leader` (社区负责人: 本组待办 of the 社区's subtree); at the 区, `quleader` (社区负责人 and
上级部门 held at the 区: 本组待办 of the whole district, its page 5, and 待认领 of the 区). Prints median
and p95 per page and size, and the growth of p95 from the smallest to the largest size.
"""
from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import Case, DiagramVersion, HumanTask, HumanTaskRole  # noqa: E402
from district import District, analyze, build, bulk_insert, fresh  # noqa: E402
from pinned import pin_clock  # noqa: E402

PASSWORD = "bench-password"
STEPS = [("UserTask_classify", "分类交办", "社区负责人"), ("UserTask_handle_promised", "承诺件办理", "承办人"),
         ("UserTask_feedback", "反馈答复", "承办人"), ("UserTask_rate", "一事一评", "居民")]
SUPERIOR = ("UserTask_superior_reply", "上级批复", "上级部门")
KINDS = ["即办件", "承诺件", "补办件", "上报件", "建议件"]
TOPICS = ["社区治安", "邻里纠纷", "水电气暖", "医疗卫生", "环境绿化", "政策咨询"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def seed(db: Database, n: int, batch: int = 20_000) -> District:
    district = build(db)
    home = district.communities[0]
    handler = users.create_user(db, "handler", PASSWORD, "张承办", ["承办人"], unit_id=home)
    users.create_user(db, "handler2", PASSWORD, "赵承办", ["承办人"], unit_id=district.communities[1])
    users.create_user(db, "leader", PASSWORD, "李主任", ["社区负责人"], unit_id=home)
    users.create_user(db, "quleader", PASSWORD, "区民情办", ["社区负责人", "上级部门"], unit_id=district.root)
    deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
    with db.read() as session:
        version = session.scalar(select(DiagramVersion.id).where(DiagramVersion.process_id == "minqing_liushuixian"))
    rnd = random.Random(3)
    places = district.case_units
    base = datetime(2026, 11, 20, tzinfo=timezone.utc)
    task_id = 0
    for first in range(0, n, batch):
        cases, tasks, roles = [], [], []
        for case_id in range(first + 1, min(first + batch, n) + 1):
            started = base - timedelta(minutes=rnd.randint(0, 60 * 24 * 365))
            running = case_id % 10 == 0
            unit = rnd.choice(places)
            community = district.community_of[unit]
            cases.append({"id": case_id, "number": f"MQ-BENCH-{case_id:07d}", "version_id": version,
                          "process_id": "minqing_liushuixian", "unit_id": unit, "title": f"暖气不热 {case_id}",
                          "topic": rnd.choice(TOPICS), "kind": rnd.choice(KINDS), "channel": "构筑平台及时受理",
                          "status": "running" if running else "completed", "started_by": "clerk",
                          "started_at": started, "updated_at": started, "revision": 1, "sandbox": False})
            steps = [(*step, community) for step in STEPS]
            if running and case_id % 50 == 0:  # one open case in five waits for the 区's 上级批复
                steps[1] = (*SUPERIOR, district.root)
            for i, (step, name, role, wanted_in) in enumerate(steps):
                task_id += 1
                open_ = running and i == 1
                due = started + timedelta(days=rnd.randint(1, 30))
                assigned = open_ and role == "承办人" and community == home and case_id % 200 == 0
                tasks.append({"id": task_id, "case_id": case_id, "unit_id": unit, "task_uuid": str(uuid.uuid4()),
                              "step_id": step,
                              "name": name, "lane": role, "status": "READY" if open_ else "COMPLETED",
                              "assignee_id": handler.id if assigned else None,
                              "created_at": started + timedelta(hours=i), "due_at": due,
                              "completed_at": None if open_ else started + timedelta(hours=i + 1),
                              "completed_by_id": None if open_ else handler.id})
                roles.append({"human_task_id": task_id, "role": role, "unit_id": wanted_in, "open": open_,
                              "due_at": due})
        for model, rows in ((Case, cases), (HumanTask, tasks), (HumanTaskRole, roles)):
            bulk_insert(db, model.__table__, rows)
    analyze(db)
    return district


PAGES = {  # (who, page): the 社区's handler and leader, and the 区
    "社区 承办人 我的待办": ("handler", "/tasks/inbox"),
    "社区 承办人 待认领": ("handler", "/tasks/queue"),
    "社区 承办人 待认领 p5": ("handler", "/tasks/queue?page=5"),
    "社区 承办人 待认领 筛选": ("handler", "/tasks/queue?kind=承诺件&topic=水电气暖"),
    "社区 负责人 本组待办": ("leader", "/tasks/team"),
    "区 本组待办": ("quleader", "/tasks/team"),
    "区 本组待办 p5": ("quleader", "/tasks/team?page=5"),
    "区 待认领": ("quleader", "/tasks/queue"),
}


def measure(db: Database, requests: int) -> dict[str, list[float]]:
    from tests.web.conftest import login
    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": db.url, "WTF_CSRF_ENABLED": False})
    clients = {}
    for who in sorted({who for who, _ in PAGES.values()}):
        clients[who] = app.test_client()
        login(clients[who], who, PASSWORD)
    times: dict[str, list[float]] = {}
    for name, (who, url) in PAGES.items():
        client = clients[who]
        assert client.get(url).status_code == 200
        times[name] = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    app.extensions["minyi_db"].dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--database", default="", help="PostgreSQL URL (emptied first); default a SQLite file")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}")
    results: dict[int, dict[str, list[float]]] = {}
    for n in args.cases:
        url = args.database or f"sqlite:///{tempfile.mkdtemp()}/inbox-bench.db"
        db = Database(url)
        fresh(db)
        started = time.perf_counter()
        district = seed(db, n)
        with db.read() as session:
            open_tasks = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.status == "READY"))
        print(f"{db.engine.dialect.name}: {n} cases in {district.count} units, {open_tasks} open steps, "
              f"seeded in {time.perf_counter() - started:.1f} s")
        results[n] = measure(db, args.requests)
        for name, values in results[n].items():
            print(f"  {name:22s} median {pct(values, 50):7.1f} ms   p95 {pct(values, 95):7.1f} ms")
        db.dispose()
    small, large = min(results), max(results)
    if small != large:
        for name in results[large]:
            ratio = pct(results[large][name], 95) / pct(results[small][name], 95)
            print(f"growth p95 {name:22s} {small} → {large}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
