"""One task (任务办理): the case so far and the step's form, drawn from the diagram."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.public import casefiles
from engine.work import cases
from engine.work.cases import StepResult

from .auth import require_login
from . import metrics
from .deps import actor, db

bp = Blueprint("task", __name__, url_prefix="/tasks")
bp.before_request(require_login)


def submitted() -> dict[str, str | list[str]]:
    """The posted form as the engine wants it; an unticked checkbox is simply absent (= 否). A name sent
    more than once (the units ticked in a field that takes several) is the list of its values."""
    return {key: values[0] if len(values) == 1 else values
            for key, values in request.form.lists() if key != "csrf_token"}


@bp.get("/<int:task_id>")
def show_task(task_id: int):
    view = casefiles.task_page(db(), actor(), task_id)
    return render_template("tasks/task.html", task=view, values=view.values, errors={})


@bp.post("/<int:task_id>/complete")
def complete_task(task_id: int):
    values = submitted()
    try:
        result = cases.complete_task(db(), actor(), task_id, values)
    except InvalidInput as exc:
        view = casefiles.task_page(db(), actor(), task_id)
        return render_template("tasks/task.html", task=view, values=values, errors=exc.fields,
                               message=exc.message), 422
    metrics.task_completed("web")
    flash(done_message(result), "success")
    return redirect(url_for("tasks.list_tasks", which="inbox"))


def done_message(result: StepResult) -> str:
    """“已完成:…” with where the case went next, so staff know who has it now."""
    text = f"已完成:受理编号 {result.case_number}。"
    if result.new_tasks:
        steps = ";".join(f"{t.step_name}({'、'.join(t.roles) or '—'})" for t in result.new_tasks)
        return text + f"下一步:{steps}"
    if result.case_status == "completed":
        return text + "事项已办结。"
    return text


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
