"""单位管理 (管理员): the tree of units with their levels; add a unit, rename it, give it another parent,
撤销 or 恢复 it, or import a whole district from a CSV or TOML file. The engine checks the role and the
administrator's scope; a refused change comes back on the page next to the form that asked for it."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.people import unitadmin, unitimport

from .auth import require_login
from .deps import actor, db
from .inputs import accepts

bp = Blueprint("units", __name__, url_prefix="/admin/units")
bp.before_request(require_login)


def _page(target: str = "", values: dict | None = None, errors: dict | None = None, message: str | None = None,
          status: int = 200):
    """The page; `target` names the form a refused change came from ("new", "import" or a unit's id)."""
    return render_template("units/list.html", page=unitadmin.units_page(db(), actor()), target=target,
                           values=values or {}, errors=errors or {}, message=message), status


@bp.get("")
def show_units():
    return _page()


@bp.post("/new")
def add():
    values = {name: request.form.get(name, "") for name in ("name", "level", "parent_id", "beside")}
    try:
        made = unitadmin.add_unit(db(), actor(), values)
    except InvalidInput as exc:
        return _page("new", values, exc.fields, exc.message, 422)
    flash(f"已新建单位“{made.name}”", "success")
    return redirect(url_for("units.show_units") + f"#unit-{made.id}")


def _change(unit_id: int, done: str, change):
    """One change to one unit: back to the page at that unit, or the page with the refusal next to its form."""
    values = {name: request.form.get(name, "") for name in ("name", "level", "parent_id")}
    try:
        changed = change(values)
    except InvalidInput as exc:
        return _page(f"u{unit_id}", values, exc.fields, exc.message, 422)
    flash(f"“{changed.name}”{done}", "success")
    return redirect(url_for("units.show_units") + f"#unit-{unit_id}")


@bp.post("/<int:unit_id>/rename")
def rename(unit_id: int):
    return _change(unit_id, "已保存", lambda v: unitadmin.rename(db(), actor(), unit_id, v["name"], v["level"]))


@bp.post("/<int:unit_id>/move")
def move(unit_id: int):
    return _change(unit_id, "已调整上级单位", lambda v: unitadmin.move(db(), actor(), unit_id, v["parent_id"]))


@bp.post("/<int:unit_id>/close")
def close(unit_id: int):
    return _change(unit_id, "已撤销", lambda v: unitadmin.close(db(), actor(), unit_id))


@bp.post("/<int:unit_id>/reopen")
def reopen(unit_id: int):
    return _change(unit_id, "已恢复", lambda v: unitadmin.reopen(db(), actor(), unit_id))


@bp.post("/import")
@accepts("diagram")
def import_file():
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise InvalidInput("请选择要导入的文件", {"file": "请选择 .csv 或 .toml 文件"})
        done = unitadmin.import_units(db(), actor(), file.filename, file.read(unitimport.MAX_BYTES + 1))
    except InvalidInput as exc:
        return _page("import", {}, exc.fields, exc.message, 422)
    flash(f"已导入 {len(done.created)} 个单位" + (f",{len(done.unchanged)} 个已有的未改动" if done.unchanged else ""),
          "success")
    return redirect(url_for("units.show_units"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
