"""The one place where errors become responses: a page in the app's style, or JSON under /api/.

Engine errors carry their HTTP status; a database that cannot be reached becomes a 503 with
Retry-After (it passes by itself: a load balancer or the person tries again); anything unexpected
becomes a 500 page with the request id, which is logged with the traceback. A user never sees a traceback.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from engine.errors import MinyiError
from engine.store.db import is_unreachable

from .observe import request_id

TITLES = {
    400: "请求无效",
    401: "需要登录",
    403: "无权访问",
    404: "未找到",
    405: "不支持的请求方式",
    409: "状态已变化",
    413: "提交内容过大",
    422: "填写有误",
    429: "请求过于频繁",
    500: "系统出错",
    503: "暂时无法服务",
}
HTTP_MESSAGES = {
    400: "请求格式不正确。",
    404: "您要找的页面不存在,请检查地址。",
    405: "该地址不支持这种请求方式。",
    413: "提交的内容太大。",
    429: "尝试次数过多,请稍等一会儿再试。",
}


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def respond(status: int, message: str, error: str, extra: dict | None = None) -> Response | tuple:
    if _wants_json():
        body = {"error": error, "message": message, "status": status, **(extra or {})}
        headers = {"WWW-Authenticate": 'Bearer realm="minyi"'} if status == 401 else {}
        return body, status, headers
    try:
        page = render_template("errors.html", status=status, title=TITLES.get(status, "出错了"),
                               message=message, fields=(extra or {}).get("fields", {}),
                               request_id=(extra or {}).get("request_id"))
    except DBAPIError as exc:  # the page header needs the signed-in user, and the database went away
        if not is_unreachable(exc):
            raise
        return handle_database_error(exc)
    return page, status


def handle_minyi_error(exc: MinyiError):
    data = exc.to_dict()
    extra = {k: v for k, v in data.items() if k not in ("error", "message")}
    return respond(exc.status, exc.message, data["error"], extra)


def handle_csrf_error(exc: CSRFError):
    return respond(400, "页面已过期或来源不明(CSRF 校验未通过),没有做任何修改。请刷新页面后重试。", "CSRFError")


def handle_http_error(exc: HTTPException):
    status = exc.code or 500
    return respond(status, HTTP_MESSAGES.get(status, TITLES.get(status, "请求无法处理。")), type(exc).__name__)


def handle_unexpected(exc: Exception):
    current_app.logger.exception("unexpected error, request id %s, %s %s", request_id(), request.method, request.path)
    return respond(500, "系统出错了,已记录。如需帮助,请把下面的请求编号告诉管理员。", "InternalError",
                   {"request_id": request_id()})


UNAVAILABLE = "数据库暂时无法连接,您的操作没有执行。请稍等片刻后重试;如果一直这样,请把下面的请求编号告诉管理员。"


def handle_database_error(exc: DBAPIError):
    """An unreachable database is a 503 with Retry-After; any other database error is unexpected (500).
    The page is drawn without the staff header, whose user and unread count would need the database."""
    if not is_unreachable(exc):
        return handle_unexpected(exc)
    current_app.logger.warning("database unreachable, request id %s, %s %s: %s", request_id(), request.method,
                               request.path, str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
    retry = {"Retry-After": str(current_app.config["RETRY_AFTER_SECONDS"])}
    if _wants_json():
        return {"error": "DatabaseUnavailable", "message": UNAVAILABLE, "status": 503,
                "request_id": request_id()}, 503, retry
    page = current_app.jinja_env.get_template("unavailable.html").render(
        title=TITLES[503], message=UNAVAILABLE, request_id=request_id())
    return page, 503, retry


def init_app(app: Flask) -> None:
    app.register_error_handler(MinyiError, handle_minyi_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.config.setdefault("RETRY_AFTER_SECONDS", 30)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
