"""Prometheus metrics at /metrics: requests by route and status with latency histograms, task
completions, timer lag and outbox backlog (engine.work.vitals, read at each scrape), the database pool.

Who may read them: nobody until configured — a client presenting MINYI_METRICS_TOKEN as
`Authorization: Bearer …`, or one whose address is in MINYI_METRICS_ALLOW (comma-separated addresses or
networks). No address is let in by default: behind a reverse proxy on the same machine every visitor comes
from 127.0.0.1, and a server such as waitress removes the X-Forwarded-For that would tell them apart. A request
that still carries X-Forwarded-For while no proxy is trusted (MINYI_TRUSTED_PROXIES=0) is not let in by address.

Several server processes (gunicorn): set PROMETHEUS_MULTIPROC_DIR to an empty directory before they
start, and prometheus_client's multiprocess mode adds up what every process counted (see docs/operations.md).
"""
from __future__ import annotations

import hmac
from collections.abc import Iterator
import ipaddress
import logging
import os

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import SQLAlchemyError

from engine.errors import Forbidden
from engine.store.db import Database
from engine.work import vitals

from .deps import db

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)

REQUESTS = Counter("minyi_http_requests", "HTTP requests answered, by route, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("minyi_http_request_duration_seconds", "Time to answer a request, by route and method",
                    ["route", "method"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
COMPLETIONS = Counter("minyi_task_completions", "Steps completed by staff, by channel (web, api)", ["channel"])
POOL = Gauge("minyi_db_pool_connections", "Database connections of the server processes, by state "
             "(checked_out: in a transaction; idle: open in the pool; overflow: beyond the pool size)",
             ["state"], multiprocess_mode="livesum")


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route, method).observe(seconds)


def task_completed(channel: str) -> None:
    COMPLETIONS.labels(channel).inc()


def record_pool(database: Database) -> None:
    status = database.pool_status()
    POOL.labels("checked_out").set(status.checked_out)
    POOL.labels("idle").set(status.idle)
    POOL.labels("overflow").set(status.overflow)


class WorkCollector:
    """Figures read from the database at each scrape, the same whichever process answers."""

    def __init__(self, database: Database):
        self.database = database

    def collect(self) -> Iterator[Metric]:
        try:
            found = vitals.figures(self.database)
        except SQLAlchemyError:  # the request figures are still worth reading during an outage
            log.warning("metrics: the database figures could not be read", exc_info=True)
            yield GaugeMetricFamily("minyi_database_up", "1 when the figures below could be read", value=0)
            return
        yield GaugeMetricFamily("minyi_database_up", "1 when the figures below could be read", value=1)
        yield GaugeMetricFamily("minyi_timers_due", "Cases whose next timer is due and not yet fired",
                                value=found.timers_due)
        yield GaugeMetricFamily("minyi_timer_lag_seconds", "How long the most overdue timer has waited "
                                "(0 when none is due)", value=found.timer_lag_seconds)
        backlog = GaugeMetricFamily("minyi_outbox_backlog", "Outbound messages (e-mail, webhook) not yet "
                                    "sent, by state (pending: still tried; failed: given up)", labels=["state"])
        backlog.add_metric(["pending"], found.outbox_pending)
        backlog.add_metric(["failed"], found.outbox_failed)
        yield backlog
        if found.worker_heartbeat_age_seconds is not None:
            yield GaugeMetricFamily("minyi_worker_heartbeat_age_seconds", "Since the liveliest timer worker's "
                                    "last heartbeat", value=found.worker_heartbeat_age_seconds)


def _allowed() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    if "X-Forwarded-For" in request.headers and not current_app.config["TRUSTED_PROXIES"]:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["METRICS_ALLOW"])


@bp.get("/metrics")
def show_metrics():
    if not _allowed():
        raise Forbidden("运行指标(/metrics)只对配置的地址(MINYI_METRICS_ALLOW)"
                        "或持有令牌(MINYI_METRICS_TOKEN)的监控系统开放。")
    record_pool(db())
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(WorkCollector(db()))
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                                        "Cache-Control": "no-store"})


def _networks(text: str) -> tuple:
    found = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"MINYI_METRICS_ALLOW 中的 {part!r} 不是地址或网段(例如 10.0.0.0/8)") from exc
    return tuple(found)


def init_app(app: Flask) -> None:
    app.config.setdefault("METRICS_TOKEN", os.environ.get("MINYI_METRICS_TOKEN", ""))
    allow = app.config.setdefault("METRICS_ALLOW", os.environ.get("MINYI_METRICS_ALLOW", ""))
    if isinstance(allow, str):
        app.config["METRICS_ALLOW"] = _networks(allow)
    app.register_blueprint(bp)
