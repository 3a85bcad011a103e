"""延期申请 and 催办 on the web: a handler asks for more time on an open step, a leader
decides in the list of pending requests, a leader or supervisor urges a step."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.work import extensions, tasklist

from .auth import require_login
from .deps import actor, db

bp = Blueprint("extensions", __name__)
bp.before_request(require_login)


def _form_page(task_id: int, values: dict, errors: dict, message: str | None = None, status: int = 200):
    task = tasklist.get_task(db(), actor(), task_id)
    history = extensions.of_task(db(), actor(), task_id)
    page = render_template("extensions/request.html", task=task, history=history, values=values,
                           errors=errors, message=message)
    return page, status


@bp.get("/tasks/<int:task_id>/extension")
def show_request_form(task_id: int):
    return _form_page(task_id, {}, {})


@bp.post("/tasks/<int:task_id>/extension")
def request_extension(task_id: int):
    values = {k: request.form.get(k, "") for k in ("reason", "requested_due")}
    try:
        extensions.request_extension(db(), actor(), task_id, values["reason"], values["requested_due"])
    except InvalidInput as exc:
        return _form_page(task_id, values, exc.fields, exc.message, 422)
    flash("延期申请已提交,等待审批", "success")
    return redirect(url_for("task.show_task", task_id=task_id))


@bp.get("/extensions")
def list_pending():
    return render_template("extensions/pending.html", pending=extensions.pending_for(db(), actor()))


@bp.post("/extensions/<int:request_id>/decide")
def decide(request_id: int):
    decision = request.form.get("decision")
    if decision not in ("approve", "refuse"):
        raise InvalidInput("请选择批准或不批准", {"decision": "请选择批准或不批准"})
    extensions.decide_extension(db(), actor(), request_id, decision == "approve",
                                request.form.get("note", ""), request.form.get("new_due") or None)
    flash("已批准延期" if decision == "approve" else "已驳回延期申请", "success")
    return redirect(url_for("extensions.list_pending"))


@bp.post("/tasks/<int:task_id>/urge")
def urge(task_id: int):
    sent = extensions.urge(db(), actor(), task_id, request.form.get("note", ""))
    flash(f"已催办,通知了 {sent} 人", "success")
    return redirect(url_for("task.show_task", task_id=task_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
