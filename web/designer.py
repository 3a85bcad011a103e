"""The designer workspace (流程设计): versions, the modeler, upload/download, compare, migrate, 试运行.

Pages live under /designer; the modeler's validate and deploy calls are JSON under
/api/designer (session login plus the X-CSRFToken header), so engine errors — a diagram's
problems included — come back as JSON from web/errors.py.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for

from engine.design import diff, migration, trial, workspace
from engine.errors import InvalidInput

from .auth import require_login
from .deps import actor, db
from .downloads import download
from .inputs import accepts, id_value, json_body
from .taskpage import done_message, submitted

bp = Blueprint("designer", __name__, url_prefix="/designer")
api = Blueprint("designer_api", __name__, url_prefix="/api/designer")
for blueprint in (bp, api):
    blueprint.before_request(require_login)
    blueprint.before_request(lambda: workspace.require_designer(actor()))

BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_new" targetNamespace="http://minyi.local/bpmn">
  <bpmn:process id="new_procedure" name="新流程" isExecutable="true">
    <bpmn:startEvent id="StartEvent_new" name="开始"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="Diagram_new"><bpmndi:BPMNPlane id="Plane_new" bpmnElement="new_procedure">
    <bpmndi:BPMNShape id="StartEvent_new_di" bpmnElement="StartEvent_new">
      <dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _extra_roles() -> tuple[str, ...]:
    return tuple(current_app.config.get("MINYI_KNOWN_ROLES", workspace.DEFAULT_KNOWN_ROLES))


@bp.get("/")
def list_procedures():
    return render_template("designer/list.html", procedures=workspace.procedures(db(), actor()))


def _modeler(xml: str, filename: str, title: str, source: str):
    return render_template("designer/edit.html", xml=xml, filename=filename, title=title, source=source)


@bp.get("/new")
def new_procedure():
    return _modeler(BLANK, "new_procedure.bpmn", "新建流程", "空白流程")


@bp.get("/versions/<int:version_id>/edit")
def edit_version(version_id: int):
    found = workspace.version_file(db(), actor(), version_id)
    return _modeler(found.xml.decode("utf-8"), found.filename, found.name, found.label)


@bp.get("/versions/<int:version_id>/download")
def download_version(version_id: int):
    found = workspace.version_file(db(), actor(), version_id)
    return download(found.xml, found.filename, "application/xml")


@bp.post("/upload")
@accepts("diagram")
def upload():
    """Open a .bpmn made elsewhere in the modeler; nothing is stored until it is deployed."""
    file = request.files.get("file")
    if file is None or not file.filename:
        raise InvalidInput("请选择要上传的 .bpmn 文件", {"file": "请选择文件"})
    found = workspace.open_upload(actor(), file.read(workspace.MAX_DIAGRAM_BYTES + 1), file.filename)
    return _modeler(found.xml.decode("utf-8-sig"), found.filename, file.filename, found.label)


@bp.get("/compare")
def compare():
    comparison = diff.compare(db(), actor(), id_value(request.args, "a", 0), id_value(request.args, "b", 0))
    return render_template("designer/compare.html", diff=comparison)


@bp.get("/versions/<int:version_id>/cases")
def version_cases(version_id: int):
    found = workspace.version_file(db(), actor(), version_id)
    return render_template("designer/cases.html", version=found,
                           cases=workspace.running_cases(db(), actor(), version_id))


@bp.get("/cases/<number>/migrate")
def preview_migration(number: str):
    preview = migration.preview(db(), actor(), number, id_value(request.args, "to"))
    return render_template("designer/migrate.html", preview=preview)


@bp.post("/cases/<number>/migrate")
def migrate_case(number: str):
    result = migration.migrate(db(), actor(), number, id_value(request.form, "from", 0),
                               id_value(request.form, "to", 0))
    flash(f"事项 {number} 已从{result.from_label}迁移到{result.to_label}", "success")
    return redirect(url_for("designer.preview_migration", number=number, to=result.to_version))


@bp.post("/try")
@accepts("diagram")
def save_draft():
    draft = workspace.save_draft(db(), actor(), request.form.get("xml", "").encode("utf-8"),
                                request.form.get("filename", "draft.bpmn"))
    return redirect(url_for("designer.trial_start", version_id=draft.version_id))


@bp.get("/try/<int:version_id>")
def trial_start(version_id: int):
    start = trial.start_form(db(), actor(), version_id)
    return render_template("designer/trial_start.html", start=start, values=start.values, errors={})


@bp.post("/try/<int:version_id>")
def trial_begin(version_id: int):
    values = submitted()
    try:
        result = trial.start(db(), actor(), version_id, values)
    except InvalidInput as exc:
        start = trial.start_form(db(), actor(), version_id)
        return render_template("designer/trial_start.html", start=start, values=values, errors=exc.fields,
                               message=exc.message), 422
    flash(f"试运行事项已创建:{result.case_number}", "success")
    return redirect(url_for("designer.trial_case", number=result.case_number))


@bp.get("/try/cases/<number>")
def trial_case(number: str):
    return render_template("designer/trial_case.html", trial=trial.trial_case(db(), actor(), number),
                           errors={}, posted={})


@bp.post("/try/cases/<number>/tasks/<int:task_id>")
def trial_complete(number: str, task_id: int):
    values = submitted()
    try:
        result = trial.complete_step(db(), actor(), task_id, values)
    except InvalidInput as exc:
        sandbox = trial.trial_case(db(), actor(), number)
        return render_template("designer/trial_case.html", trial=sandbox, errors={task_id: exc.fields},
                               posted={task_id: values}, message=exc.message), 422
    flash(done_message(result), "success")
    return redirect(url_for("designer.trial_case", number=number))


def _json_body() -> dict:
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
        raise InvalidInput("请求体须为 JSON 对象,含流程图 xml", {"xml": "缺少流程图"})
    return body


def _problem(p) -> dict:
    return {"element_id": p.element_id, "element_name": p.element_name, "line": p.line, "message": p.message}


@api.post("/validate")
@accepts("diagram")
def validate():
    body = _json_body()
    result = workspace.check(db(), actor(), body["xml"].encode("utf-8"), str(body.get("filename") or "diagram.bpmn"),
                            _extra_roles())
    return {"deployable": result.deployable, "problems": [_problem(p) for p in result.problems],
            "warnings": [_problem(p) for p in result.warnings]}


@api.post("/deploy")
@accepts("diagram")
def deploy():
    body = _json_body()
    xml, filename = body["xml"].encode("utf-8"), str(body.get("filename") or "diagram.bpmn")
    done = workspace.deploy(db(), actor(), xml, filename, str(body.get("note") or ""))
    v = done.version
    message = (f"已部署为“{v.name}”第 {v.number} 版,新事项将使用此版本" if done.created
               else f"内容与“{v.name}”第 {v.number} 版相同,没有创建新版本")
    return {"created": done.created, "version_id": v.id, "number": v.number, "message": message}, \
        201 if done.created else 200


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(api)
