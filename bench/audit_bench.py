"""Benchmark: the auditor's trace page and statistics page with many cases in the database.

    .venv/bin/python bench/audit_bench.py [--cases 100000] [--database URL] [--requests 200] [--reuse]

(--reuse times the pages again on a database an earlier run filled, upgraded to the newest schema first.)

One real 民情 case is run through the engine; its case row, workflow state, task index and audit
events are then copied with bulk inserts (COPY on PostgreSQL; each copy's hash chain recomputed, kinds,
topics, channels, ratings and times varied) into the 社区 and 网格 of a district of 100 units
(`bench/district.py`; the auditor holds 审计 at the 区, so the pages are 区-wide); the figures the engine
keeps in each transaction (`casefigures`, `worktallies`) are then computed for the copies, timed apart.
The pages are timed through the Flask test client. Prints median and p95 server time per page.
"""
from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store import audit_chain, casefigures, migrate, worktallies  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import AuditEvent, Case, CaseState, HumanTask, Unit  # noqa: E402
from district import analyze, build, bulk_insert, fresh  # noqa: E402
from pinned import pin_clock  # noqa: E402

PASSWORD = "bench-password"
STAFF = {"clerk": "受理员", "leader": "社区负责人", "handler": "承办人", "auditor": "审计"}
KINDS = ["即办件", "承诺件", "补办件", "上报件", "建议件"]
TOPICS = ["社区治安", "邻里纠纷", "水电气暖", "医疗卫生", "环境绿化", "政策咨询"]
CHANNELS = ["构筑平台及时受理", "走家入户上门受理", "搭建桥梁定期受理", "专门机构快速受理", "政务大厅集中受理"]
RATINGS = ["满意", "满意", "基本满意", "不满意", None]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def model_case(db: Database) -> str:
    from tests.minqing import Matter

    staff = {u: users.create_user(db, u, PASSWORD, u, [r]) for u, r in STAFF.items()}
    deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="即办件")
    m.do("UserTask_handle_immediate", "handler", handling_result="已办")
    m.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已处理", answered_at="2026-11-23")
    m.do("UserTask_rate", "clerk", rating="满意")
    return m.number


def copy_cases(db: Database, number: str, n: int, places: list[int], batch: int = 2000) -> None:
    """Bulk inserts of `n` copies of the model case in the units `places` (hash chains recomputed per copy)."""
    rnd = random.Random(8)
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        state = session.get(CaseState, case.id)
        tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
        model = {c.name: getattr(case, c.key) for c in Case.__table__.columns if c.name != "id"}
        blob, data = state.state, state.data
        task_rows = [{c.name: getattr(t, c.key) for c in HumanTask.__table__.columns if c.name != "id"} for t in tasks]
        event_rows = [{c.name: getattr(e, c.key) for c in AuditEvent.__table__.columns if c.name != "id"}
                      for e in events]
        next_id = session.scalar(select(func.max(Case.id))) + 1
    started = time.perf_counter()
    for first in range(0, n, batch):
        case_rows, states, human, trail = [], [], [], []
        for case_id in range(next_id + first, next_id + min(first + batch, n)):
            shift = timedelta(minutes=rnd.randint(0, 60 * 24 * 365))
            took = timedelta(hours=rnd.randint(1, 24 * 10))
            kind, rating, unit_id = rnd.choice(KINDS), rnd.choice(RATINGS), rnd.choice(places)
            done = rating is not None
            case_rows.append({**model, "id": case_id, "number": f"MQ-BENCH-{case_id:07d}", "kind": kind,
                              "unit_id": unit_id,
                              "topic": rnd.choice(TOPICS), "channel": rnd.choice(CHANNELS), "rating": rating,
                              "status": "completed" if done else "running",
                              "started_at": model["started_at"] - shift,
                              "updated_at": model["started_at"] - shift + took,
                              "completed_at": model["started_at"] - shift + took if done else None})
            states.append({"case_id": case_id, "format": 1, "state": blob, "data": data})
            for t in task_rows:
                late = rnd.random() < 0.1
                human.append({**t, "case_id": case_id, "unit_id": unit_id, "task_uuid": str(uuid.uuid4()),
                              "created_at": t["created_at"] - shift,
                              "completed_at": (t["completed_at"] - shift + (timedelta(days=2) if late else timedelta()))
                              if t["completed_at"] else None,
                              "due_at": t["due_at"] - shift if t["due_at"] else None})
            prev = audit_chain.GENESIS
            for e in event_rows:
                at = e["at"] - shift
                digest = audit_chain.event_hash(case_id, e["seq"], at, e["actor"], e["kind"], e["step_id"], e["data"],
                                                prev, e["step_name"], e["lane"])
                trail.append({**e, "case_id": case_id, "at": at, "prev_hash": prev, "hash": digest,
                              "global_seq": None, "global_prev_hash": None, "global_hash": None})
                prev = digest
        for table, rows in ((Case, case_rows), (CaseState, states), (HumanTask, human), (AuditEvent, trail)):
            bulk_insert(db, table.__table__, rows)
    print(f"inserted {n} cases in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with db.write() as session:  # what the engine keeps in each transaction, for the rows copied behind it
        casefigures.refresh_all(session.connection())
        worktallies.refresh_all(session.connection())
    print(f"kept figures and work tallies computed in {time.perf_counter() - started:.1f} s")


def measure(db: Database, n: int, requests: int) -> dict[str, list[float]]:
    from tests.web.conftest import login
    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": db.url, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    login(client, "auditor", PASSWORD)
    rnd = random.Random(1)
    with db.read() as session:
        first = session.scalar(select(func.min(Case.id)).where(Case.number.like("MQ-BENCH-%")))
    times: dict[str, list[float]] = {"trace": [], "statistics": [], "statistics (one month)": [], "search": []}
    pages = [("trace", lambda: f"/audit/cases/MQ-BENCH-{first + rnd.randrange(n):07d}", requests),
             ("search", lambda: "/audit/?kind=承诺件&overdue=1", max(5, requests // 20)),
             ("statistics", lambda: "/audit/statistics", 7),
             ("statistics (one month)", lambda: "/audit/statistics?from=2026-06-01&to=2026-06-30", 7)]
    for name, url, count in pages:
        client.get(url())  # warm up caches (diagram parse, templates)
        for _ in range(count):
            started = time.perf_counter()
            response = client.get(url())
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    app.extensions["minyi_db"].dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default="", help="PostgreSQL URL (emptied first); default a SQLite file")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/audit-bench.db"
    db = Database(url)
    if args.reuse:
        started = time.perf_counter()
        migrate.upgrade(db)
        print(f"upgraded to the newest schema in {time.perf_counter() - started:.1f} s")
        with db.read() as session:
            args.cases = session.scalar(select(func.count(Case.id)).where(Case.number.like("MQ-BENCH-%")))
            count = session.scalar(select(func.count(Unit.id)))
    else:
        fresh(db)
        district = build(db)
        copy_cases(db, model_case(db), args.cases, district.case_units)
        analyze(db)
        count = district.count
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}"
          f" · {db.engine.dialect.name} · {args.cases} cases in {count} units")
    for name, values in measure(db, args.cases, args.requests).items():
        print(f"{name:24s} median {pct(values, 50):8.1f} ms   p95 {pct(values, 95):8.1f} ms   (n={len(values)})")
    db.dispose()


if __name__ == "__main__":
    main()
