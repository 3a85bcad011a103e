"""The JSON API (/api/): the same engine calls as the pages, authenticated by bearer token only.

No cookies are read here, so CSRF protection does not apply; the engine enforces
the same authorisation rules as for the pages.
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request, url_for

from engine.errors import InvalidInput, Unauthorized
from engine.people import users
from engine.work import casepages, cases, tasklist, unitpicks

from . import metrics
from .deps import actor, db
from .inputs import json_body, page_number

bp = Blueprint("api", __name__, url_prefix="/api")
STATIC = Path(__file__).parent / "static"


@bp.before_request
def authenticate_token() -> None:
    if request.endpoint == "api.openapi":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要 API 令牌:请求头 Authorization: Bearer <令牌>")
    g.api_actor = users.actor_for_token(db(), token.strip())


def jsonable(value: Any) -> Any:
    """Engine results (frozen dataclasses) as plain JSON: ISO dates, lists for tuples and sets."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _json_object() -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput("请求体须为 JSON 对象(Content-Type: application/json)")
    return body


@bp.get("/tasks")
def list_tasks():
    which = request.args.get("list", "inbox")
    page = tasklist.tasks(db(), actor(), which, page=page_number(),
                          per_page=current_app.config["TASKS_PER_PAGE"])
    return {"list": which, "page": page.page, "pages": page.pages, "per_page": page.per_page,
            "total": page.total, "items": jsonable(page.items)}


@bp.get("/tasks/<int:task_id>")
def show_task(task_id: int):
    return jsonable(tasklist.get_task(db(), actor(), task_id))


@bp.post("/tasks/<int:task_id>/complete")
def complete_task(task_id: int):
    result = cases.complete_task(db(), actor(), task_id, _json_object())
    metrics.task_completed("api")
    return jsonable(result)


@bp.post("/cases")
def start_case():
    body = _json_object()
    values = body.get("values", {})
    if not isinstance(values, dict):
        raise InvalidInput("values 须为 JSON 对象", {"values": "须为对象"})
    unit_id = unitpicks.parse_unit_id(body.get("unit_id"))
    result = cases.start_case(db(), actor(), str(body.get("process_id", "")), values, unit_id=unit_id)
    location = url_for("api.show_case", number=result.case_number)
    return jsonable(result), 201, {"Location": location}


@bp.get("/cases/<number>")
def show_case(number: str):
    return jsonable(casepages.get_case(db(), actor(), number))


@bp.get("/openapi.json")
def openapi():
    return Response((STATIC / "openapi.json").read_bytes(), mimetype="application/json")


def init_app(app: Flask) -> None:
    from . import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
