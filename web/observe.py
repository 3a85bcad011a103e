"""Observable: a request id on every request (taken from a valid incoming X-Request-ID, otherwise new,
and sent back as X-Request-ID), one log line per request with its id, user, status and duration, JSON or
plain text log lines (MINYI_LOG_FORMAT=json|text), and the probes load balancers ask: /healthz (the
process answers) and /readyz (database reachable, schema current, a timer worker alive).
Metrics are in `metrics.py`."""
from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from engine.work import vitals

from . import metrics
from .deps import db

bp = Blueprint("observe", __name__)
access_log = logging.getLogger("minyi.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# SpiffWorkflow logs every state change of every task at INFO ("State changed to READY", 6–13 lines per
# completion): internal chatter that would bury the request lines and cost each request its formatting and
# writing. The audit trail records what happened to a case; from the library only warnings and errors.
ENGINE_LIBRARY_LOGGERS = ("spiff",)


def request_id() -> str:
    """This request's id: the caller's X-Request-ID when it is a plain token, else a new one."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _user() -> str:
    """Who made the request, as far as it is already known (never a database query just for the log)."""
    if "api_actor" in g:
        return g.api_actor.username
    user = g.get("_login_user")  # Flask-Login's cache of the signed-in user
    return user.actor.username if user is not None and getattr(user, "is_authenticated", False) else "-"


def _start() -> None:
    g.started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = request_id()
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    method = request.method if request.method in METHODS else "OTHER"  # no metrics series per invented verb
    metrics.observe_request(method, route, response.status_code, seconds)
    metrics.record_pool(db())
    # a line break cannot forge a log line
    user, path = _user(), CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", request.path)
    access_log.info("%s %s %s %.1fms %s", method, path, response.status_code, seconds * 1000, user,
                    extra={"request_id": request_id(), "user": user, "method": method, "path": path, "route": route,
                           "status": response.status_code, "duration_ms": round(seconds * 1000, 1),
                           "remote_addr": request.remote_addr})
    return response


class RequestContext(logging.Filter):
    """Gives every log record the request id of the request it was written in ("-" outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id() if has_request_context() else "-"
        return True


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001
        pass


def configure_logging(fmt: str | None = None, level: int = logging.INFO) -> None:
    """Log to stderr, one line per record: `json` (one object a line, for a log collector) or `text`.
    The format comes from MINYI_LOG_FORMAT unless given; called by the `minyi` commands that run."""
    fmt = (fmt or os.environ.get("MINYI_LOG_FORMAT") or "text").strip().lower()
    if fmt not in ("json", "text"):
        raise ValueError(f"MINYI_LOG_FORMAT 应为 json 或 text,现在是 {fmt!r}")
    handler = _Stderr()
    handler.addFilter(RequestContext())
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s", timestamp=True,
                                           rename_fields={"levelname": "level", "name": "logger"},
                                           json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.minyi = True
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "minyi", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ENGINE_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Touches nothing else, so a database outage does not restart it."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/readyz")
def readyz():
    """Ready to serve: 200 when every check passes, 503 otherwise; each check says why in Chinese."""
    found = vitals.readiness(db(), check_worker=current_app.config["READYZ_CHECK_WORKER"])
    body = {"status": "ready" if found.ok else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in found.checks}}
    return body, 200 if found.ok else 503, {"Cache-Control": "no-store"}


def init_app(app: Flask) -> None:
    app.config.setdefault("READYZ_CHECK_WORKER", os.environ.get("MINYI_READYZ_WORKER", "1").strip() != "0")
    app.before_request_funcs.setdefault(None, []).insert(0, _start)  # before the rate limiter's check
    app.after_request(_finish)
    app.register_blueprint(bp)
