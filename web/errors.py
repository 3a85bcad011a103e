"""The one place where errors become responses: a page in the app's style, or JSON under /api/.

Engine errors carry their HTTP status; anything unexpected becomes a 500 page with
a request id that is logged with the traceback. A user never sees a traceback.
"""
from __future__ import annotations

import uuid

from flask import Flask, Response, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import MinyiError

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
    page = render_template("errors.html", status=status, title=TITLES.get(status, "出错了"),
                           message=message, fields=(extra or {}).get("fields", {}),
                           request_id=(extra or {}).get("request_id"))
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
    request_id = uuid.uuid4().hex
    current_app.logger.exception("unexpected error, request id %s, %s %s", request_id, request.method, request.path)
    return respond(500, "系统出错了,已记录。如需帮助,请把下面的请求编号告诉管理员。", "InternalError",
                   {"request_id": request_id})


def init_app(app: Flask) -> None:
    app.register_error_handler(MinyiError, handle_minyi_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
