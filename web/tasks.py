"""The task list (任务列表): 我的待办 (inbox), 待认领 (queue), 已办 (archive); claiming and assigning."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for

from engine.work import cases, tasklist
from engine.work.tasklist import Filters

from .auth import require_login
from .deps import actor, db, safe_next
from .inputs import page_number

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
bp.before_request(require_login)

LIST_NAMES = {"inbox": "我的待办", "queue": "待认领任务", "archive": "已办任务"}


def _filters() -> Filters:
    args = request.args
    return Filters(
        procedure=args.get("procedure") or None,
        step=args.get("step") or None,
        kind=args.get("kind") or None,
        topic=args.get("topic") or None,
        overdue=args.get("overdue") == "1",
        q=(args.get("q") or "").strip()[:100] or None,
    )


@bp.get("/<any(inbox, queue, archive):which>")
def list_tasks(which: str):
    view = tasklist.overview(db(), actor(), which, _filters(), page=page_number(),
                             per_page=current_app.config["TASKS_PER_PAGE"])
    return render_template("tasks/list.html", which=which, list_names=LIST_NAMES, view=view,
                           page=view.page, filters=request.args)


def _back() -> str:
    return safe_next(request.form.get("next"), url_for("tasks.list_tasks", which="inbox"))


@bp.post("/<int:task_id>/claim")
def claim(task_id: int):
    cases.claim(db(), actor(), task_id)
    flash("已认领,任务已移入“我的待办”", "success")
    return redirect(_back())


@bp.post("/<int:task_id>/unclaim")
def unclaim(task_id: int):
    cases.unclaim(db(), actor(), task_id)
    flash("已放回,任务回到“待认领任务”", "success")
    return redirect(_back())


@bp.post("/<int:task_id>/assign")
def assign(task_id: int):
    username = request.form.get("username", "").strip()
    cases.assign(db(), actor(), task_id, username)
    flash(f"已指派给 {username}", "success")
    return redirect(_back())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
