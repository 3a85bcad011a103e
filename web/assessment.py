"""考核 (rankings of units): the figures of the units at one level for one period, drill-down to the
units below, 四单 积旗 and the results of 社区评议街道, with CSV downloads and a print layout. For
auditors, 管理员, 上级部门 and 社区负责人, within the units they hold those roles in (the engine checks)."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template, request

from engine.audit import assessment, csvfile, flags, periods, rankings
from engine.errors import InvalidInput

from .auth import require_login
from .deps import actor, db
from .downloads import download
from .inputs import id_value

bp = Blueprint("assessment", __name__, url_prefix="/assessment")
bp.before_request(require_login)


def _choices() -> tuple[periods.Period, dict[str, str]]:
    """The period asked for; a bad one is named next to the chooser and the current month shown."""
    try:
        return periods.parse(request.args.get("period")), {}
    except InvalidInput as exc:
        return periods.current(), exc.fields


def _args() -> dict:
    return {"unit_id": id_value(request.args, "unit"), "level": request.args.get("level", "").strip()[:32],
            "sort": request.args.get("sort", "").strip()[:32] or "satisfaction"}


@bp.get("/")
def show_rankings():
    period, errors = _choices()
    page = assessment.assessment(db(), actor(), period, **_args())
    return render_template("assessment/rankings.html", a=page, r=page.ranking, f=page.flags, errors=errors,
                           figures=rankings.FIGURES, rates=rankings.RATES), 422 if errors else 200


@bp.get("/ranking.csv")
def ranking_csv():
    period, errors = _choices()
    if errors:
        raise InvalidInput("考核期有误,未导出", errors)
    r = rankings.ranking(db(), actor(), period, **_args())
    header, rows = rankings.csv_table(r)
    return download(csvfile.csv_bytes(header, rows), f"考核排名-{r.level or '单位'}-{period.key}.csv", "text/csv")


@bp.get("/flags.csv")
def flags_csv():
    period, errors = _choices()
    if errors:
        raise InvalidInput("考核期有误,未导出", errors)
    f = flags.flags(db(), actor(), period, id_value(request.args, "unit"))
    rows = [(g.rank, g.name, "网格", g.grid, g.flags, "通报" if g in f.named else "") for g in f.grids]
    rows += [(s.rank, s.name, "包保单位", s.grid, s.flags, "报请上级处理" if s.name in f.report_up else "")
             for s in f.sponsors]
    return download(csvfile.csv_bytes(("名次", "单位", "类别", "网格", "红旗数", "处理"), rows),
                    f"四单积旗-{period.key}.csv", "text/csv")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
