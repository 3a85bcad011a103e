"""What operations watch: whether this installation can serve (readiness: database reachable, schema
current, a timer worker alive) and the figures behind the metrics (timer lag, outbox backlog).

Computed from the database at the moment of asking, so every server process reports the same."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timezone

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine import clock
from engine.people.outbox import MAX_ATTEMPTS
from engine.store import migrate
from engine.store.db import Database
from engine.store.models import Case, OutboxMessage

from . import heartbeat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str      # database, migrations, worker
    ok: bool
    detail: str    # Chinese, for the operator reading /readyz


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def readiness(db: Database, check_worker: bool = True) -> Readiness:
    """Each check in turn; one that cannot run because the database is unreachable says so."""
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        skipped = [Check("migrations", False, "未检查:数据库无法连接")]
        if check_worker:
            skipped.append(Check("worker", False, "未检查:数据库无法连接"))
        return Readiness((Check("database", False, "数据库无法连接"), *skipped))
    checks = [Check("database", True, "可以连接"), _migrations(db)]
    if check_worker:
        checks.append(_worker(db))
    return Readiness(tuple(checks))


def _migrations(db: Database) -> Check:
    try:
        current, heads = migrate.revisions(db)
    except SQLAlchemyError as exc:
        log.warning("readiness: cannot read the schema revision: %s", exc)
        return Check("migrations", False, "无法读取数据库结构版本")
    if current == heads:
        return Check("migrations", True, f"数据库结构是最新版本({'、'.join(sorted(heads))})")
    at = "、".join(sorted(current)) or "空数据库"
    return Check("migrations", False,
                 f"数据库结构不是最新版本:当前 {at},应为 {'、'.join(sorted(heads))};请运行 minyi db upgrade")


def _worker(db: Database) -> Check:
    try:
        state = heartbeat.liveliest(db)
    except SQLAlchemyError as exc:
        log.warning("readiness: cannot read worker heartbeats: %s", exc)
        return Check("worker", False, "无法读取定时任务进程的心跳")
    if state is None:
        return Check("worker", False, "没有定时任务进程(minyi worker)的心跳:到期提醒、逾期督办和外发通知无人处理")
    seconds = int(state.age.total_seconds())
    if state.late:
        return Check("worker", False, f"定时任务进程 {state.worker} 已 {seconds} 秒没有心跳")
    return Check("worker", True, f"定时任务进程 {state.worker} {seconds} 秒前有心跳")


@dataclass(frozen=True)
class Figures:
    timers_due: int                  # cases whose next timer is due now
    timer_lag_seconds: float         # how late the most overdue of them is (0 when none)
    outbox_pending: int              # outbound messages still to be sent (retries included)
    outbox_failed: int               # messages given up after MAX_ATTEMPTS
    worker_heartbeat_age_seconds: float | None  # since the liveliest worker's last beat; None if none


def figures(db: Database) -> Figures:
    """The figures behind /metrics, in one read; each query is answered from an index."""
    now = clock.now()
    with db.read() as session:
        due, oldest = session.execute(
            select(func.count(), func.min(Case.next_timer_at)).where(Case.next_timer_at <= now)).one()
        unsent = OutboxMessage.sent_at.is_(None)
        pending = session.scalar(select(func.count()).where(unsent, OutboxMessage.attempts < MAX_ATTEMPTS))
        failed = session.scalar(select(func.count()).where(unsent, OutboxMessage.attempts >= MAX_ATTEMPTS))
    if oldest is not None and oldest.tzinfo is None:  # func.min bypasses the column's type on SQLite
        oldest = oldest.replace(tzinfo=timezone.utc)
    state = heartbeat.liveliest(db)
    return Figures(timers_due=due, timer_lag_seconds=(now - oldest).total_seconds() if oldest else 0.0,
                   outbox_pending=pending or 0, outbox_failed=failed or 0,
                   worker_heartbeat_age_seconds=state.age.total_seconds() if state else None)
