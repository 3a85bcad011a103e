"""A diagram's form as it is shown and checked today: who may be chosen, which dates are allowed.

The diagram says `type = user, role = 承办人` and `min = today`; this fills in the people who hold the
role now and the dates those rules name now. The same filled-in form validates the submission, so a
person the page did not offer (or who left the role meanwhile) is refused on the server too.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.bpmn import forms
from engine.store.models import User, UserRole


def role_holders(session: Session, role: str) -> tuple[forms.Choice, ...]:
    """Active accounts holding `role`, as (username, display name), by display name."""
    rows = session.execute(select(User.username, User.display_name).join(UserRole, UserRole.user_id == User.id)
                           .where(UserRole.role == role, User.active.is_(True))
                           .order_by(User.display_name, User.username))
    return tuple(forms.Choice(r.username, r.display_name) for r in rows)


def checked(session: Session, form: tuple[forms.FormField, ...]) -> tuple[forms.FormField, ...]:
    """The form a submission is validated against."""
    if not any(f.type == "user" for f in form):
        return form
    return forms.with_people(form, lambda role: role_holders(session, role))


def shown(session: Session, form: tuple[forms.FormField, ...], data: Mapping[str, Any]) -> tuple[forms.FormField, ...]:
    """The form a page renders: people to choose from and the date picker's limits."""
    return forms.resolve_dates(checked(session, form), data, clock.today())
