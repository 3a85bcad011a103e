"""Benchmark: full 民情流水线 cases through the engine layer vs raw SpiffWorkflow in memory.

    .venv/bin/python bench/engine_bench.py [--cases N] [--database URL [URL …]]

Prints median and p95 of "start" and "complete task" for both, their ratio (of the overall medians, and
the median of the per-block ratios, which a drift in the shared machine's speed moves less), and the
stored bytes per finished case (workflow state + task index + audit events).

Also the *durable floor* on each database: the least a persisted step must do — read the stored state,
restore the workflow, complete the step, dump the state, write it and commit, with nothing else (no lock,
authorisation, form, task index or audit) — so engine / floor says what the engine adds beyond that.
Several databases (e.g. `sqlite:///… postgresql://…`, or `sqlite` for a temporary file) run in the same
alternating blocks, and the ratio of their engine completions is printed. `--prepare-threshold` sets, per
PostgreSQL database in the order given, after how many runs psycopg prepares a statement on a connection
(`none`: never; psycopg's default, which Minyi keeps, is 5), and `--prepared-max` how many prepared statements a
connection keeps (psycopg's default: 100, the least used dropped first): copies of one PostgreSQL server's
database with `5 none` measure what server-side prepared statements are worth. `--sqlite-synchronous` sets, per
database in order, SQLite's `synchronous` (`-` for a PostgreSQL one): Minyi's NORMAL does not sync the WAL at a
commit, FULL does, as PostgreSQL does by default — `--database sqlite sqlite postgresql://… --sqlite-synchronous
NORMAL FULL -` compares PostgreSQL with SQLite at both, and each other database is compared with each SQLite one.
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

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, func, select  # noqa: E402

from engine.actor import SYSTEM  # noqa: E402
from engine.bpmn import deployments, diagram, forms, spiff  # noqa: E402
from engine.people import users  # noqa: E402
from engine.store import driver, migrate  # noqa: E402
from engine.store.db import Database  # noqa: E402
from engine.store.models import AuditEvent, CaseState, HumanTask, HumanTaskRole  # noqa: E402
from engine.work import cases  # noqa: E402
from pinned import pin_clock  # noqa: E402

INTAKE = {"channel": "构筑平台及时受理", "topic": "水电气暖", "title": "暖气不热", "description": "3号楼暖气不热",
          "reporter_name": "刘大爷", "reporter_contact": "13800001111", "address": "3号楼"}
FEEDBACK = {"feedback_method": "单项式反馈", "answer": "已处理", "answered_at": "2026-11-23"}
# (step, who, values) per kind; every path ends with feedback and rating
PATHS = {
    "即办件": [("UserTask_classify", "leader", {"kind": "即办件"}),
             ("UserTask_handle_immediate", "handler", {"handling_result": "已办"})],
    "承诺件": [("UserTask_classify", "leader", {"kind": "承诺件", "promised_date": "2026-12-30"}),
             ("UserTask_handle_promised", "handler", {"handling_result": "已办"})],
    "补办件": [("UserTask_classify", "leader", {"kind": "补办件"}),
             ("UserTask_notify_missing", "handler", {"missing_documents": "户口簿"}),
             ("UserTask_supplement", "clerk", {"supplied": True, "supplied_documents": "户口簿"}),
             ("UserTask_handle_supplemented", "handler", {"handling_result": "已办"})],
    "上报件": [("UserTask_classify", "leader", {"kind": "上报件"}),
             ("UserTask_report_up", "handler", {"report_department": "区住建局", "report_content": "上报"}),
             ("UserTask_superior_reply", "superior", {"superior_decision": "批准", "reply": "同意",
                                                       "reply_date": "2026-11-23"})],
    "建议件": [("UserTask_classify", "leader", {"kind": "建议件"}),
             ("UserTask_advise", "handler", {"explanation": "说明", "referral_department": "区社保局"})],
}
TAIL = [("UserTask_feedback", "handler", FEEDBACK), ("UserTask_rate", "clerk", {"rating": "满意"})]
STAFF = {"clerk": "受理员", "leader": "社区负责人", "handler": "承办人", "superior": "上级部门"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def engine_cases(db: Database, actors: dict, numbers: range) -> tuple[list[float], list[float]]:
    starts, completes = [], []
    kinds = list(PATHS)
    for i in numbers:
        t0 = time.perf_counter()
        result = cases.start_case(db, actors["clerk"], "minqing_liushuixian", INTAKE)
        starts.append(time.perf_counter() - t0)
        next_ids = {t.id for t in result.new_tasks}
        for _step, who, values in PATHS[kinds[i % len(kinds)]] + TAIL:
            task_id = min(next_ids)
            t0 = time.perf_counter()
            done = cases.complete_task(db, actors[who], task_id, values)
            completes.append(time.perf_counter() - t0)
            next_ids = {t.id for t in done.new_tasks} or next_ids - {task_id}
        assert done.case_status == "completed", done
    return starts, completes


def run_raw(n: int, first: int = 0) -> tuple[list[float], list[float]]:
    xml = (ROOT / "processes" / "minqing_liushuixian.bpmn").read_bytes()
    d = diagram.load(xml, "minqing_liushuixian.bpmn")
    runnable = d.engine
    starts, completes = [], []
    kinds = list(PATHS)
    intake = forms.validate(d.start_form, INTAKE, {})  # same data as the engine gets
    for i in range(first, first + n):
        t0 = time.perf_counter()
        workflow = spiff.new_workflow(runnable, intake)
        spiff.advance(workflow)
        starts.append(time.perf_counter() - t0)
        for step, _who, values in PATHS[kinds[i % len(kinds)]] + TAIL:
            task = next(t for t in spiff.ready_human_tasks(workflow) if spiff.spec_name(t) == step)
            cleaned = forms.validate(d.steps[step].form, values, {})  # same data as the engine gets
            t0 = time.perf_counter()
            spiff.complete(workflow, task, cleaned)
            completes.append(time.perf_counter() - t0)
        assert workflow.is_completed()
    return starts, completes


FLOOR = Table("bench_durable_floor", MetaData(), Column("id", Integer, primary_key=True),
              Column("state", LargeBinary, nullable=False))
_FLOOR_INSERT = driver.Statement("INSERT INTO bench_durable_floor (id, state) VALUES (:id, :state)")
_FLOOR_READ = driver.Statement("SELECT state FROM bench_durable_floor WHERE id = :id")
_FLOOR_WRITE = driver.Statement("UPDATE bench_durable_floor SET state = :state WHERE id = :id")


def run_floor(db: Database, numbers: range) -> tuple[list[float], list[float]]:
    """Each step in its own transaction: read the state, restore, complete, dump, write, commit."""
    xml = (ROOT / "processes" / "minqing_liushuixian.bpmn").read_bytes()
    d = diagram.load(xml, "minqing_liushuixian.bpmn")
    intake = forms.validate(d.start_form, INTAKE, {})
    starts, completes = [], []
    kinds = list(PATHS)
    for i in numbers:
        t0 = time.perf_counter()
        workflow = spiff.new_workflow(d.engine, intake)
        spiff.advance(workflow)
        with db.engine.begin() as conn:
            driver.run(conn, _FLOOR_INSERT, {"id": i, "state": spiff.dump(workflow)})
        starts.append(time.perf_counter() - t0)
        for step, _who, values in PATHS[kinds[i % len(kinds)]] + TAIL:
            cleaned = forms.validate(d.steps[step].form, values, {})
            t0 = time.perf_counter()
            with db.engine.begin() as conn:
                workflow = spiff.restore(d.engine, driver.run(conn, _FLOOR_READ, {"id": i}).scalar_one())
                task = next(t for t in spiff.ready_human_tasks(workflow) if spiff.spec_name(t) == step)
                spiff.complete(workflow, task, cleaned)
                driver.run(conn, _FLOOR_WRITE, {"id": i, "state": spiff.dump(workflow)})
            completes.append(time.perf_counter() - t0)
        assert workflow.is_completed()
    return starts, completes


def stored_bytes(db: Database) -> float:
    with db.read() as session:
        n = session.scalar(select(func.count()).select_from(CaseState))
        state = session.scalar(select(func.sum(func.length(CaseState.state))))
        data = sum(len(str(d)) for d in session.scalars(select(CaseState.data)))
        events = sum(len(str(e.data)) + 200 for e in session.scalars(select(AuditEvent)))
        tasks = session.scalar(select(func.count()).select_from(HumanTask)) * 120
        roles = session.scalar(select(func.count()).select_from(HumanTaskRole)) * 30
        print(f"  per case: state {state / n:,.0f} B, data snapshot {data / n:,.0f} B, "
              f"audit ≈{events / n:,.0f} B, task index ≈{(tasks + roles) / n:,.0f} B")
        return (state + data + events + tasks + roles) / n


def set_prepare(db: Database, settings: dict[str, int | None]) -> None:
    """Every new psycopg connection of `db` (writes and reads) gets these attributes (`prepare_threshold`,
    `prepared_max`)."""
    from sqlalchemy import event

    def configure(conn, _record) -> None:  # noqa: ANN001
        for name, value in settings.items():
            setattr(conn, name, value)

    if not db.is_sqlite and settings:
        for engine in db.engines:
            event.listen(engine, "connect", configure)


def set_synchronous(db: Database, mode: str) -> None:
    """Every new connection of a SQLite `db` commits with `PRAGMA synchronous=<mode>`: Minyi runs NORMAL (in WAL,
    a commit survives the app crashing but not the machine losing power); FULL syncs the WAL at every commit, as
    PostgreSQL's default `synchronous_commit=on` does — the like-for-like durability to compare the two at."""
    from sqlalchemy import event

    def configure(conn, _record) -> None:  # noqa: ANN001 — after the app's own pragmas (listeners run in order)
        conn.execute(f"PRAGMA synchronous={mode}")

    if db.is_sqlite:
        event.listen(db.engine, "connect", configure)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--database", nargs="+", default=["sqlite"],
                        help="one or more database URLs; `sqlite` is a temporary file")
    parser.add_argument("--prepare-threshold", nargs="+", default=[],
                        help="per database, in order: psycopg's prepare_threshold (a number, or none)")
    parser.add_argument("--prepared-max", nargs="+", type=int, default=[],
                        help="per database, in order: psycopg's prepared_max")
    parser.add_argument("--sqlite-synchronous", nargs="+", choices=["NORMAL", "FULL", "-"], default=[],
                        help="per database, in order: SQLite's synchronous (Minyi's: NORMAL; `-` for a PostgreSQL one)")
    args = parser.parse_args()
    pin_clock()
    users.use_fast_hashing()
    with tempfile.TemporaryDirectory() as tmp:
        dbs = [Database(f"sqlite:///{tmp}/bench{n}.db" if url == "sqlite" else url)
               for n, url in enumerate(args.database)]
        for n, db in enumerate(dbs):
            prepare = {}
            if n < len(args.prepare_threshold):
                prepare["prepare_threshold"] = None if args.prepare_threshold[n] == "none" \
                    else int(args.prepare_threshold[n])
            if n < len(args.prepared_max):
                prepare["prepared_max"] = args.prepared_max[n]
            set_prepare(db, prepare)
            if n < len(args.sqlite_synchronous) and args.sqlite_synchronous[n] != "-":
                set_synchronous(db, args.sqlite_synchronous[n])

        def named(db: Database, n: int) -> str:
            mode = args.sqlite_synchronous[n] if n < len(args.sqlite_synchronous) else "-"
            return f"sqlite (synchronous {mode})" if db.is_sqlite and mode != "-" else db.engine.dialect.name

        run_raw(5)  # warm caches and imports
        actors = []
        for db in dbs:
            migrate.upgrade(db)
            FLOOR.drop(db.engine, checkfirst=True)
            FLOOR.create(db.engine)
            actors.append({u: users.create_user(db, u, "bench-password", u, [r]) for u, r in STAFF.items()})
            deployments.deploy_directory(db, ROOT / "processes", SYSTEM)
        # raw, floor and engine in alternating blocks, so a change in the shared machine's speed touches all
        raw_s, raw_c = [], []
        eng = [([], []) for _ in dbs]
        floor = [([], []) for _ in dbs]
        block_ratios: list[list[float]] = [[] for _ in dbs]
        floor_ratios: list[list[float]] = [[] for _ in dbs]
        block = max(1, args.cases // 10)
        for first in range(0, args.cases, block):
            count = min(block, args.cases - first)
            s, c = run_raw(count, first)
            raw_s += s
            raw_c += c
            raw_block = statistics.median(c)
            for n, db in enumerate(dbs):
                fs, fc = run_floor(db, range(first, first + count))
                floor[n][0].extend(fs)
                floor[n][1].extend(fc)
                s, c = engine_cases(db, actors[n], range(first, first + count))
                eng[n][0].extend(s)
                eng[n][1].extend(c)
                block_ratios[n].append(statistics.median(c) / raw_block)
                floor_ratios[n].append(statistics.median(c) / statistics.median(fc))
        print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''} "
              f"python {platform.python_version()}; cases {args.cases}")
        for n, db in enumerate(dbs):
            eng_s, eng_c = eng[n]
            floor_s, floor_c = floor[n]
            threshold = f", prepare_threshold {args.prepare_threshold[n]}" if n < len(args.prepare_threshold) else ""
            threshold += f", prepared_max {args.prepared_max[n]}" if n < len(args.prepared_max) else ""
            print(f"\ndatabase {named(db, n)}{threshold}")
            print(f"{'operation':<22}{'median ms':>12}{'p95 ms':>10}")
            for label, values in (("engine start", eng_s), ("raw start", raw_s), ("floor start", floor_s),
                                  ("engine complete", eng_c), ("raw complete", raw_c),
                                  ("floor complete", floor_c)):
                print(f"{label:<22}{statistics.median(values) * 1000:>12.2f}{pct(values, 95) * 1000:>10.2f}")
            print(f"ratio start (median)    {statistics.median(eng_s) / statistics.median(raw_s):.1f}x")
            print(f"ratio complete (median) {statistics.median(eng_c) / statistics.median(raw_c):.1f}x")
            print(f"ratio complete, median of the {len(block_ratios[n])} blocks' ratios "
                  f"{statistics.median(block_ratios[n]):.1f}x "
                  f"(blocks {min(block_ratios[n]):.1f}–{max(block_ratios[n]):.1f}x)")
            print(f"engine / durable floor, complete: {statistics.median(eng_c) / statistics.median(floor_c):.2f}x "
                  f"(median of the blocks' ratios {statistics.median(floor_ratios[n]):.2f}x)")
            print(f"stored bytes per finished case: {stored_bytes(db):,.0f}")
        # each other database against each SQLite one (against the first when none is SQLite)
        bases = [n for n, db in enumerate(dbs) if db.is_sqlite] or [0]
        for base in bases:
            for n, db in enumerate(dbs):
                if n == base or (db.is_sqlite and n < base):
                    continue
                print(f"\nengine complete, {named(db, n)} / {named(dbs[base], base)}: "
                      f"{statistics.median(eng[n][1]) / statistics.median(eng[base][1]):.2f}x; durable floor: "
                      f"{statistics.median(floor[n][1]) / statistics.median(floor[base][1]):.2f}x")
        for db in dbs:
            FLOOR.drop(db.engine, checkfirst=True)
            db.dispose()


if __name__ == "__main__":
    main()
