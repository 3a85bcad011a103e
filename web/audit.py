"""The auditors' side (审计), read-only: case search, the trace of a case, chain verification,
case bundles, event-log export and statistics. Role 审计 or 管理员 only; every view checks it
through the engine call it makes."""
from __future__ import annotations

import json
import os

from flask import Blueprint, Flask, current_app, render_template, request

from engine.audit import csvfile, export, search, statistics, trace, verify
from engine.errors import InvalidInput
from engine.people import accounts, unitadmin
from engine.people.oversight import require_auditor

from .auth import require_login
from .deps import actor, db
from .downloads import download
from .inputs import page_number

bp = Blueprint("audit", __name__, url_prefix="/audit")
bp.before_request(require_login)


@bp.before_request
def only_auditors():
    require_auditor(actor())


def _query() -> tuple[search.CaseQuery, dict[str, str]]:
    """The search of the request; a bad field is shown next to the form, nothing else is searched."""
    try:
        return search.parse_query(request.args), {}
    except InvalidInput as exc:
        return search.CaseQuery(), exc.fields


@bp.get("/")
def search_cases():
    q, errors = _query()
    found = search.search(db(), actor(), q, page_number())
    return render_template("audit/search.html", q=q, found=found, errors=errors,
                           choices=search.choices(db(), actor())), 422 if errors else 200


@bp.get("/cases/<number>")
def show_trace(number: str):
    t = trace.get_trace(db(), actor(), number)
    step = request.args.get("step", "")
    shown = [e for e in t.timeline if e.step_id == step] if step else list(t.timeline)
    return render_template("audit/trace.html", t=t, step=step, timeline=shown)


@bp.get("/cases/<number>/bundle.json")
def download_bundle(number: str):
    bundle = verify.case_bundle(db(), actor(), number)
    return download(json.dumps(bundle, ensure_ascii=False, indent=1), f"{number}-audit.json", "application/json")


@bp.get("/accounts")
def account_changes():
    username = request.args.get("username", "").strip()[:64]
    return render_template("audit/accounts.html", username=username,
                           changes=accounts.account_changes(db(), actor(), username))


@bp.get("/units")
def unit_changes():
    return render_template("audit/units.html", changes=unitadmin.unit_changes(db(), actor()))


@bp.get("/verify")
def verify_chains():
    return render_template("audit/verify.html", verdict=verify.chain_status(db(), actor()))


@bp.get("/export.<fmt>")
def export_log(fmt: str):
    q, errors = _query()
    if errors:
        raise InvalidInput("筛选条件有误,未导出", errors)
    body = export.export_log(db(), actor(), q, fmt)
    return download(body, f"minyi-events.{fmt}", "text/csv" if fmt == "csv" else "application/xml")


def basic_weight() -> float:
    """基本满意's weight in 满意率: app config, else MINYI_BASIC_SATISFIED_WEIGHT, else 0.9."""
    value = current_app.config.get("BASIC_SATISFIED_WEIGHT", os.environ.get("MINYI_BASIC_SATISFIED_WEIGHT", 0.9))
    try:
        weight = float(value)
    except (TypeError, ValueError):
        weight = 0.9
    return min(max(weight, 0.0), 1.0)


@bp.get("/statistics")
def show_statistics():
    q, errors = _query()
    s = statistics.statistics(db(), actor(), q, basic_weight())
    return render_template("audit/statistics.html", s=s, q=q, errors=errors), 422 if errors else 200


TABLES = {
    "channel": ("受理渠道", "by_channel"), "kind": ("办理方式", "by_kind"), "topic": ("事项类别", "by_topic"),
    "status": ("状态", "by_status"), "person": ("办理人", "by_person"), "role": ("角色", "by_role"),
    "stage": ("阶段", "decision_stages"), "publication": ("公开类别", "publications"),
}


@bp.get("/statistics/<table>.csv")
def statistics_csv(table: str):
    q, errors = _query()
    if errors:
        raise InvalidInput("筛选条件有误,未导出", errors)
    s = statistics.statistics(db(), actor(), q, basic_weight())
    if table == "handling":
        header = ("办理方式", "办结件数", "平均办理时长(小时)", "P90 办理时长(小时)")
        rows = [(k.kind, k.cases, k.average_hours, k.p90_hours) for k in s.handling]
    elif table == "overdue":
        header = ("受理编号", "步骤", "角色", "办理期限", "完成时间", "办理人")
        rows = [(o.case_number, o.step_name, o.lane, o.due_at.isoformat(),
                 o.completed_at.isoformat() if o.completed_at else "", o.person or "") for o in s.overdue]
    elif table == "rates":
        header = ("指标", "分子", "分母", "比率")
        rows = [(label, rate.numerator, rate.denominator, "" if rate.value is None else f"{rate.value:.4f}")
                for label, rate in rates(s)]
    elif table in TABLES:
        label, attr = TABLES[table]
        header, rows = (label, "数量"), getattr(s, attr)
    else:
        raise InvalidInput(f"没有统计表 “{table}”", {"table": "未知的统计表"})
    return download(csvfile.csv_bytes(header, rows), f"minyi-{table}.csv", "text/csv")


def rates(s: statistics.Statistics) -> list[tuple[str, statistics.Rate]]:
    return [("按时办结率", s.on_time), ("满意率(满意+基本满意)", s.satisfaction), ("响应率", s.response),
            ("解决率", s.resolution), (f"满意率(基本满意按 {s.basic_weight:g} 计)", s.weighted_satisfaction),
            ("表决通过率", s.votes_passed)]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_global(rates, "audit_rates")
