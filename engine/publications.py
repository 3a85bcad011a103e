"""The public board (公示栏): what a step publishes, driven by its properties in the diagram.

A designer marks a user task with ``publishAs`` (决议公开, 实施结果公开, 集中式公示), optionally
``publishWhen`` (a condition), ``publicityDays`` (a number or an expression, e.g.
``${publicityDays}`` for the procedure's default), ``publishTitle`` and ``publishResult`` (an
expression shown as one more line, labelled ``publishResultLabel``). ``withdrawWhen`` on a
step takes down the case's publications still in their publicity period (a valid objection).
Only form fields marked ``public`` (of that step and of the start form) are ever published,
so residents' names, phones and addresses stay off the board unless a designer marks them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, clock, expressions
from .db import Database
from .diagram import Diagram, HumanStep
from .errors import ExpressionError, NotFound
from .forms import FormField
from .models import Case, DiagramVersion, Publication
from .views import Page

KINDS = ("决议公开", "实施结果公开", "集中式公示")


@dataclass(frozen=True)
class PublicationView:
    """One entry of the board, as a resident sees it."""

    id: int
    kind: str
    title: str
    body: tuple[tuple[str, str], ...]
    procedure: str
    case_number: str
    published_at: datetime
    ends_at: datetime | None
    remaining_days: int | None

    @property
    def in_publicity(self) -> bool:
        return self.remaining_days is not None and self.remaining_days > 0


def on_step_completed(session: Session, case: Case, d: Diagram, step: HumanStep, data: dict[str, Any],
                      actor: str) -> None:
    """Publish or withdraw as the step's properties say; called inside the completing transaction."""
    props = step.properties
    names = {**data, **d.properties}
    if props.get("withdrawWhen") and _holds(props["withdrawWhen"], names):
        _withdraw(session, case, step, actor)
    kind = props.get("publishAs")
    if not kind or (props.get("publishWhen") and not _holds(props["publishWhen"], names)):
        return
    body = [[f.label, _text(data.get(f.id))] for f in _public_fields(d, step) if _text(data.get(f.id))]
    if props.get("publishResult"):
        body.append([props.get("publishResultLabel") or "结果", _text(_value(props["publishResult"], names))])
    now = clock.now()
    days = _value(props["publicityDays"], names) if props.get("publicityDays") else None
    ends_at = now + timedelta(days=int(days)) if days else None
    row = Publication(case_id=case.id, kind=kind, title=_title(case, d, props, names)[:200], body=body,
                      step_id=step.id, published_at=now, ends_at=ends_at, withdrawn=False)
    session.add(row)
    session.flush()
    audit.append(session, case.id, actor, "published", step_id=step.id, step_name=step.name, lane=step.lane,
                 data={"kind": kind, "publication": row.id, "ends_at": ends_at.isoformat() if ends_at else None})


def _public_fields(d: Diagram, step: HumanStep) -> list[FormField]:
    seen: set[str] = set()
    fields = []
    for f in (*d.start_form, *step.form):
        if f.public and f.id not in seen:
            seen.add(f.id)
            fields.append(f)
    return fields


def _title(case: Case, d: Diagram, props: dict[str, str], names: dict[str, Any]) -> str:
    """The case title only when its field is public; otherwise the kind and the case number."""
    if props.get("publishTitle"):
        return _text(_value(props["publishTitle"], names))
    title_field = d.properties.get("caseTitle", "title")
    if any(f.id == title_field and f.public for f in d.start_form) and case.title:
        return case.title
    return f"{props.get('publishAs')} {case.number}"


def _withdraw(session: Session, case: Case, step: HumanStep, actor: str) -> None:
    now = clock.now()
    for row in session.scalars(select(Publication).where(
            Publication.case_id == case.id, Publication.withdrawn.is_(False), Publication.ends_at > now)):
        row.withdrawn = True
        audit.append(session, case.id, actor, "publication_withdrawn", step_id=step.id, step_name=step.name,
                     lane=step.lane, data={"kind": row.kind, "publication": row.id})


def _holds(rule: str, names: dict[str, Any]) -> bool:
    return bool(_value(rule, names))


def _value(text: str, names: dict[str, Any]) -> Any:
    try:
        return expressions.evaluate(text, names)
    except ExpressionError as exc:
        raise ExpressionError(f"公示设置无效: {exc.message}") from None


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


# --- reading the board -------------------------------------------------------------

def _remaining(ends_at: datetime | None, now: datetime) -> int | None:
    """Whole days left in the publicity period (a part day counts as a day); 0 once it ended."""
    if ends_at is None:
        return None
    return max(0, math.ceil((ends_at - now).total_seconds() / 86400))


def _view(row: Publication, number: str, procedure: str, now: datetime) -> PublicationView:
    return PublicationView(row.id, row.kind, row.title, tuple((str(k), str(v)) for k, v in row.body),
                           procedure, number, row.published_at, row.ends_at, _remaining(row.ends_at, now))


def _visible():
    return (select(Publication, Case.number, DiagramVersion.name)
            .join(Case, Case.id == Publication.case_id)
            .join(DiagramVersion, DiagramVersion.id == Case.version_id)
            .where(Publication.withdrawn.is_(False), Case.sandbox.is_(False)))


def board(db: Database, kind: str | None = None, page: int = 1, per_page: int = 20) -> Page[PublicationView]:
    """What the public board lists, newest first; withdrawn entries and sandbox cases never show."""
    page = max(1, page)
    query = _visible()
    if kind:
        query = query.where(Publication.kind == kind)
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = session.execute(query.order_by(Publication.published_at.desc(), Publication.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).all()
        now = clock.now()
        return Page(tuple(_view(p, n, name, now) for p, n, name in rows), total, page, per_page)


def publication(db: Database, publication_id: int) -> PublicationView:
    with db.read() as session:
        found = session.execute(_visible().where(Publication.id == publication_id)).first()
        if found is None:
            raise NotFound(f"公示 {publication_id} 不存在或已撤回")
        return _view(*found, clock.now())


def of_case(db: Database, case_number: str, include_withdrawn: bool = False) -> list[PublicationView]:
    """A case's publications, oldest first (for staff pages and tests)."""
    query = (select(Publication, Case.number, DiagramVersion.name).join(Case, Case.id == Publication.case_id)
             .join(DiagramVersion, DiagramVersion.id == Case.version_id).where(Case.number == case_number))
    if not include_withdrawn:
        query = query.where(Publication.withdrawn.is_(False))
    with db.read() as session:
        now = clock.now()
        return [_view(p, n, name, now) for p, n, name in session.execute(query.order_by(Publication.id))]
