"""A diagram's form as it is shown and checked today: who and which units may be chosen, which dates
are allowed.

The diagram says `type = user, role = 承办人`, `type = unit, level = 职能部门` and `min = today`; this
fills in the people who hold the role now, the units of that level open now and the dates those rules
name now. The same filled-in form validates the submission, so a person or unit the page did not offer
(or who left the role, or was closed, meanwhile) is refused on the server too.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import forms
from engine.people import units
from engine.store.models import User, UserRole


def role_holders(session: Session, role: str, case_unit_id: int | None = None) -> tuple[forms.Choice, ...]:
    """Active accounts holding `role`, as (username, display name), by display name: for a case, those
    holding it in the unit its steps of that role go to (`units.route`: the case's unit or the nearest
    above holding it); before there is a case (a start form), holders anywhere."""
    if case_unit_id is not None:
        return tuple(forms.Choice(*holder) for holder in units.holders_routed(session, case_unit_id, role))
    rows = session.execute(select(User.username, User.display_name).join(UserRole, UserRole.user_id == User.id)
                           .where(UserRole.role == role, User.active.is_(True))
                           .distinct().order_by(User.display_name, User.username))
    return tuple(forms.Choice(r.username, r.display_name) for r in rows)


def unit_choices(session: Session, level: str | None) -> tuple[forms.Choice, ...]:
    """The open units of `level` (every open unit without one), in tree order, as (id, name); a name
    that two of them share says whose unit it is (城管科(东岗街道))."""
    found = [u for u in units.all_units(session, include_closed=False) if level is None or u.level == level]
    counts: dict[str, int] = {}
    for u in found:
        counts[u.name] = counts.get(u.name, 0) + 1
    parents = units.names(session, {u.parent_id for u in found if counts[u.name] > 1 and u.parent_id})
    return tuple(forms.Choice(str(u.id), f"{u.name}({parents[u.parent_id]})"
                              if counts[u.name] > 1 and u.parent_id in parents else u.name) for u in found)


def checked(session: Session, form: tuple[forms.FormField, ...],
            case_unit_id: int | None = None) -> tuple[forms.FormField, ...]:
    """The form a submission is validated against (`case_unit_id`: the case's unit, when there is one)."""
    if any(f.type == "user" for f in form):
        form = forms.with_people(form, lambda role: role_holders(session, role, case_unit_id))
    if any(f.type == "unit" for f in form):
        form = forms.with_units(form, lambda level: unit_choices(session, level))
    return form


def shown(session: Session, form: tuple[forms.FormField, ...], data: Mapping[str, Any],
          case_unit_id: int | None = None) -> tuple[forms.FormField, ...]:
    """The form a page renders: people to choose from and the date picker's limits."""
    return forms.resolve_dates(checked(session, form, case_unit_id), data, clock.today())
