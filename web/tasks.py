"""The task list (任务列表): 我的待办 (inbox), 待认领 (queue), 已办 (archive), a leader's 本组待办 (team);
claiming and assigning, one step or several at once (批量认领 / 批量指派)."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.work import bulk, cases, tasklist
from engine.work.bulk import BulkResult
from engine.work.tasklist import SORTS, Filters

from .auth import require_login
from .deps import actor, db, safe_next
from .inputs import page_number

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
bp.before_request(require_login)

LIST_NAMES = {"inbox": "我的待办", "queue": "待认领任务", "archive": "已办任务", "team": "本组待办"}


def _filters() -> Filters:
    args = request.args
    return Filters(
        procedure=args.get("procedure") or None,
        step=args.get("step") or None,
        kind=args.get("kind") or None,
        topic=args.get("topic") or None,
        overdue=args.get("overdue") == "1",
        q=(args.get("q") or "").strip()[:100] or None,
        due_soon=args.get("due_soon") == "1",
        sort=args.get("sort") if args.get("sort") in SORTS else "due",
    )


def _list_page(which: str, errors: dict | None = None, message: str | None = None, status: int = 200):
    view = tasklist.overview(db(), actor(), which, _filters(), page=page_number(),
                             per_page=current_app.config["TASKS_PER_PAGE"])
    return render_template("tasks/list.html", which=which, list_names=LIST_NAMES, view=view,
                           page=view.page, filters=request.args, errors=errors or {}, message=message,
                           kept=request.form), status


@bp.get("/<any(inbox, queue, archive, team):which>")
def list_tasks(which: str):
    return _list_page(which)


@bp.post("/<any(queue, team):which>/bulk")
def bulk_action(which: str):
    """批量认领 / 批量指派 of the ticked steps; the list again with what was done and what was refused."""
    try:
        result = bulk.apply(db(), actor(), request.form.get("action", ""), request.form.getlist("task"),
                            request.form.get("username", ""))
    except InvalidInput as exc:
        return _list_page(which, exc.fields, exc.message, 422)
    _flash_summary(result)
    return redirect(url_for("tasks.list_tasks", which=which, **request.args))


def _flash_summary(result: BulkResult) -> None:
    verb = f"指派给 {result.assignee}" if result.assignee else result.action
    if result.done:
        steps = ";".join(f"{i.case_number} {i.step_name}" for i in result.done)
        flash(f"已{verb} {len(result.done)} 项:{steps}", "success")
    if result.refused:
        steps = ";".join(f"{i.case_number} {i.step_name}({i.reason})" if i.case_number else i.reason
                         for i in result.refused)
        flash(f"未能{verb} {len(result.refused)} 项:{steps}", "refused")


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
    name = cases.assign(db(), actor(), task_id, username)
    flash(f"已指派给 {name}", "success")
    return redirect(_back())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
