"""Publishing to the public board (公示栏) as a step completes, driven by its properties in the diagram.

A designer marks a user task with ``publishAs`` (决议公开, 实施结果公开, 集中式公示), optionally
``publishWhen`` (a condition), ``publicityDays`` (a number or an expression, e.g.
``${publicityDays}`` for the procedure's default), ``publishTitle`` and ``publishResult`` (an
expression shown as one more line, labelled ``publishResultLabel``). ``withdrawWhen`` on a
step takes down the case's publications still in their publicity period (a valid objection).
Only form fields marked ``public`` (of that step and of the start form) are ever published,
so residents' names, phones and addresses stay off the board unless a designer marks them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import sites
from engine.bpmn.diagram import Diagram, HumanStep
from engine.bpmn.forms import FormField
from engine.errors import ExpressionError
from engine.store import audit_chain
from engine.store.models import Case, Publication


@dataclass(frozen=True)
class Plan:
    """What a step's completion does to the board: withdraw the case's current publications, and/or
    publish one (`kind` None: nothing). Computing it evaluates every publishing expression of the step."""

    withdraw: bool
    kind: str | None
    title: str = ""
    body: tuple[tuple[str, str], ...] = ()
    days: int | None = None


def plan(case: Case, d: Diagram, step: HumanStep, data: dict[str, Any]) -> Plan:
    """The step's publishing, from its properties; an expression that cannot be computed stops the
    step (422, naming the step and the property). A 试运行 computes it too and publishes nothing."""
    props = step.properties
    names = {**data, **d.properties}
    value = lambda site: sites.evaluate(step.id, site, props[site], names)  # noqa: E731
    withdraw = bool(props.get("withdrawWhen")) and bool(value("withdrawWhen"))
    kind = props.get("publishAs")
    if not kind or (props.get("publishWhen") and not value("publishWhen")):
        return Plan(withdraw, None)
    body = [(f.label, _text(data.get(f.id))) for f in _public_fields(d, step) if _text(data.get(f.id))]
    if props.get("publishResult"):
        body.append((props.get("publishResultLabel") or "结果", _text(value("publishResult"))))
    days = _days(step.id, value("publicityDays")) if props.get("publicityDays") else None
    title = _text(value("publishTitle")) if props.get("publishTitle") else _title(case, d, props)
    return Plan(withdraw, kind, title[:200], tuple(body), days)


def on_step_completed(session: Session, case: Case, d: Diagram, step: HumanStep, data: dict[str, Any],
                      actor: str) -> None:
    """Publish or withdraw as the step's properties say; called inside the completing transaction."""
    todo = plan(case, d, step, data)
    if todo.withdraw:
        _withdraw(session, case, step, actor)
    if todo.kind is None:
        return
    now = clock.now()
    # a 公示期 of N days runs to 24:00 (China time) of the Nth day after the day it is published — the same
    # moment a diagram's period timer `${add_days(publicity_from, publicityDays)}` fires, so the board
    # takes online objections exactly as long as the staff's 登记异议 waits for them
    ends_at = clock.midnight(clock.today() + timedelta(days=todo.days + 1)) if todo.days else None
    row = Publication(case_id=case.id, kind=todo.kind, title=todo.title, body=[list(line) for line in todo.body],
                      step_id=step.id, published_at=now, ends_at=ends_at, withdrawn=False)
    session.add(row)
    session.flush()
    audit_chain.append(session, case.id, actor, "published", step_id=step.id, step_name=step.name, lane=step.lane,
                 data={"kind": todo.kind, "publication": row.id, "ends_at": ends_at.isoformat() if ends_at else None})


def _public_fields(d: Diagram, step: HumanStep) -> list[FormField]:
    seen: set[str] = set()
    fields = []
    for f in (*d.start_form, *step.form):
        if f.public and f.id not in seen:
            seen.add(f.id)
            fields.append(f)
    return fields


def _days(step_id: str, value: Any) -> int:
    try:
        return sites.publicity_days(value)
    except ExpressionError as exc:
        raise ExpressionError(f"“{step_id}” 的{sites.LABELS['publicityDays']}无效:{exc.message}") from None


def _title(case: Case, d: Diagram, props: dict[str, str]) -> str:
    """The case title only when its field is public; otherwise the kind and the case number."""
    title_field = d.properties.get("caseTitle", "title")
    if any(f.id == title_field and f.public for f in d.start_form) and case.title:
        return case.title
    return f"{props.get('publishAs')} {case.number}"


def _withdraw(session: Session, case: Case, step: HumanStep, actor: str) -> None:
    now = clock.now()
    for row in session.scalars(select(Publication).where(
            Publication.case_id == case.id, Publication.withdrawn.is_(False), Publication.ends_at > now)):
        row.withdrawn = True
        audit_chain.append(session, case.id, actor, "publication_withdrawn", step_id=step.id, step_name=step.name,
                     lane=step.lane, data={"kind": row.kind, "publication": row.id})


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
