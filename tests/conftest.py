"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, users, deployed diagrams."""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

# every save also converts the workflow the library's own way and fails if the texts differ (engine/bpmn/spiff.py)
os.environ.setdefault("MINYI_VERIFY_STATE", "1")

from engine import clock
from engine.actor import SYSTEM
from engine.bpmn import bpmngraph, deployments, diagram, expressions
from engine.people import users
from engine.store import casefigures, migrate, worktallies
from engine.store.db import Database
from engine.store.models import Base
from engine.work import runtime, tasklist

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
PROCESSES = ROOT / "processes"
SHARED = Path(os.environ.get("MINYI_SHARED") or ROOT.parent / "shared")  # the shared corpora and seeds
PG_ADMIN_URL = os.environ.get("MINYI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
# A developer without PostgreSQL opts out explicitly; CI never may. By default an unreachable server fails the run.
WITHOUT_PG = os.environ.get("MINYI_TEST_WITHOUT_PG", "") == "1" and not IN_CI
PG_UNREACHABLE = "PostgreSQL not reachable"

STAFF = {
    # username: (display name, roles)
    "clerk": ("王受理", ["受理员"]),
    "leader": ("李主任", ["社区负责人"]),
    "handler": ("张承办", ["承办人"]),
    "handler2": ("赵承办", ["承办人"]),
    "superior": ("街道民政科", ["上级部门"]),
    "supervisor": ("陈监督", ["民情监督员"]),
    "auditor": ("孙审计", ["审计"]),
    "liangwei": ("周书记", ["社区“两委”"]),
    "yishihui": ("吴议事", ["党员议事会"]),
    "daibiao": ("郑记录", ["居民代表会议"]),
    "gongzuo": ("冯干事", ["社区工作人员"]),
    "jianwei": ("钱监委", ["居务监督委员会"]),
}
PASSWORD = "minyi-test-pw"
users.use_fast_hashing()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> str | None:
    name = f"minyi_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        if not WITHOUT_PG:
            pytest.fail(f"{PG_UNREACHABLE} at {PG_ADMIN_URL}: {exc}\n"
                        "Start it (`make postgres`), point MINYI_TEST_PG at another server, or run without the "
                        "PostgreSQL half of the suite with MINYI_TEST_WITHOUT_PG=1 (never under CI=true).",
                        pytrace=False)
        yield None
        return
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def new_pg_database():
    """Make new, empty PostgreSQL databases (no tables) for this test alone; all dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def _make() -> str:
        name = f"minyi_fresh_{uuid.uuid4().hex[:10]}"
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001
            if IN_CI:
                pytest.fail(f"PostgreSQL is required under CI but not reachable at {PG_ADMIN_URL}: {exc}")
            pytest.skip("PostgreSQL not reachable (set CI=true to make this a failure)")
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield _make
    for name in made:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_pg_url(new_pg_database) -> str:
    """A new, empty PostgreSQL database for this test alone."""
    return new_pg_database()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """Debian's redis-server on a free port of 127.0.0.1 for this test run (nothing saved to disk)."""
    import redis

    from tests.serving import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI (make test installs Debian's redis-server)")
        pytest.skip("redis-server not installed (apt-get install redis-server; CI=true makes this a failure)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail(f"redis-server did not answer on port {port}")
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _empty_pg(url: str) -> None:
    """Empty every table of the test database and restart its sequences, leaving only the default unit every
    migrated database has (migration 0011). DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes every
    table new files on disk — 25 tables took 0.58 s a test on a busy 2-core host, DELETE 0.02 s."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(_emptying(conn)))
            conn.execute(text("INSERT INTO units (name, level, parent_id, beside, path, position, created_at) "
                              "VALUES ('本社区', '社区', NULL, FALSE, '/1/', 0, now())"))
    finally:
        engine.dispose()


_EMPTYING: list[str] = []


def _emptying(conn) -> str:  # noqa: ANN001
    """The statements emptying the tables (children first) and restarting the sequences they own, as one text."""
    if not _EMPTYING:
        tables = [t.name for t in Base.metadata.sorted_tables]
        owned = conn.execute(text(
            "SELECT DISTINCT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
            "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relname = ANY(:tables) "
            "ORDER BY s.relname"), {"tables": tables}).scalars().all()
        _EMPTYING.append("; ".join([*(f"DELETE FROM {t}" for t in reversed(tables)),
                                    *(f"ALTER SEQUENCE {s} RESTART" for s in owned)]))
    return _EMPTYING[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, sqlite_template) -> Database:
    """A migrated, empty database — each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "minyi.db"
        shutil.copy(sqlite_template, path)
        database = Database(f"sqlite:///{path}")
    else:
        url = request.getfixturevalue("pg_url")
        if url is None:
            skip_without_pg()
        _empty_pg(url)
        database = Database(url)
    runtime.forget_all()
    yield database
    runtime.forget_all()
    _check_kept(database)
    database.dispose()


def refresh_kept(conn) -> None:  # noqa: ANN001
    """What a test wrote behind the engine's back (steps, events, a case made 试运行) brought into the kept
    figures and tallies, as after a bulk load."""
    casefigures.refresh_all(conn)
    worktallies.refresh_all(conn)


def _check_kept(database: Database) -> None:
    """Whatever a test did through the engine, every case's kept 考核 figures and every unit's work tallies still
    match the rows (engine/store/casefigures.py, worktallies.py); a test that writes rows directly refreshes
    them as a bulk load would."""
    with database.read() as session:
        drifted = casefigures.drift(session.connection())
        tallies = worktallies.drift(session.connection())
    assert not drifted, f"kept figures differ from the rows (case, figure, kept, actual): {drifted[:5]}"
    assert not tallies, f"work tallies differ from the completed steps (key, kept, actual): {tallies[:5]}"


def skip_without_pg() -> None:
    """Skip a PostgreSQL test in a run that opted out with MINYI_TEST_WITHOUT_PG=1 (counted in the summary)."""
    pytest.skip(f"{PG_UNREACHABLE}; MINYI_TEST_WITHOUT_PG=1 skips the PostgreSQL tests")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """A run that could not reach PostgreSQL says so at its end, loudly, with how many tests did not run."""
    reports = [r for kind in ("skipped", "error", "failed") for r in terminalreporter.stats.get(kind, [])]
    missed = sum(1 for r in reports if PG_UNREACHABLE in str(r.longrepr))
    if not missed:
        return
    verdict = "were SKIPPED (MINYI_TEST_WITHOUT_PG=1)" if WITHOUT_PG else "FAILED"
    terminalreporter.write_sep("!", f"PostgreSQL: {missed} tests {verdict}", red=True, bold=True)
    terminalreporter.write_line(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: these tests ran on SQLite only, "
                                "and the multi-worker timer locking was not checked.", red=True)


# The day every test runs on: Monday 23 November 2026, 10:00 in China, a working day. The fixed dates in the
# tests (a consultation that ends on the 30th, a promised date, a 上级批复日期) fall where they were written to
# fall, whatever day the suite runs on: a CI run that crossed midnight into 1 December in China once refused its
# own test consultation, which ends on 30 November, as "不能早于今天".
TEST_DAY = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def the_tests_day():
    """The engine's clock reads TEST_DAY at the start of every test and runs on in real time from it, so
    timers, durations and the order of events behave as they do in production."""
    clock.set_clock(clock.running_from(TEST_DAY))
    yield
    clock.set_clock(None)


@pytest.fixture(autouse=True)
def fresh_memos_under_mutation():
    """Under mutation testing (mutmut sets MUTANT_UNDER_TEST; tests/mutation/run.py) every test starts with the
    engine's per-process memos empty — parsed diagrams and graphs, checked expressions, the evaluator — so a
    function behind a memo runs, and mutmut records it as reached, in every test that needs it rather than only
    in the first test of the process; a mutant of it is then judged by all those tests. The task lists' statements
    are built once per shape and kept (`tasklist._statement` and the two like it): without clearing them only
    the first test to build a list reached `_base`, and a mutant of who sees which list was judged by 11 tests."""
    if "MUTANT_UNDER_TEST" in os.environ:
        diagram._cache.clear()
        bpmngraph._cache.clear()
        expressions.check.cache_clear()
        expressions._evaluators = threading.local()
        for built in (tasklist._statement, tasklist._merged_queue, tasklist._counts_statement):
            built.cache_clear()
    yield


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Database:
    path = tmp_path / "minyi.db"
    shutil.copy(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    runtime.forget_all()
    yield database
    _check_kept(database)
    database.dispose()


@pytest.fixture
def staff(db):
    """The demo staff of one community, by username."""
    return {name: users.create_user(db, name, PASSWORD, display, roles)
            for name, (display, roles) in STAFF.items()}


@pytest.fixture
def frozen_clock():
    """A clock the test moves by hand: `frozen_clock.set(datetime)`."""

    class Frozen:
        def __init__(self) -> None:
            self.value = TEST_DAY

        def set(self, value: datetime) -> None:
            self.value = value

        def __call__(self) -> datetime:
            return self.value

    frozen = Frozen()
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(None)


def deploy_file(db: Database, path: Path):
    return deployments.deploy(db, path.read_bytes(), path.name, SYSTEM)[0]
