"""The residents' side (居民服务), no login: raise a matter, follow, supplement, rate, read the procedures.

Every view parses the request and makes one engine call (engine.public.residents); the
follow-up code travels in a POST field or a `?c=` link and is checked by the engine.
Submitting, following, rating and uploading are rate-limited per IP address.
"""
from __future__ import annotations

import io

import segno
from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from engine.errors import Conflict, InvalidInput, NotFound
from engine.public import attachments, procedures_page, residents
from engine.public.attachments import AttachmentFile, Upload
from engine.work import unitpicks

from .auth import require_login
from .deps import actor, db
from . import downloads
from .inputs import accepts
from .limits import limiter

bp = Blueprint("resident", __name__, url_prefix="/public")
staff_files = Blueprint("attachments", __name__, url_prefix="/attachments")
staff_files.before_request(require_login)

DEFAULT_LIMITS = {
    "submit": "5 per minute;30 per day",
    "follow": "20 per minute;200 per day",
    "rate": "5 per minute",
    "upload": "5 per minute;30 per day",
    "objection": "5 per minute;30 per day",  # 异议 on the public board (web/board.py)
}
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def limit(name: str):
    """A limit read from the app config at request time (RESIDENT_RATE_LIMITS), so tests and sites tune it."""
    return lambda: current_app.config["RESIDENT_RATE_LIMITS"].get(name, DEFAULT_LIMITS[name])


def uploads(field: str = "files") -> list[Upload]:
    """The posted files, each read to at most one byte past the limit (enough to refuse it)."""
    return [Upload(f.filename or "", f.stream.read(attachments.MAX_BYTES + 1))
            for f in request.files.getlist(field) if f.filename or f.content_length]


def qr_code(link: str, label: str) -> Markup:
    """The link as a QR code in inline SVG (no script, no style attribute: the CSP allows it), so a
    phone camera opens it; `label` is its accessible name."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", xmldecl=False, svgns=True, omitsize=True, border=2,
                                    svgclass="qr", title=label, nl=False)
    return Markup(out.getvalue().decode("utf-8").replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 — segno escapes the title


def follow_link(number: str, code: str) -> str:
    return url_for("resident.show_follow", number=number, c=code, _external=True)


def posted() -> dict[str, str]:
    return {key: value for key, value in request.form.items() if key not in ("csrf_token", "files")}


# --- 居民服务首页: the way in for a resident ------------------------------------------

@bp.get("/")
@bp.get("")
def home():
    return render_template("public/home.html")


# --- 反映问题: submit a matter ----------------------------------------------------

@bp.get("/submit")
def show_submit():
    return render_template("resident/submit.html", form=residents.submit_form(db()), values={}, errors={})


@bp.post("/submit")
@accepts("upload")  # every file may reach the per-file limit; anything beyond is refused before it is read
@limiter.limit(limit("submit"))
def submit():
    values = posted()
    try:
        receipt = residents.submit(db(), values, uploads())
    except InvalidInput as exc:
        return render_template("resident/submit.html", form=residents.submit_form(db()), values=values,
                               errors=exc.fields, message=exc.message), 422
    link = follow_link(receipt.number, receipt.code)
    return (render_template("resident/receipt.html", receipt=receipt, link=link,
                            qr=qr_code(link, f"{receipt.number} 的查询链接二维码")), 200, PRIVATE_HEADERS)


# --- 查询进度: follow, supplement, rate -----------------------------------------------

@bp.get("/follow")
def ask_follow():
    return render_template("resident/follow_ask.html", number=request.args.get("number", ""))


# every way of trying a code draws on one budget per IP, so guessing through another door does not help
follow_limit = limiter.shared_limit(limit("follow"), scope="follow",
                                    exempt_when=lambda: request.method == "GET" and not request.args.get("c"))


@bp.post("/follow")
@follow_limit
def follow():
    return _follow_page(request.form.get("number", ""), request.form.get("code", ""))


@bp.route("/follow/<number>", methods=["GET", "POST"])
@follow_limit
def show_follow(number: str):
    code = request.form.get("code", "") if request.method == "POST" else request.args.get("c", "")
    if not code:
        return render_template("resident/follow_ask.html", number=number)
    return _follow_page(number, code)


def _follow_page(number: str, code: str, status: int = 200, **extra):
    try:
        view = residents.follow(db(), number, code)
    except NotFound as exc:
        return render_template("resident/follow_ask.html", number=number, message=exc.message), 404, PRIVATE_HEADERS
    return render_template("resident/follow.html", case=view, code=code, errors={}, **extra), status, PRIVATE_HEADERS


@bp.post("/follow/<number>/rate")
@limiter.limit(limit("rate"))
def rate(number: str):
    code = request.form.get("code", "")
    try:
        residents.rate(db(), number, code, request.form.get("rating", ""), request.form.get("rating_comment", ""))
    except (InvalidInput, Conflict) as exc:
        fields = exc.fields if isinstance(exc, InvalidInput) else {}
        return _with_problem(number, code, exc.message, fields, exc.status)
    return _follow_page(number, code, done="评价已提交,谢谢您的反馈。")


@bp.post("/follow/<number>/supplement")
@accepts("upload")
@limiter.limit(limit("upload"))
def supplement(number: str):
    code = request.form.get("code", "")
    try:
        residents.supplement(db(), number, code, request.form.get("note", ""), uploads())
    except (InvalidInput, Conflict) as exc:
        fields = exc.fields if isinstance(exc, InvalidInput) else {}
        return _with_problem(number, code, exc.message, fields, exc.status, note=request.form.get("note", ""))
    return _follow_page(number, code, done="补充材料已提交,工作人员将继续办理。")


def _with_problem(number: str, code: str, message: str, fields: dict, status: int, **kept: str):
    """The follow page again, with the message and the resident's input (a wrong code stays a 404)."""
    try:
        view = residents.follow(db(), number, code)
    except NotFound as exc:
        return render_template("resident/follow_ask.html", number=number, message=exc.message), 404, PRIVATE_HEADERS
    return (render_template("resident/follow.html", case=view, code=code, message=message, errors=fields,
                            kept=kept), status, PRIVATE_HEADERS)


@bp.get("/follow/<number>/files/<int:attachment_id>")
@follow_limit
def download(number: str, attachment_id: int):
    return send(residents.read_file(db(), number, request.args.get("c", ""), attachment_id))


@staff_files.get("/<number>/<int:attachment_id>")
def staff_download(number: str, attachment_id: int):
    return send(attachments.read_for_staff(db(), actor(), number, attachment_id))


def send(file: AttachmentFile) -> Response:
    """Always a download, with the sniffed type; the browser may neither guess nor run it."""
    response = downloads.download(file.data, file.filename, file.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers.update(PRIVATE_HEADERS)
    return response


# --- 办事公开: 固定式公开 ----------------------------------------------------------------

@bp.get("/procedures")
def show_procedures():
    """办事指南 of the whole deployment; `?unit=` (the 社区 chooser) goes to that unit's."""
    chosen = place_chosen()
    if chosen is not None:
        return redirect(url_for("resident.unit_procedures", unit_id=chosen))
    return _procedures(None)


@bp.get("/procedures/u/<int:unit_id>")
def unit_procedures(unit_id: int):
    """A 社区's 办事指南: each post with the unit it works in for that 社区's matters."""
    return _procedures(unit_id)


def _procedures(unit_id: int | None):
    found = procedures_page.page(db(), unit_id)
    return render_template("resident/procedures.html", procedures=found.procedures, places=found.places)


def place_chosen() -> int | None:
    """The unit picked in a public page's 社区 chooser (`?unit=`); None for the whole deployment."""
    return unitpicks.parse_unit_id(request.args.get("unit"), "unit", "社区")


def init_app(app: Flask) -> None:
    app.config.setdefault("RESIDENT_RATE_LIMITS", dict(DEFAULT_LIMITS))
    app.register_blueprint(bp)
    app.register_blueprint(staff_files)
