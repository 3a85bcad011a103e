"""The public board (公示栏): what the procedures published, for residents, without login.

Everything shown comes from `engine.public.publications`, which only ever stores fields a designer
marked public; the views add nothing from the cases themselves. A 决议公开 in its publicity period
says how to object and takes an objection online (`engine.public.objections`), rate-limited per IP
like the residents' other forms.
"""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, url_for

from engine.errors import Conflict, InvalidInput
from engine.public import objections, publications

from .deps import db
from .inputs import page_number
from .limits import limiter
from .resident import PRIVATE_HEADERS, limit, place_chosen

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
    return render_template("board/objection_received.html", received=received), 200, PRIVATE_HEADERS


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
