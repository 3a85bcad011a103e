"""工作日历 (管理员): enter a year's 放假/调休 notice; the engine keeps it, moves the open deadlines
it changes and lists them here. Every request first makes sure this process uses the notices the
database keeps (another process may have entered one)."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from engine.errors import InvalidInput
from engine.work import calendar_days, calendar_notices

from .auth import require_login
from .deps import actor, db

bp = Blueprint("workcalendar", __name__)
bp.before_request(require_login)

_FIELDS = ("year", "days_off", "workdays")


def _page(values: dict, errors: dict | None = None, message: str | None = None, status: int = 200):
    return render_template("workcalendar/calendar.html", page=calendar_notices.calendar_page(db(), actor()),
                           values=values, errors=errors or {}, message=message), status


@bp.get("/admin/calendar")
def show_calendar():
    page = calendar_notices.calendar_page(db(), actor())
    year = request.args.get("year", "")
    notice = page.notice(int(year)) if year.isdigit() else None
    if notice is not None:
        values = {"year": str(notice.year), "days_off": notice.lines("days_off"), "workdays": notice.lines("workdays")}
    else:
        values = {"year": year if year.isdigit() else str(page.missing_years[-1]) if page.missing_years else "",
                  "days_off": "", "workdays": ""}
    return render_template("workcalendar/calendar.html", page=page, values=values, errors={}, message=None)


@bp.post("/admin/calendar")
def enter_notice():
    values = {name: request.form.get(name, "") for name in _FIELDS}
    try:
        entered = calendar_notices.enter_notice(db(), actor(), values)
    except InvalidInput as exc:
        return _page(values, exc.fields, exc.message, 422)
    flash(f"已保存 {entered.year} 年放假通知({entered.days_off} 个放假日、{entered.workdays} 个调休上班日);"
          f"重算了 {len(entered.moved)} 个期限或定时器", "success")
    return redirect(url_for("workcalendar.show_calendar") + "#moved")


def _keep_fresh() -> None:
    """Before every page and API call (not static files or the probes, which must answer
    without the database when it is down)."""
    if request.endpoint in (None, "static") or request.blueprint in ("observe", "metrics"):
        return
    calendar_days.keep_fresh(db())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_keep_fresh)
