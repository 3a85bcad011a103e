"""Benchmark: the 考核 page of a whole 区 (100 units) with many cases in the database.

    .venv/bin/python bench/rankings_bench.py [--cases 100000] [--database URL] [--requests 7] [--reuse]

(--reuse times the pages again on a database an earlier run filled, without inserting anything.)

A 区 of 100 units is built (1 区, 5 街道, 20 社区, 74 网格). One real 民情 case is run through the
engine; its case row, task index and audit events are copied with bulk inserts (PostgreSQL's COPY) into
random 社区 and 网格 over the year before the pinned clock (kinds, ratings, times varied; 4 % of the copies
also get a 退单, 3 % an escalation to the 督办, 2 % an approved 延期). The copies' events carry placeholder
hashes and no workflow state: the page reads neither. Then every case's kept 考核 figures are computed from
its rows (`casefigures.refresh_all`, what the engine does in each transaction; timed apart). The page is
timed through the Flask test client for the 区's auditor — the 街道 ranking of the last month, of the last
quarter, of the year, and a 社区's 网格.
Prints median and p95 server time per page.
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
from engine.people import units, users  # noqa: E402
from engine.store import casefigures, migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import AuditEvent, Case, ExtensionRequest, HumanTask, Unit  # noqa: E402
from district import analyze, bulk_insert  # noqa: E402
from pinned import PINNED_AT, pin_clock  # noqa: E402

PASSWORD = "bench-password"
STAFF = {"clerk": "受理员", "leader": "社区负责人", "handler": "承办人", "auditor": "审计"}
KINDS = ["即办件", "承诺件", "补办件", "上报件", "建议件"]
RATINGS = ["满意", "满意", "基本满意", "不满意", None]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build_district(db: Database) -> tuple[int, list[int], int]:
    """The 区, the units cases go to (社区 and 网格), and one 社区."""
    with db.write() as session:
        district = units.create_unit(session, "bench", "龙山区", "区").id
        places, communities = [], []
        grids_left = 74
        for s in range(5):
            street = units.create_unit(session, "bench", f"第{s + 1}街道", "街道", district).id
            for c in range(4):
                community = units.create_unit(session, "bench", f"第{s + 1}-{c + 1}社区", "社区", street).id
                communities.append(community)
                places.append(community)
                for g in range(min(4 if (s, c) != (4, 3) else 2, grids_left)):
                    places.append(units.create_unit(session, "bench", f"第{s + 1}-{c + 1}-{g + 1}网格", "网格",
                                                    community).id)
                    grids_left -= 1
        total = session.scalar(select(func.count(Unit.id)).where(
            Unit.path.startswith(f"/{district}/")))
    assert total == 100, total
    return district, places, communities[0]


def model_case(db: Database, unit_id: int) -> str:
    from tests.minqing import Matter

    staff = {u: users.create_user(db, u, PASSWORD, u, [], unit_id=unit_id, grants=[(r, unit_id)])
             for u, r in STAFF.items()}
    deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
    m = Matter(db, staff)
    m.do("UserTask_classify", "leader", kind="承诺件", promised_date="2026-12-01")
    m.do("UserTask_handle_promised", "handler", handling_result="已办")
    m.do("UserTask_feedback", "handler", feedback_method="单项式反馈", answer="已处理", answered_at="2026-11-23")
    m.do("UserTask_rate", "clerk", rating="满意")
    return m.number


def copy_cases(db: Database, number: str, n: int, places: list[int], batch: int = 2000) -> None:
    rnd = random.Random(8)
    with db.read() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id).order_by(HumanTask.id)).all()
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)).all()
        model = {c.name: getattr(case, c.key) for c in Case.__table__.columns if c.name != "id"}
        task_rows = [{c.name: getattr(t, c.key) for c in HumanTask.__table__.columns if c.name != "id"} for t in tasks]
        event_rows = [{c.name: getattr(e, c.key) for c in AuditEvent.__table__.columns if c.name != "id"}
                      for e in events]
        next_id = session.scalar(select(func.max(Case.id))) + 1
        next_task = session.scalar(select(func.max(HumanTask.id))) + 1
    started = time.perf_counter()
    handle = next(t for t in task_rows if t["step_id"] == "UserTask_handle_promised")
    for first in range(0, n, batch):
        case_rows, human, trail, extensions = [], [], [], []
        for case_id in range(next_id + first, next_id + min(first + batch, n)):
            shift = timedelta(minutes=rnd.randint(0, 60 * 24 * 365))
            took = timedelta(hours=rnd.randint(1, 24 * 10))
            rating = rnd.choice(RATINGS)
            start = PINNED_AT - shift
            place = rnd.choice(places)
            case_rows.append({**model, "id": case_id, "number": f"MQ-RANK-{case_id:07d}", "kind": rnd.choice(KINDS),
                              "unit_id": place, "rating": rating, "revision": 1,
                              "status": "completed" if rating else "running", "started_at": start,
                              "updated_at": start + took, "completed_at": start + took if rating else None})
            for t in task_rows:
                late = rnd.random() < 0.1
                human.append({**t, "id": next_task, "case_id": case_id, "unit_id": place,
                              "task_uuid": str(uuid.uuid4()),
                              "created_at": t["created_at"] - shift,
                              "completed_at": (t["completed_at"] - shift + (timedelta(days=2) if late else timedelta()))
                              if t["completed_at"] else None,
                              "due_at": t["due_at"] - shift if t["due_at"] else None})
                if t is handle and rnd.random() < 0.02:
                    extensions.append({"human_task_id": next_task, "case_id": case_id, "requested_by": "handler",
                                       "requested_at": start, "reason": "材料未到", "requested_due": start + took,
                                       "status": "approved"})
                next_task += 1
            extra = []
            if rnd.random() < 0.04:
                extra.append(("task_completed", "UserTask_handle_promised", {"values": {"return_to_leader": True}}))
            if rnd.random() < 0.03:
                extra.append(("escalated", "UserTask_handle_promised", {"to": "民情监督员"}))
            seq = 0
            for e in event_rows:
                seq += 1
                trail.append({**e, "case_id": case_id, "seq": seq, "at": e["at"] - shift, "prev_hash": "0" * 64,
                              "hash": f"{case_id:032d}{seq:032d}", "global_seq": None, "global_prev_hash": None,
                              "global_hash": None})
            for kind, step, data in extra:
                seq += 1
                trail.append({**event_rows[-1], "case_id": case_id, "seq": seq, "kind": kind, "step_id": step,
                              "data": data, "at": start + took, "prev_hash": "0" * 64,
                              "hash": f"{case_id:032d}{seq:032d}", "global_seq": None, "global_prev_hash": None,
                              "global_hash": None})
        for table, rows in ((Case, case_rows), (HumanTask, human), (AuditEvent, trail),
                            (ExtensionRequest, extensions)):
            bulk_insert(db, table.__table__, rows)
        if (first // batch) % 50 == 49:
            print(f"  {first + batch} cases …", flush=True)
    print(f"inserted {n} cases in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with db.write() as session:  # the figures each case keeps, as the engine would have written them
        casefigures.refresh_all(session.connection())
    print(f"kept figures of {n} cases computed in {time.perf_counter() - started:.1f} s")
    analyze(db)


def measure(db: Database, district: int, community: int, requests: int) -> dict[str, list[float]]:
    from tests.web.conftest import login
    from web import create_app

    if not any(u.username == "district" for u in users.list_users(db)):
        users.create_user(db, "district", PASSWORD, "区纪工委", [], grants=[("审计", district)])
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": db.url, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    login(client, "district", PASSWORD)
    pages = {"区: 街道, one month": "/assessment/?period=2026-10",
             "区: 街道, one quarter": "/assessment/?period=2026-Q3",
             "区: 网格, one month": "/assessment/?period=2026-10&level=网格&sort=overdue",
             "区: 街道, the year": "/assessment/?period=2026",
             "社区: 网格, one month": f"/assessment/?unit={community}&period=2026-10"}
    times: dict[str, list[float]] = {}
    for name, url in pages.items():
        assert client.get(url).status_code == 200  # warm up caches (diagram parse, templates)
        times[name] = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url)
            times[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    app.extensions["minyi_db"].dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", default="")
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/rankings-bench.db"
    db = Database(url)
    migrate.upgrade(db)
    if args.reuse:
        with db.read() as session:
            district = session.scalar(select(Unit.id).where(Unit.name == "龙山区"))
            community = session.scalar(select(Unit.id).where(Unit.name == "第1-1社区"))
            args.cases = session.scalar(select(func.count(Case.id)))
    else:
        district, places, community = build_district(db)
        copy_cases(db, model_case(db, community), args.cases, places)
    print(f"{platform.node()} · {platform.processor() or platform.machine()} · Python {platform.python_version()}"
          f" · {db.engine.dialect.name} · {args.cases} cases · 100 units")
    for name, values in measure(db, district, community, args.requests).items():
        print(f"{name:24s} median {pct(values, 50):8.1f} ms   p95 {pct(values, 95):8.1f} ms   (n={len(values)})")
    db.dispose()


if __name__ == "__main__":
    main()
