"""Cases (事项): registering a new one (受理), finding them (查找事项), its page with its files (附件),
comments (意见) and links (关联)."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.public import casefiles, notices
from engine.work import cases, casesearch, findings, transfer, unitpicks

from .auth import require_login
from . import downloads
from .deps import actor, db
from .inputs import page_number
from .resident import PRIVATE_HEADERS, follow_link, qr_code
from .taskpage import submitted

bp = Blueprint("cases", __name__, url_prefix="/cases")
bp.before_request(require_login)


@bp.get("/new")
def list_procedures():
    return render_template("cases/new.html", procedures=cases.procedures_for(db(), actor()))


@bp.get("/new/<process_id>")
def show_start_form(process_id: str):
    procedure = cases.start_form(db(), actor(), process_id)  # 404 unknown, 403 not a starter role, as POST
    return render_template("cases/start.html", procedure=procedure, values=procedure.values, errors={})


@bp.post("/new/<process_id>")
def start_case(process_id: str):
    values = submitted()
    try:
        unit_id = unitpicks.parse_unit_id(values.pop(unitpicks.UNIT_FIELD, None))
        result = cases.start_case(db(), actor(), process_id, values, unit_id=unit_id)
    except InvalidInput as exc:
        procedure = cases.start_form(db(), actor(), process_id)
        values = {**values, unitpicks.UNIT_FIELD: request.form.get(unitpicks.UNIT_FIELD, "")}
        return render_template("cases/start.html", procedure=procedure, values=values, errors=exc.fields,
                               message=exc.message), 422
    flash(f"已受理,受理编号:{result.case_number}", "success")
    return redirect(url_for("cases.show_case", number=result.case_number))


@bp.get("/search")
def search_cases():
    """查找事项: the cases the searcher may see that match the form (nothing before a first search)."""
    try:
        q, errors, message = casesearch.parse(request.args), {}, None
    except InvalidInput as exc:
        q, errors, message = casesearch.StaffQuery(), exc.fields, exc.message
    found = casesearch.search(db(), actor(), q, page_number())
    return render_template("cases/search.html", q=q, found=found, errors=errors, message=message,
                           labels=casesearch.LABELS, statuses=casesearch.STATUSES), 422 if errors else 200


@bp.get("/<number>")
def show_case(number: str):
    return render_template("cases/case.html", case=casefiles.case_page(db(), actor(), number), errors={})


@bp.get("/<number>/files/<int:attachment_id>/preview")
def preview_file(number: str, attachment_id: int):
    """A picture handed in for the case, shown on its pages to whoever may see the case."""
    file = casefiles.preview(db(), actor(), number, attachment_id)
    response = downloads.inline(file.data, file.filename, file.content_type)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers.update(PRIVATE_HEADERS)
    return response


def _rerender(number: str, exc: InvalidInput, **kept: str):
    view = casefiles.case_page(db(), actor(), number)
    return render_template("cases/case.html", case=view, errors=exc.fields, message=exc.message,
                           kept=kept), 422


@bp.post("/<number>/comments")
def add_comment(number: str):
    text = request.form.get("text", "")
    try:
        cases.add_comment(db(), actor(), number, text)
    except InvalidInput as exc:
        return _rerender(number, exc, text=text)
    flash("意见已添加", "success")
    return redirect(url_for("cases.show_case", number=number) + "#comments")


@bp.post("/<number>/findings")
def record_finding(number: str):
    text = request.form.get("finding", "")
    try:
        findings.record_finding(db(), actor(), number, text)
    except InvalidInput as exc:
        return _rerender(number, exc, finding=text)
    flash("监督发现已记录", "success")
    return redirect(url_for("cases.show_case", number=number) + "#findings")


@bp.post("/<number>/transfer")
def move_case(number: str):
    """转办: the case goes to another unit, with a reason."""
    kept = {key: request.form.get(key, "") for key in ("unit_id", "reason")}
    try:
        moved = transfer.move_case(db(), actor(), number, unitpicks.parse_unit_id(kept["unit_id"]), kept["reason"])
    except InvalidInput as exc:
        return _rerender(number, exc, **kept)
    released = f";{'、'.join(moved.released)}的认领已取消,待该单位人员认领" if moved.released else ""
    flash(f"{number} 已从{moved.from_unit}转办到{moved.to_unit}{released}", "success")
    if not moved.still_visible:
        return redirect(url_for("tasks.list_tasks", which="inbox"))
    return redirect(url_for("cases.show_case", number=number))


@bp.post("/<number>/links")
def link_case(number: str):
    other = request.form.get("other", "").strip()
    try:
        cases.link_cases(db(), actor(), number, other)
    except InvalidInput as exc:
        return _rerender(number, exc, other=other)
    flash(f"已与 {other} 关联", "success")
    return redirect(url_for("cases.show_case", number=number) + "#links")


# --- for the resident on paper: 受理回执 (a new 查询码) and 书面告知书 of a 补办件, printable on A4 ---------

@bp.post("/<number>/receipt")
def print_receipt(number: str):
    receipt = notices.issue_receipt(db(), actor(), number)
    link = follow_link(receipt.number, receipt.code)
    return (render_template("public/case_receipt.html", receipt=receipt, link=link,
                            qr=qr_code(link, f"{receipt.number} 的查询链接二维码")), 200, PRIVATE_HEADERS)


@bp.get("/<number>/notice")
def show_written_notice(number: str):
    return render_template("public/written_notice.html", notice=notices.written_notice(db(), actor(), number))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
