"""The public board (公示栏): what the procedures published, for residents, without login.

Everything shown comes from `engine.public.publications`, which only ever stores fields a designer
marked public; the views add nothing from the cases themselves. A 决议公开 in its publicity period
says how to object and takes an objection online (`engine.public.objections`), rate-limited per IP
like the residents' other forms. The receipt gives the objection's reference and follow-up code, with
which the resident reads the answer (`engine.public.objection_answers`); trying a code draws on the
same per-IP budget as following a matter.
"""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for

from engine.errors import Conflict, InvalidInput, NotFound
from engine.public import objection_answers, objections, publications

from .deps import db
from .inputs import page_number
from .limits import limiter
from .resident import PRIVATE_HEADERS, follow_limit, limit, place_chosen, qr_code

bp = Blueprint("board", __name__, url_prefix="/public/board")
PER_PAGE = 20


@bp.get("")
def list_publications():
    """The whole deployment's board; `?unit=` (the 社区 chooser, a plain GET form) goes to that unit's."""
    chosen = place_chosen()
    if chosen is not None:
        return redirect(url_for("board.unit_board", unit_id=chosen, kind=request.args.get("kind") or None))
    return _board(None)


@bp.get("/u/<int:unit_id>")
def unit_board(unit_id: int):
    """A 社区's board (a 街道's: all of its 社区), at an address that stays when the unit is renamed."""
    return _board(unit_id)


def _board(unit_id: int | None):
    kind = request.args.get("kind") or None
    if kind and kind not in publications.KINDS:
        raise InvalidInput(f"没有“{kind}”这一类公示;可选:{'、'.join(publications.KINDS)}", {"kind": "不是可选的类别"})
    found = publications.board_page(db(), kind, page_number(), PER_PAGE, unit_id)
    return render_template("board/list.html", entries=found.entries, places=found.places, kind=kind,
                           kinds=publications.KINDS)


@bp.get("/<int:publication_id>")
def show_publication(publication_id: int):
    return render_template("board/detail.html", entry=publications.publication(db(), publication_id), errors={},
                           values={})


@bp.post("/<int:publication_id>/objection")
@limiter.limit(limit("objection"))
def object_to(publication_id: int):
    values = {key: request.form.get(key, "") for key in ("name", "contact", objections.CONTENT)}
    try:
        received = objections.raise_objection(db(), publication_id, values["name"], values["contact"],
                                              values[objections.CONTENT])
    except (InvalidInput, Conflict) as exc:
        return (render_template("board/detail.html", entry=publications.publication(db(), publication_id),
                                errors=getattr(exc, "fields", {}), values=values, message=exc.message),
                exc.status, PRIVATE_HEADERS)
    link = url_for("board.show_answer", reference=received.reference, c=received.code, _external=True)
    return (render_template("board/objection_received.html", received=received, link=link,
                            qr=qr_code(link, f"异议 {received.reference} 的查询二维码")), 200, PRIVATE_HEADERS)


@bp.get("/objections")
def ask_answer():
    return render_template("board/objection_answer.html", reference=request.args.get("reference", ""))


@bp.post("/objections")
@follow_limit
def answer():
    return _answer_page(request.form.get("reference", ""), request.form.get("code", ""))


@bp.get("/objections/<reference>")
@follow_limit
def show_answer(reference: str):
    code = request.args.get("c", "")
    if not code:
        return render_template("board/objection_answer.html", reference=reference)
    return _answer_page(reference, code)


def _answer_page(reference: str, code: str):
    try:
        found = objection_answers.answer_for(db(), reference, code)
    except NotFound as exc:
        return (render_template("board/objection_answer.html", reference=reference, message=exc.message), 404,
                PRIVATE_HEADERS)
    return render_template("board/objection_answer.html", found=found), 200, PRIVATE_HEADERS


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
